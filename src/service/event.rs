//! Events: what happened, written to the outbox in the transaction of the change, so an event
//! exists exactly when its change committed. Dispatchers deliver them to webhook endpoints
//! (`super::webhook`). The body is what partners receive, versioned by `schemaVersion`:
//! `{ "id", "type", "timestamp", "schemaVersion", "data" }`, IDs being the API's global IDs.
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{outbox_event, response};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use uuid::Uuid;

pub use super::live::{Change, Live};
use crate::{
    error::AppResult,
    form::{answer::Checked, kind::QuestionKind, model::FormDef},
    ids::{NodeKind, global},
};

/// The version of event bodies; raised only for changes a receiver could trip over.
pub const SCHEMA_VERSION: u32 = 1;

/// What can happen, by the name receivers see.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `response.completed`: a response was completed (submitted whole, completed after
    /// saves, or recorded by staff or a partner). Data: the response with its answers.
    #[graphql(name = "RESPONSE_COMPLETED")]
    ResponseCompleted,
    /// `response.updated`: a response in progress was started with answers or saved more.
    /// Data: the response with the answers it holds so far. Written only while an enabled
    /// endpoint receives it.
    #[graphql(name = "RESPONSE_UPDATED")]
    ResponseUpdated,
    /// `response.deleted`: a response was deleted. Data: its ID and its form's.
    #[graphql(name = "RESPONSE_DELETED")]
    ResponseDeleted,
    /// `respondent.erased`: a respondent was erased (their responses stay, anonymous). Data:
    /// their ID, external id and how many responses lost their personal data.
    #[graphql(name = "RESPONDENT_ERASED")]
    RespondentErased,
    /// `form.published`: a form version was published. Data: the form and the version.
    #[graphql(name = "FORM_PUBLISHED")]
    FormPublished,
    /// `form.closed`: a form was closed and takes no more responses. Data: the form.
    #[graphql(name = "FORM_CLOSED")]
    FormClosed,
    /// `webhook.ping`: sent to one endpoint on request, to check it receives and verifies.
    #[graphql(name = "WEBHOOK_PING")]
    WebhookPing,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::ResponseCompleted,
        EventType::ResponseUpdated,
        EventType::ResponseDeleted,
        EventType::RespondentErased,
        EventType::FormPublished,
        EventType::FormClosed,
        EventType::WebhookPing,
    ];

    /// The name in bodies and in endpoints' subscriptions, e.g. `response.completed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ResponseCompleted => "response.completed",
            EventType::ResponseUpdated => "response.updated",
            EventType::ResponseDeleted => "response.deleted",
            EventType::RespondentErased => "respondent.erased",
            EventType::FormPublished => "form.published",
            EventType::FormClosed => "form.closed",
            EventType::WebhookPing => "webhook.ping",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// An event about to be written.
pub struct Event {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub event_type: EventType,
    /// What it is about; deliveries to one endpoint keep the order of one subject's events.
    pub subject_id: Uuid,
    pub body: String,
    pub at: DateTime<Utc>,
    /// The form it concerns, if any (live subscriptions are per form).
    pub form_id: Option<Uuid>,
}

impl Event {
    /// The event with its body (`data` as given).
    pub fn new(at: DateTime<Utc>, organization_id: Uuid, event_type: EventType, subject_id: Uuid, data: Value) -> Self {
        let id = Uuid::now_v7();
        let body = json!({
            "id": id.to_string(),
            "type": event_type.as_str(),
            "timestamp": at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "schemaVersion": SCHEMA_VERSION,
            "data": data,
        });
        Event {
            id,
            organization_id,
            event_type,
            subject_id,
            body: body.to_string(),
            at,
            form_id: None,
        }
    }

    /// The event, concerning `form_id`.
    pub fn of_form(mut self, form_id: Uuid) -> Self {
        self.form_id = Some(form_id);
        self
    }

