//! Reports: a form's figures read from its tallies ([`tally`]) and cached, open-text answers,
//! and saved report definitions.
//!
//! Caching: a result is cached under the form's freshness stamp, read from the database on
//! every request (a sum over a few rows). Every write that changes a form's responses moves
//! the stamp in its own transaction, so a report asked for after a submission was acknowledged
//! includes it, and a cache that was unreachable while changes happened can never serve an
//! older result when it comes back: that result is under an older stamp. Results are kept in
//! this process (concurrent requests for a missing one wait for a single computation) and in
//! the shared cache (Redis when configured) for the other instances; when Redis fails, reports
//! are computed, never refused. Open texts (personal data) are never cached.
use crate::codes::ProblemCode;
pub mod tally;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{answer, form, report};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    now,
    page::{self, Page, PageRequest},
};
use crate::{
    app::AppState,
    auth::Tenant,
    error::{AppError, AppResult},
    form::{Problem, model::FormDef},
    report::figures::{FormFigures, figures},
};

/// How long a computed result stays in the shared cache (a newer stamp replaces it sooner).
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// Most forms in one saved report.
pub const MAX_FORMS: usize = 50;

/// Results computed in this process, by cache key.
#[derive(Clone)]
pub struct ReportCache(moka::future::Cache<String, Arc<FormFigures>>);

impl Default for ReportCache {
    fn default() -> Self {
        ReportCache(
            moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        )
    }
}

/// A period of local days, either end open.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    /// Checks the order of the ends; `field` names the input.
    pub fn check(self, field: &str) -> AppResult<Period> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(AppError::problem(Problem::new(
                format!("{field}.from"),
                ProblemCode::RangeInverted,
                "`from` is after `to`",
            )));
        }
        Ok(self)
    }
}

/// The version a form's report describes: the published one, else the draft.
async fn version_of(state: &AppState, form: &form::Model) -> AppResult<Option<(Uuid, Arc<FormDef>)>> {
    let conn = state.db.conn();
    if let Some(id) = form.published_version_id {
        return Ok(Some((id, state.versions.get(conn, form.id, id, "id").await?)));
    }
    let Some(id) = form.draft_version_id else {
        return Ok(None);
    };
    let version = super::form::version(conn, Tenant::trusted(form.organization_id), id).await?;
    Ok(Some((
        id,
        Arc::new(super::form::store::load_def(conn, &version).await?),
    )))
}

/// A form's figures over `period`, from its tallies, cached under its freshness stamp.
pub async fn form_figures(state: &AppState, form: &form::Model, period: Period) -> AppResult<Arc<FormFigures>> {
    let conn = state.db.conn();
    let stamp = tally::stamp(conn, form.id).await?;
    let Some((version, def)) = version_of(state, form).await? else {
        return Ok(Arc::new(figures(
            &FormDef::new(Vec::new(), Default::default()),
            &Vec::new(),
        )));
    };
    if form.published_version_id.is_none() {
        // A draft changes without a stamp; it has no responses to count anyway.
        let counts = tally::counts_between(conn, form.id, period.from, period.to).await?;
        return Ok(Arc::new(figures(&def, &counts)));
    }
    let key = format!(
        "report:3:{}:{}:{}:{}:{stamp}",
        form.id,
        version,
        period.from.map_or(String::new(), |d| d.to_string()),
        period.to.map_or(String::new(), |d| d.to_string()),
    );
    let compute = async {
        if let Some(bytes) = state.cache.get(&key).await
            && let Ok(cached) = serde_json::from_slice::<FormFigures>(&bytes)
        {
            return Ok(Arc::new(cached));
        }
        let counts = tally::counts_between(conn, form.id, period.from, period.to).await?;
        let result = figures(&def, &counts);
        if let Ok(bytes) = serde_json::to_vec(&result) {
            state.cache.set(&key, &bytes, CACHE_TTL).await;
        }
        Ok::<_, AppError>(Arc::new(result))
    };
    state
        .reports
        .0
        .try_get_with(key.clone(), compute)
        .await
        .map_err(|err| (*err).clone())
}

/// Rebuilds the counts of every form of an organization in its (new) time zone, a form at a
/// time; failures are logged (a later change of zone, or a restart of the rebuild, repairs
/// them).
pub async fn rebuild_organization(db: crate::db::Db, tenant: Tenant, zone: String) {
    let forms: Result<Vec<Uuid>, sea_orm::DbErr> = {
        use sea_orm::QuerySelect;
        form::Entity::find()
            .select_only()
            .column(form::Column::Id)
            .filter(form::Column::OrganizationId.eq(tenant.organization_id))
            .into_tuple()
            .all(db.conn())
            .await
    };
    let forms = match forms {
        Ok(forms) => forms,
        Err(err) => {
            tracing::error!(error = %err, "could not list forms to rebuild their counts");
            return;
        }
    };
    let zone = tally::zone(&zone);
    for form_id in forms {
        if let Err(err) = tally::rebuild(&db, form_id, zone).await {
            tracing::error!(form = %form_id, error = ?err, "could not rebuild a form's counts");
        }
    }
}

