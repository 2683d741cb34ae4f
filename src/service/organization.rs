//! Organizations: the tenants.
use entity::organization;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set};

use super::validate;
use crate::{
    auth::Tenant,
    clock::Clock,
    db::Db,
    error::{AppError, AppResult},
};

/// The caller's organization.
pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(tenant.organization_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))
}

/// Changes to an organization; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub time_zone: Option<String>,
}

/// Renames the organization or changes its time zone. A new zone moves every response to its
/// new local day: a durable rebuild of every form's counts is enqueued in the same
/// transaction (the caller wakes the job runner after it returns).
pub async fn update(
    db: &Db,
    clock: &Clock,
    tenant: Tenant,
    changes: OrganizationChanges,
) -> AppResult<organization::Model> {
    let txn = db.begin_write().await?;
    let current = get(&txn, tenant).await?;
    let zone_before = current.time_zone.clone();
    let mut model = current.into_active_model();
    if let Some(name) = changes.name {
        model.name = Set(validate::name(&name, "input.name")?);
    }
    if let Some(tz) = changes.time_zone {
        model.time_zone = Set(validate::time_zone(&tz, "input.timeZone")?);
    }
    let at = clock.now();
    model.updated_at = Set(at);
    let after = model.update(&txn).await?;
    if after.time_zone != zone_before {
        super::report::rebuild_organization(&txn, at, tenant).await?;
    }
    txn.commit().await?;
    Ok(after)
}