    /// Its outbox row (`fanned_out`: the caller makes its deliveries).
    pub fn into_row(self, fanned_out: bool) -> outbox_event::ActiveModel {
        outbox_event::ActiveModel {
            organization_id: Set(self.organization_id),
            id: Set(self.id),
            event_type: Set(self.event_type.as_str().to_owned()),
            subject_id: Set(self.subject_id),
            body: Set(self.body),
            fanned_out: Set(fanned_out),
            created_at: Set(self.at),
        }
    }

    /// What live subscribers hear of it once committed.
    pub fn change(&self) -> Change {
        Change {
            organization_id: self.organization_id,
            form_id: self.form_id,
            event_type: self.event_type.as_str().to_owned(),
            subject_id: self.subject_id,
            at: self.at,
            recorded: false,
        }
    }
}

/// Writes `event` to the outbox when an enabled endpoint of its organization receives its
/// type (an endpoint hears of the changes that commit after it was created or enabled), in
/// the caller's transaction; what to publish once it commits, either way.
pub async fn record(txn: &impl ConnectionTrait, event: Event) -> AppResult<Change> {
    let mut change = event.change();
    if wanted(txn, event.organization_id, event.event_type).await? {
        record_as(txn, event, false).await?;
        change.recorded = true;
    }
    Ok(change)
}

/// [`record`], marked fanned out already when `fanned_out` (the caller makes its deliveries).
pub async fn record_as(txn: &impl ConnectionTrait, event: Event, fanned_out: bool) -> AppResult<Uuid> {
    let id = event.id;
    outbox_event::Entity::insert(event.into_row(fanned_out))
        .exec_without_returning(txn)
        .await?;
    Ok(id)
}

/// Whether an enabled endpoint of the organization receives `event_type` (events written only
/// for such endpoints, as `response.updated`, ask first).
pub async fn wanted(conn: &impl ConnectionTrait, organization_id: Uuid, event_type: EventType) -> AppResult<bool> {
    use sea_orm::{PaginatorTrait, QueryFilter};
    let endpoints = entity::webhook_endpoint::Entity::find()
        .filter(receivers(organization_id, event_type))
        .count(conn)
        .await?;
    Ok(endpoints > 0)
}

/// The enabled endpoints of the organization that receive `event_type`, as a condition on
/// `webhook_endpoints` (for [`wanted`], or inside a statement that writes the event only then).
pub fn receivers(organization_id: Uuid, event_type: EventType) -> sea_orm::Condition {
    use entity::webhook_endpoint::Column;
    use sea_orm::ColumnTrait;
    sea_orm::Condition::all()
        .add(Column::OrganizationId.eq(organization_id))
        .add(Column::Enabled.eq(true))
        .add(super::webhook::receives_where(event_type))
}

/// Told after a transaction that wrote events commits: this instance's dispatcher looks at
/// once (others find them at their next poll), and live subscribers on every instance hear
/// of them ([`Live`]). Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    committed: Arc<Notify>,
    live: Live,
}

impl Publisher {
    pub fn new(live: Live) -> Self {
        Publisher {
            committed: Arc::new(Notify::new()),
            live,
        }
    }

    /// These changes were committed: the dispatcher looks at once when an event of theirs was
    /// written to the outbox.
    pub async fn committed(&self, changes: &[Change]) {
        if changes.iter().any(|c| c.recorded) {
            self.wake();
        }
        self.live.publish(changes).await;
    }

    /// Deliveries are due (a replay, a ping): the dispatcher looks at once.
    pub fn wake(&self) {
        self.committed.notify_waiters();
    }

