//! Responses: how they are taken ([`submit`]: start, save, complete, single-shot submit, staff
//! recordings, under idempotency keys ([`idempotency`])) and read back with their typed answers.
use crate::codes::ProblemCode;
pub mod idempotency;
pub mod remove;
pub mod rules;
pub mod store;
pub mod submit;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{answer, answer_choice, response};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::page::{self, Page, PageRequest};
use crate::{
    auth::Tenant,
    error::{AppError, AppResult},
    form::{
        answer::{Checked, Chosen},
        kind::QuestionKind,
    },
};

pub use crate::form::response::{Channel, ResponseStatus};

/// A stored response's status.
pub fn status_of(row: &response::Model) -> AppResult<ResponseStatus> {
    ResponseStatus::parse(&row.status)
        .ok_or_else(|| AppError::Internal(format!("unknown response status {}", row.status)))
}

/// The stored answers of responses, by response: two queries.
pub async fn answers_of(
    conn: &impl ConnectionTrait,
    response_ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, Vec<Checked>>> {
    let mut out: HashMap<Uuid, Vec<Checked>> = HashMap::new();
    if response_ids.is_empty() {
        return Ok(out);
    }
    let rows = answer::Entity::find()
        .filter(answer::Column::ResponseId.is_in(response_ids.clone()))
        .all(conn)
        .await?;
    let choices = answer_choice::Entity::find()
        .filter(answer_choice::Column::ResponseId.is_in(response_ids))
        .all(conn)
        .await?;
    let mut chosen: HashMap<(Uuid, String), Vec<Chosen>> = HashMap::new();
    for row in choices {
        chosen
            .entry((row.response_id, row.question_key))
            .or_default()
            .push(Chosen {
                value: row.value,
                score: row.score,
            });
    }
    for row in rows {
        let kind = QuestionKind::parse(&row.kind)
            .ok_or_else(|| AppError::Internal(format!("unknown stored answer kind {}", row.kind)))?;
        let choices = chosen
            .remove(&(row.response_id, row.question_key.clone()))
            .unwrap_or_default();
        out.entry(row.response_id).or_default().push(Checked {
            key: row.question_key,
            kind,
            number: row.number_value,
            text: row.text_value,
            date: row.date_value,
            boolean: row.bool_value,
            choices,
            score: row.score,
        });
    }
    Ok(out)
}

/// A response of the tenant's organization.
pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<response::Model> {
    response::Entity::find_by_id(id)
        .filter(response::Column::OrganizationId.eq(tenant.organization_id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("response"))
}

/// Which responses of a form a list holds, and in what order.
#[derive(Debug, Default)]
pub struct ResponseFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<ResponseStatus>,
    /// Completed at or after this time.
    pub completed_after: Option<DateTime<Utc>>,
    /// Completed before this time.
    pub completed_before: Option<DateTime<Utc>>,
    /// Started, saved, completed or erased at or after this time: what changed since a
    /// partner's last sync.
    pub updated_since: Option<DateTime<Utc>>,
    pub sort: page::Sort,
}

/// Responses of a form that pass `filter`, in its order.
pub async fn list(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    form_id: Uuid,
    filter: ResponseFilter,
    request: PageRequest,
) -> AppResult<Page<response::Model>> {
    let mut select = response::Entity::find()
        .filter(response::Column::OrganizationId.eq(tenant.organization_id))
        .filter(response::Column::FormId.eq(form_id));
    if !filter.statuses.is_empty() {
        select = select.filter(response::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(after) = filter.completed_after {
        select = select.filter(response::Column::CompletedAt.gte(after));
    }
    if let Some(before) = filter.completed_before {
        select = select.filter(response::Column::CompletedAt.lt(before));
    }
    if let Some(since) = filter.updated_since {
        select = select.filter(response::Column::UpdatedAt.gte(since));
    }
    let order = filter.sort.order(response::Column::Id, response::Column::UpdatedAt);
    page::fetch(conn, select, order, request).await
}

/// Responses by id, whatever their organization (callers have checked access).
pub async fn by_ids(conn: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<Vec<response::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(response::Entity::find()
        .filter(response::Column::Id.is_in(ids))
        .order_by_asc(response::Column::Id)
        .all(conn)
        .await?)
}

/// Most respondents invited in one call.
pub const MAX_INVITATIONS: usize = 1_000;

/// Signed invitation tokens binding each respondent to a form of the tenant's organization,
/// valid until `expires_at` (if given), in the order of `respondent_ids`.
pub async fn invite(
    conn: &impl ConnectionTrait,
    signer: &crate::auth::Signer,
    tenant: Tenant,
    form_id: Uuid,
    respondent_ids: Vec<Uuid>,
    (expires_at, now): (Option<chrono::DateTime<chrono::Utc>>, chrono::DateTime<chrono::Utc>),
) -> AppResult<Vec<(Uuid, String)>> {
    use crate::{error::code, form::Problem};
    crate::service::form::get(conn, tenant, form_id).await?;
    if respondent_ids.is_empty() || respondent_ids.len() > MAX_INVITATIONS {
        return Err(AppError::bad_input(
            "input.respondentIds",
            format!("1 to {MAX_INVITATIONS} respondents"),
        ));
    }
    if expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::problem(Problem::new(
            "input.expiresAt",
            ProblemCode::OutOfRange,
            "an expiry must be in the future",
        )));
    }
    let known: std::collections::HashSet<Uuid> = entity::respondent::Entity::find()
        .filter(entity::respondent::Column::OrganizationId.eq(tenant.organization_id))
        .filter(entity::respondent::Column::Id.is_in(respondent_ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if let Some(i) = respondent_ids.iter().position(|id| !known.contains(id)) {
        return Err(AppError::refused(
            code::NOT_FOUND,
            Some(&format!("input.respondentIds[{i}]")),
            "respondent not found",
        ));
    }
    Ok(respondent_ids
        .into_iter()
        .map(|id| (id, signer.invitation(form_id, id, expires_at)))
        .collect())
}