/// One open-text answer.
#[derive(Clone, Debug)]
pub struct OpenText {
    pub response_id: Uuid,
    pub text: String,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Open-text answers to a question of a form, of completed responses, in response order;
/// `search` matches every word with the Persian normalisation. Erased texts are left out.
pub async fn open_texts(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    key: &str,
    search: Option<&str>,
    period: Period,
    zone: chrono_tz::Tz,
    request: PageRequest,
) -> AppResult<Page<OpenText>> {
    let mut select = answer::Entity::find()
        .filter(answer::Column::FormId.eq(form_id))
        .filter(answer::Column::QuestionKey.eq(key))
        .filter(answer::Column::CompletedAt.is_not_null())
        .filter(answer::Column::SearchText.is_not_null());
    if let Some(search) = search.filter(|s| !s.trim().is_empty()) {
        select = select.filter(page::words_in(answer::Column::SearchText, search));
    }
    let midnight = |day: NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(zone).earliest())
            .map(|t| t.to_utc())
    };
    if let Some(from) = period.from.and_then(midnight) {
        select = select.filter(answer::Column::CompletedAt.gte(from));
    }
    if let Some(end) = period.to.and_then(|d| d.succ_opt()).and_then(midnight) {
        select = select.filter(answer::Column::CompletedAt.lt(end));
    }
    let page = page::fetch(conn, select, page::Order::by_id(answer::Column::ResponseId), request).await?;
    Ok(page.map(|row| OpenText {
        response_id: row.response_id,
        text: row.text_value.unwrap_or_default(),
        completed_at: row.completed_at,
    }))
}

/// What a saved report shows.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub forms: Vec<Uuid>,
    /// The metrics front ends show, in order (names of `ReportMetric`).
    pub metrics: Vec<String>,
    #[serde(default)]
    pub period: Period,
}

pub fn definition_of(row: &report::Model) -> AppResult<Definition> {
    serde_json::from_str(&row.definition).map_err(|e| AppError::internal("stored report definition", e))
}

async fn check_definition(conn: &impl ConnectionTrait, tenant: Tenant, definition: &Definition) -> AppResult<()> {
    if definition.forms.is_empty() || definition.forms.len() > MAX_FORMS {
        return Err(AppError::bad_input("input.formIds", format!("1 to {MAX_FORMS} forms")));
    }
    for (i, id) in definition.forms.iter().enumerate() {
        if definition.forms[..i].contains(id) {
            return Err(AppError::bad_input(format!("input.formIds[{i}]"), "listed twice"));
        }
        match super::form::get(conn, tenant, *id).await {
            Ok(_) => {}
            Err(AppError::NotFound(_)) => {
                return Err(AppError::refused(
                    crate::error::code::NOT_FOUND,
                    Some(&format!("input.formIds[{i}]")),
                    "form not found",
                ));
            }
            Err(err) => return Err(err),
        }
    }
    definition.period.check("input.period")?;
    Ok(())
}

fn scoped(tenant: Tenant) -> sea_orm::Select<report::Entity> {
    report::Entity::find().filter(report::Column::OrganizationId.eq(tenant.organization_id))
}

pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<report::Model> {
    scoped(tenant)
        .filter(report::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("report"))
}

pub async fn list(conn: &impl ConnectionTrait, tenant: Tenant, request: PageRequest) -> AppResult<Page<report::Model>> {
    page::fetch(conn, scoped(tenant), page::Order::by_id(report::Column::Id), request).await
}

pub async fn create(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    name: &str,
    definition: Definition,
) -> AppResult<report::Model> {
    let name = super::validate::name(name, "input.name")?;
    check_definition(conn, tenant, &definition).await?;
    let at = now();
    Ok(report::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(tenant.organization_id),
        name: Set(name),
        definition: Set(serde_json::to_string(&definition).map_err(|e| AppError::internal("report definition", e))?),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?)
}

pub async fn update(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    id: Uuid,
    name: Option<&str>,
    change: impl FnOnce(&mut Definition),
) -> AppResult<report::Model> {
    let row = get(conn, tenant, id).await?;
    let mut definition = definition_of(&row)?;
    change(&mut definition);
    check_definition(conn, tenant, &definition).await?;
    let mut model = row.into_active_model();
    if let Some(name) = name {
        model.name = Set(super::validate::name(name, "input.name")?);
    }
    model.definition = Set(serde_json::to_string(&definition).map_err(|e| AppError::internal("report definition", e))?);
    model.updated_at = Set(now());
    Ok(model.update(conn).await?)
}

pub async fn delete(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<()> {
    get(conn, tenant, id).await?;
    report::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}
