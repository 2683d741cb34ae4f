//! A respondent's history: their responses across forms, with the NPS and CSAT each gave.
use std::collections::HashMap;

use entity::response;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::Reads;
use crate::{
    auth::Tenant,
    error::AppResult,
    form::{kind::Metric, response::ResponseStatus},
};

/// Most responses a history lists (the most recent).
pub const MAX_RESPONSES: u64 = 500;

/// One response of a respondent.
#[derive(Clone, Debug)]
pub struct Entry {
    pub response: response::Model,
    /// The answer to its form's NPS question, if any.
    pub nps: Option<f64>,
    /// The answer to its form's CSAT question, if any.
    pub csat: Option<f64>,
}

/// A respondent's responses, most recent first.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub entries: Vec<Entry>,
    pub started: u64,
    pub completed: u64,
    pub disqualified: u64,
    pub in_progress: u64,
}

impl History {
    /// The most recent completed response that answered NPS, and its answer.
    pub fn latest_nps(&self) -> Option<(&Entry, f64)> {
        self.entries
            .iter()
            .filter(|e| e.response.status == ResponseStatus::Completed.as_str())
            .find_map(|e| Some((e, e.nps?)))
    }

    /// The most recent completed response that answered CSAT, and its answer.
    pub fn latest_csat(&self) -> Option<(&Entry, f64)> {
        self.entries
            .iter()
            .filter(|e| e.response.status == ResponseStatus::Completed.as_str())
            .find_map(|e| Some((e, e.csat?)))
    }
}

/// The respondent's responses (of the tenant's organization), most recent first, with their
/// NPS and CSAT answers (read through each version's marked questions).
pub async fn history(state: &Reads<'_>, tenant: Tenant, respondent_id: Uuid) -> AppResult<History> {
    let conn = state.db.conn();
    let rows = response::Entity::find()
        .filter(response::Column::OrganizationId.eq(tenant.organization_id))
        .filter(response::Column::RespondentId.eq(respondent_id))
        .order_by_desc(response::Column::StartedAt)
        .order_by_desc(response::Column::Id)
        .all(conn)
        .await?;
    let mut out = History::default();
    for row in &rows {
        out.started += 1;
        match crate::service::response::status_of(row)? {
            ResponseStatus::Completed => out.completed += 1,
            ResponseStatus::Disqualified => out.disqualified += 1,
            ResponseStatus::InProgress => out.in_progress += 1,
        }
    }
    let listed: Vec<response::Model> = rows.into_iter().take(MAX_RESPONSES as usize).collect();
    let mut answers = crate::service::response::answers_of(conn, listed.iter().map(|r| r.id).collect()).await?;
    let mut defs: HashMap<Uuid, std::sync::Arc<crate::form::model::FormDef>> = HashMap::new();
    for row in listed {
        let def = match defs.get(&row.version_id) {
            Some(def) => def.clone(),
            None => {
                let def = state.versions.get(conn, row.form_id, row.version_id, "id").await?;
                defs.insert(row.version_id, def.clone());
                def
            }
        };
        let given = answers.remove(&row.id).unwrap_or_default();
        let metric = |m: Metric| {
            let (_, question) = def.metric_questions().into_iter().find(|(x, _)| *x == m)?;
            given.iter().find(|a| a.key == question.key)?.number
        };
        out.entries.push(Entry {
            nps: metric(Metric::Nps),
            csat: metric(Metric::Csat),
            response: row,
        });
    }
    Ok(out)
}
