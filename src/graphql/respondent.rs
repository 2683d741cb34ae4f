//! Respondents: the customers an organization knows, upserted by external (CRM) id one at a
//! time or in bulk, listed with search and attribute filters.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::{
    context::ContextExt,
    form::{AttributeValueInput, attribute_value},
    id::{self, NodeKind},
    pagination::{connection, page_complexity, page_request},
};
use crate::{
    auth::{Action, Role, Scope},
    error::AppResult,
    logic::expr::Value,
    service::{
        self,
        respondent::{RespondentFilter, RespondentInput as Input},
    },
};

/// Reading respondents (personal data): any member, or an API key with `respondents:read`.
pub const READ: Action = Action::Scoped(Scope::RespondentsRead, Role::Analyst);
/// Creating and updating respondents: EDITOR and above, or an API key with `respondents:write`.
pub const WRITE: Action = Action::Scoped(Scope::RespondentsWrite, Role::Editor);

/// A customer known to the organization.
#[derive(Clone)]
pub struct Respondent(pub service::respondent::Respondent);

/// One attribute value of a respondent: the field of the attribute's type is set.
#[derive(SimpleObject)]
pub struct RespondentAttributeValue {
    /// The attribute's name in the catalogue.
    pub name: String,
    /// The value of a STRING attribute.
    pub text: Option<String>,
    /// The value of a NUMBER attribute.
    pub number: Option<f64>,
    /// The value of a BOOLEAN attribute.
    pub bool: Option<bool>,
    /// The value of a DATE attribute.
    pub date: Option<NaiveDate>,
}

/// A customer known to the organization: unique by external (CRM) id, with contact details,
/// locale, typed attributes and whether they opted out of surveys.
#[Object]
impl Respondent {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::Respondent, self.0.row.id)
    }
    /// The id in the organization's CRM, unique in the organization.
    async fn external_id(&self) -> Option<&str> {
        self.0.row.external_id.as_deref()
    }
    /// Email address, lower-cased.
    async fn email(&self) -> Option<&str> {
        self.0.row.email.as_deref()
    }
    /// Phone number: digits with an optional leading `+`.
    async fn phone(&self) -> Option<&str> {
        self.0.row.phone.as_deref()
    }
    /// Name, as given.
    async fn name(&self) -> Option<&str> {
        self.0.row.name.as_deref()
    }
    /// Preferred language tag, e.g. `fa`.
    async fn locale(&self) -> Option<&str> {
        self.0.row.locale.as_deref()
    }
    /// Asked not to be surveyed again.
    async fn opted_out(&self) -> bool {
        self.0.row.opted_out
    }
    /// Attribute values, by name.
    async fn attributes(&self) -> Vec<RespondentAttributeValue> {
        self.0
            .attributes
            .iter()
            .map(|(name, value)| {
                let mut out = RespondentAttributeValue {
                    name: name.clone(),
                    text: None,
                    number: None,
                    bool: None,
                    date: None,
                };
                match value {
                    Value::Text(t) => out.text = Some(t.clone()),
                    Value::Number(n) => out.number = Some(*n),
                    Value::Bool(b) => out.bool = Some(*b),
                    Value::Date(d) => out.date = Some(*d),
                }
                out
            })
            .collect()
    }
    /// Their responses across forms, most recent first, with the NPS and CSAT each gave and
    /// the latest of each. Members, or API keys with `reports:read`.
    async fn history(&self, ctx: &Context<'_>) -> AppResult<RespondentHistory> {
        let tenant = ctx.authorize(crate::graphql::report::READ)?;
        let history = service::report::history::history(&ctx.state()?.reads(), tenant, self.0.row.id).await?;
        let latest = |found: Option<(&service::report::history::Entry, f64)>| {
            found.map(|(entry, value)| LatestScore {
                value,
                response_id: id::encode(NodeKind::Response, entry.response.id),
                form_id: id::encode(NodeKind::Form, entry.response.form_id),
                completed_at: entry.response.completed_at,
            })
        };
        let nps = history.latest_nps().map(|(_, v)| v);
        Ok(RespondentHistory {
            started: history.started,
            completed: history.completed,
            disqualified: history.disqualified,
            in_progress: history.in_progress,
            latest_nps_category: nps.map(|v| match v {
                v if v >= 9.0 => NpsCategory::Promoter,
                v if v >= 7.0 => NpsCategory::Passive,
                _ => NpsCategory::Detractor,
            }),
            latest_nps: latest(history.latest_nps()),
            latest_csat: latest(history.latest_csat()),
            responses: history
                .entries
                .iter()
                .map(|e| HistoryEntry {
                    response_id: id::encode(NodeKind::Response, e.response.id),
                    form_id: id::encode(NodeKind::Form, e.response.form_id),
                    status: service::response::ResponseStatus::parse(&e.response.status)
                        .unwrap_or(service::response::ResponseStatus::InProgress),
                    started_at: e.response.started_at,
                    completed_at: e.response.completed_at,
                    nps: e.nps,
                    csat: e.csat,
                })
                .collect(),
        })
    }
    /// When it was first stored (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
    /// When it last changed (RFC 3339).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.row.updated_at
    }
}

