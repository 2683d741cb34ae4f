//! Taking data away (Data rules, "Erasure"): deleting a response removes it and corrects every
//! count as if it had never been; erasing a respondent removes their identity and everything
//! personal in their responses, while their closed answers stay as anonymous data, so every
//! unfiltered figure is the same before and after.
use entity::{
    answer, form_counter, idempotency_key, respondent, respondent_attribute_value, response, response_attribute,
};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use serde_json::json;

use super::{ResponseStatus, answers_of, store};
use crate::{
    auth::Tenant,
    db::Db,
    error::{AppError, AppResult},
    ids::{NodeKind, global},
    service::{
        event::{self, Event, EventType, Publisher},
        report::tally,
    },
};

/// Deletes a response of the tenant's organization with its answers; every count it added is
/// taken away (and the quota counter, for a completed one), in one transaction.
pub async fn delete(
    db: &Db,
    events: &Publisher,
    now: chrono::DateTime<chrono::Utc>,
    tenant: Tenant,
    id: Uuid,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let row = store::lock(&txn, id)
        .await?
        .filter(|r| r.organization_id == tenant.organization_id)
        .ok_or_else(|| AppError::not_found("response"))?;
    let answers = answers_of(&txn, vec![id]).await?.remove(&id).unwrap_or_default();
    let zone = tally::zone_of_form(&txn, row.form_id)
        .await?
        .unwrap_or(chrono_tz::Tz::UTC);
    if !tally::take_pending(&txn, &row).await? {
        tally::apply(&txn, row.form_id, zone, &tally::contribution_of(&row, &answers)?, -1).await?;
    }
    crate::service::report::segment::take_away(&txn, &row, answers, zone).await?;
    if crate::service::response::status_of(&row)? == ResponseStatus::Completed {
        form_counter::Entity::update_many()
            .col_expr(
                form_counter::Column::Completed,
                Expr::col(form_counter::Column::Completed).sub(1i64),
            )
            .filter(form_counter::Column::FormId.eq(row.form_id))
            .exec(&txn)
            .await?;
    }
    store::delete_answers(&txn, id, None).await?;
    response_attribute::Entity::delete_many()
        .filter(response_attribute::Column::OrganizationId.eq(row.organization_id))
        .filter(response_attribute::Column::ResponseId.eq(id))
        .exec(&txn)
        .await?;
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.eq(format!("response:{id}")))
        .exec(&txn)
        .await?;
    response::Entity::delete_by_id(id).exec(&txn).await?;
    let data = json!({ "response": {
        "id": global(NodeKind::Response, id),
        "formId": global(NodeKind::Form, row.form_id),
    }});
    let change = event::record(
        &txn,
        Event::new(now, row.organization_id, EventType::ResponseDeleted, id, data).of_form(row.form_id),
    )
    .await?;
    txn.commit().await?;
    events.committed(&[change]).await;
    Ok(())
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub responses: u64,
}

/// Erases a respondent of the tenant's organization: the respondent and their attributes go;
/// their responses lose the link to them, every text answer (open texts, emails, phones,
/// "other" texts, hidden fields), the address hash, location, user agent and device id.
/// Closed answers stay, so tallies do not change (only the forms' freshness stamps move, as
/// their open-text lists change).
pub async fn erase_respondent(
    db: &Db,
    events: &Publisher,
    now: chrono::DateTime<chrono::Utc>,
    tenant: Tenant,
    id: Uuid,
) -> AppResult<Erased> {
    let txn = db.begin_write().await?;
    let erased = respondent::Entity::find_by_id(id)
        .filter(respondent::Column::OrganizationId.eq(tenant.organization_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("respondent"))?;
    let responses: Vec<(Uuid, Uuid)> = response::Entity::find()
        .select_only()
        .column(response::Column::Id)
        .column(response::Column::FormId)
        .filter(response::Column::OrganizationId.eq(tenant.organization_id))
        .filter(response::Column::RespondentId.eq(id))
        .into_tuple()
        .all(&txn)
        .await?;
    let ids: Vec<Uuid> = responses.iter().map(|(r, _)| *r).collect();
    for part in ids.chunks(500) {
        // An erased text stays as an empty text: the answer (and an "other" choice) still
        // counts, its words are gone.
        answer::Entity::update_many()
            .col_expr(answer::Column::TextValue, Expr::value(""))
            .col_expr(answer::Column::SearchText, Expr::value(Option::<String>::None))
            .filter(answer::Column::ResponseId.is_in(part.to_vec()))
            .filter(answer::Column::TextValue.is_not_null())
            .exec(&txn)
            .await?;
        response::Entity::update_many()
            .col_expr(response::Column::RespondentId, Expr::value(Option::<Uuid>::None))
            .col_expr(response::Column::IpHash, Expr::value(Option::<String>::None))
            .col_expr(response::Column::Latitude, Expr::value(Option::<f64>::None))
            .col_expr(response::Column::Longitude, Expr::value(Option::<f64>::None))
            .col_expr(response::Column::UserAgent, Expr::value(Option::<String>::None))
            .col_expr(response::Column::DeviceId, Expr::value(Option::<String>::None))
            .col_expr(response::Column::LimitKey, Expr::value(Option::<String>::None))
            // A partner syncing by `updatedSince` sees the erasure.
            .col_expr(response::Column::UpdatedAt, Expr::value(now))
            .filter(response::Column::Id.is_in(part.to_vec()))
            .exec(&txn)
            .await?;
    }
    let mut forms: Vec<Uuid> = responses.iter().map(|(_, f)| *f).collect();
    forms.sort();
    forms.dedup();
    for form_id in forms {
        tally::apply(&txn, form_id, chrono_tz::Tz::UTC, &[], 1).await?;
    }
    respondent_attribute_value::Entity::delete_many()
        .filter(respondent_attribute_value::Column::RespondentId.eq(id))
        .exec(&txn)
        .await?;
    respondent::Entity::delete_by_id(id)
        .filter(respondent::Column::OrganizationId.eq(tenant.organization_id))
        .exec(&txn)
        .await?;
    let data = json!({
        "respondent": {
            "id": global(NodeKind::Respondent, id),
            "externalId": erased.external_id,
        },
        "responses": ids.len(),
    });
    let change = event::record(
        &txn,
        Event::new(now, tenant.organization_id, EventType::RespondentErased, id, data),
    )
    .await?;
    txn.commit().await?;
    events.committed(&[change]).await;
    Ok(Erased {
        responses: ids.len() as u64,
    })
}