    /// Completes at the next [`Publisher::committed`] or [`Publisher::wake`].
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.committed.notified()
    }

    /// Where committed changes are heard.
    pub fn live(&self) -> &Live {
        &self.live
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// One answer as partners receive it: the value by the question's kind, option values with
/// their labels in the form's default locale, the score.
fn answer_json(def: &FormDef, answer: &Checked) -> Value {
    let mut out = Map::new();
    out.insert("kind".into(), json!(answer.kind.as_str()));
    if answer.kind.has_options() {
        let question = def.questions().find(|q| q.key == answer.key);
        let label = |value: &str| {
            question
                .and_then(|q| q.options.iter().find(|o| o.value == value))
                .and_then(|o| o.label.get(&def.default_locale).or_else(|| o.label.values().next()))
                .cloned()
        };
        out.insert(
            "values".into(),
            json!(answer.choices.iter().map(|c| c.value.clone()).collect::<Vec<_>>()),
        );
        out.insert(
            "labels".into(),
            json!(answer.choices.iter().map(|c| label(&c.value)).collect::<Vec<_>>()),
        );
        if let Some(other) = answer.text.as_ref().filter(|t| !t.is_empty()) {
            out.insert("otherText".into(), json!(other));
        }
    } else if let Some(n) = answer.number {
        out.insert("value".into(), json!(n));
    } else if let Some(b) = answer.boolean {
        out.insert("value".into(), json!(b));
    } else if let Some(d) = answer.date {
        out.insert("value".into(), json!(d.to_string()));
    } else {
        out.insert("value".into(), json!(answer.text.clone().filter(|t| !t.is_empty())));
    }
    if let Some(score) = answer.score {
        out.insert("score".into(), json!(score));
    }
    Value::Object(out)
}

/// The data of `response.completed` and `response.updated`: the response with its answers by
/// key and hidden fields, its respondent (ID and external id) and metadata.
pub fn response_data(row: &response::Model, def: &FormDef, answers: &[Checked], external_id: Option<&str>) -> Value {
    let mut by_key = Map::new();
    let mut hidden = Map::new();
    for answer in answers {
        if answer.kind == QuestionKind::Hidden {
            hidden.insert(answer.key.clone(), json!(answer.text));
        } else {
            by_key.insert(answer.key.clone(), answer_json(def, answer));
        }
    }
    json!({
        "response": {
            "id": global(NodeKind::Response, row.id),
            "formId": global(NodeKind::Form, row.form_id),
            "versionId": global(NodeKind::FormVersion, row.version_id),
            "status": row.status,
            "channel": row.channel,
            "locale": row.locale,
            "startedAt": stamp(row.started_at),
            "completedAt": row.completed_at.map(stamp),
            "timeToCompleteSeconds": row.duration_seconds,
            "totalScore": row.total_score,
            "respondent": row.respondent_id.map(|id| json!({
                "id": global(NodeKind::Respondent, id),
                "externalId": external_id,
            })),
            "answers": by_key,
            "hidden": hidden,
        }
    })
}

/// Whether a write of an event asks if an endpoint receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receivers {
    /// Ask ([`wanted`]): written only when one does.
    Ask,
    /// The caller asked already: one does.
    Known,
}

/// The event `event_type` about `row` with `answers` (its respondent's external id given).
pub fn about_response(
    (at, event_type): (DateTime<Utc>, EventType),
    row: &response::Model,
    def: &FormDef,
    answers: &[Checked],
    external_id: Option<&str>,
) -> Event {
    let data = response_data(row, def, answers, external_id);
    Event::new(at, row.organization_id, event_type, row.id, data).of_form(row.form_id)
}

/// Records `event_type` (`response.completed` or `response.updated`) for `row` with
/// `answers`, in the caller's transaction, when an enabled endpoint receives it (as
/// [`record`]); what to publish once it commits, either way.
pub async fn response_event(
    txn: &impl ConnectionTrait,
    (at, event_type, receivers): (DateTime<Utc>, EventType, Receivers),
    row: &response::Model,
    def: &FormDef,
    answers: &[Checked],
) -> AppResult<Change> {
    if receivers == Receivers::Ask && !wanted(txn, row.organization_id, event_type).await? {
        return Ok(Change {
            organization_id: row.organization_id,
            form_id: Some(row.form_id),
            event_type: event_type.as_str().to_owned(),
            subject_id: row.id,
            at,
            recorded: false,
        });
    }
    let external_id = match row.respondent_id {
        Some(id) => entity::respondent::Entity::find_by_id(id)
            .one(txn)
            .await?
            .and_then(|r| r.external_id),
        None => None,
    };
    let event = about_response((at, event_type), row, def, answers, external_id.as_deref());
    let mut change = event.change();
    record_as(txn, event, false).await?;
    change.recorded = true;
    Ok(change)
}