/// Where an NPS answer falls.
#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq)]
pub enum NpsCategory {
    /// 9 or 10.
    Promoter,
    /// 7 or 8.
    Passive,
    /// 0 to 6.
    Detractor,
}

/// A respondent's latest answer to a metric.
#[derive(async_graphql::SimpleObject)]
pub struct LatestScore {
    /// The answer.
    pub value: f64,
    /// The response it was given in.
    pub response_id: ID,
    /// That response's form.
    pub form_id: ID,
    /// When that response was completed.
    pub completed_at: Option<DateTime<Utc>>,
}

/// One response in a respondent's history.
#[derive(async_graphql::SimpleObject)]
pub struct HistoryEntry {
    /// The response.
    pub response_id: ID,
    /// Its form.
    pub form_id: ID,
    /// Where it stands.
    pub status: service::response::ResponseStatus,
    /// When it was started.
    pub started_at: DateTime<Utc>,
    /// When it was completed or disqualified.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its answer to its form's NPS question, if any.
    pub nps: Option<f64>,
    /// Its answer to its form's CSAT question, if any.
    pub csat: Option<f64>,
}

/// A respondent's responses across forms.
#[derive(async_graphql::SimpleObject)]
pub struct RespondentHistory {
    /// Responses started.
    pub started: u64,
    /// Responses completed.
    pub completed: u64,
    /// Responses disqualified.
    pub disqualified: u64,
    /// Responses still in progress.
    pub in_progress: u64,
    /// The NPS answer of their most recent completed response that has one.
    pub latest_nps: Option<LatestScore>,
    /// Where that answer falls.
    pub latest_nps_category: Option<NpsCategory>,
    /// The CSAT answer of their most recent completed response that has one.
    pub latest_csat: Option<LatestScore>,
    /// Their responses, most recent first (at most 500).
    pub responses: Vec<HistoryEntry>,
}

/// A respondent to create or update, found by external id. Blank texts count as absent; the
/// stored fields and attributes become exactly the given ones.
#[derive(InputObject)]
pub struct RespondentInput {
    /// The id in the organization's CRM (1–200 characters): the respondent is found by it.
    pub external_id: String,
    /// Email address.
    pub email: Option<String>,
    /// Phone number: 7–15 digits (Persian and Arabic-Indic digits read as digits), an
    /// optional leading `+`; spaces, dashes, dots and parentheses are dropped.
    pub phone: Option<String>,
    /// Name, at most 200 characters.
    pub name: Option<String>,
    /// Preferred language tag, e.g. `fa` or `en-GB`.
    pub locale: Option<String>,
    /// Opted out of surveys; when left out, the stored flag stays (false for a new respondent).
    pub opted_out: Option<bool>,
    /// Attribute values, each of its declared type (at most 100, not retired ones).
    pub attributes: Option<Vec<AttributeValueInput>>,
}

impl From<RespondentInput> for Input {
    fn from(input: RespondentInput) -> Self {
        Input {
            external_id: Some(input.external_id),
            email: input.email,
            phone: input.phone,
            name: input.name,
            locale: input.locale,
            opted_out: input.opted_out,
            attributes: input
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(attribute_value)
                .collect(),
        }
    }
}

