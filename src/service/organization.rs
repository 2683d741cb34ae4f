//! Organizations: the tenants.
use entity::organization;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set};

use super::{now, validate};
use crate::{
    auth::Tenant,
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

/// Renames the organization or changes its time zone.
pub async fn update(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    changes: OrganizationChanges,
) -> AppResult<organization::Model> {
    let current = get(conn, tenant).await?;
    let mut model = current.into_active_model();
    if let Some(name) = changes.name {
        model.name = Set(validate::name(&name, "input.name")?);
    }
    if let Some(tz) = changes.time_zone {
        model.time_zone = Set(validate::time_zone(&tz, "input.timeZone")?);
    }
    model.updated_at = Set(now());
    Ok(model.update(conn).await?)
}