/// Many respondents at once.
#[derive(InputObject)]
pub struct UpsertRespondentsInput {
    /// 1 to 10,000 respondents, each external id once. All or none: any invalid row refuses the
    /// call with every problem (paths `input.respondents[i].field`).
    pub respondents: Vec<RespondentInput>,
}

/// The result of `upsertRespondent`.
#[derive(SimpleObject)]
pub struct UpsertRespondentPayload {
    /// The respondent as stored.
    pub respondent: Respondent,
    /// Whether it was new.
    pub created: bool,
}

/// The result of `upsertRespondents`.
#[derive(SimpleObject)]
pub struct UpsertRespondentsPayload {
    /// How many respondents were new.
    pub created: usize,
    /// How many existed and were updated.
    pub updated: usize,
}

connection!(RespondentConnection, RespondentEdge, Respondent, "respondent");

#[derive(Default)]
pub struct RespondentQuery;

#[Object]
impl RespondentQuery {
    /// A respondent by ID, or null. Any member, or an API key with `respondents:read`.
    async fn respondent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The respondent's ID.")] id: ID,
    ) -> AppResult<Option<Respondent>> {
        let tenant = ctx.authorize(READ)?;
        let uuid = id::decode(&id, NodeKind::Respondent, "id")?;
        match service::respondent::get(ctx.state()?.db.conn(), tenant, uuid).await {
            Ok(r) => Ok(Some(Respondent(r))),
            Err(crate::error::AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The organization's respondents, oldest first. Any member, or an API key with
    /// `respondents:read`.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn respondents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Words that must all appear in the name, email, phone or external id; ي/ك match ی/ک, Persian digits match digits, case is ignored."
        )]
        search: Option<String>,
        #[graphql(desc = "Attributes that must have exactly these values (type-checked against the catalogue).")]
        attributes: Option<Vec<AttributeValueInput>>,
        #[graphql(desc = "Only respondents who opted out (true) or did not (false).")] opted_out: Option<bool>,
        #[graphql(desc = "The first this many items (1 to 100; default 20 unless `last` is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Only items after this cursor (`pageInfo.endCursor` of the page before).")] after: Option<
            String,
        >,
        #[graphql(desc = "The last this many items (1 to 100): pages backward.")] last: Option<i32>,
        #[graphql(desc = "Only items before this cursor (`pageInfo.startCursor` of the page after).")] before: Option<
            String,
        >,
    ) -> AppResult<RespondentConnection> {
        let tenant = ctx.authorize(READ)?;
        let request = page_request(ctx, first, after, last, before)?;
        let filter = RespondentFilter {
            search,
            attributes: attributes
                .unwrap_or_default()
                .into_iter()
                .map(attribute_value)
                .collect(),
            opted_out,
        };
        let page = service::respondent::list(ctx.state()?.db.conn(), tenant, filter, request).await?;
        Ok(RespondentConnection::from_page(page.map(Respondent)))
    }
}

#[derive(Default)]
pub struct RespondentMutation;

/// Every mutation here needs EDITOR or above, or an API key with `respondents:write`.
#[Object]
impl RespondentMutation {
    /// Creates the respondent with this external id, or updates it.
    async fn upsert_respondent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The respondent.")] input: RespondentInput,
    ) -> AppResult<UpsertRespondentPayload> {
        let tenant = ctx.authorize(WRITE)?;
        let (respondent, created) = service::respondent::upsert(&ctx.state()?.db, tenant, input.into()).await?;
        Ok(UpsertRespondentPayload {
            respondent: Respondent(respondent),
            created,
        })
    }

    /// Creates or updates many respondents by external id in one transaction (a CRM sync):
    /// all or none.
    async fn upsert_respondents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The respondents.")] input: UpsertRespondentsInput,
    ) -> AppResult<UpsertRespondentsPayload> {
        let tenant = ctx.authorize(WRITE)?;
        let rows = input.respondents.into_iter().map(Into::into).collect();
        let (done, _) = service::respondent::upsert_many(&ctx.state()?.db, tenant, rows, "input.respondents").await?;
        Ok(UpsertRespondentsPayload {
            created: done.created,
            updated: done.updated,
        })
    }
}
