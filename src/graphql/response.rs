//! Responses for staff and partners: reading them with their typed answers, recording
//! interviews and partners' responses, and signing respondents' invitation links.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::response;

use super::{
    context::ContextExt,
    form::{AnswerInput, Form, FormVersion, HiddenValueInput},
    id::{self, NodeKind},
    member::User,
    pagination::{ListOrder, connection, page_complexity, page_request},
    public::{AnswerValue, answer_in, hidden_in},
    respondent::Respondent,
};
use crate::{
    auth::{Action, Principal, Role, Scope},
    error::{AppError, AppResult},
    form::answer::Checked,
    service::{
        self,
        response::{
            Channel, ResponseFilter, ResponseStatus,
            submit::{self, Author, FormRef, Opening},
        },
    },
};

/// Reading responses (personal data): any member, or an API key with `responses:read`.
pub const READ: Action = Action::Scoped(Scope::ResponsesRead, Role::Analyst);
/// Recording responses: any member (interviews), or an API key with `responses:write`.
pub const WRITE: Action = Action::Scoped(Scope::ResponsesWrite, Role::Analyst);
/// Signing invitation links: EDITOR and above, or an API key with `respondents:write`.
pub const INVITE: Action = Action::Scoped(Scope::RespondentsWrite, Role::Editor);

/// A response as staff see it.
#[derive(Clone)]
pub struct Response {
    row: response::Model,
    answers: Vec<Checked>,
}

/// Where a response was given.
#[derive(SimpleObject)]
pub struct Geolocation {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
}

/// One respondent's response to one version of a form, with its typed answers.
#[Object]
impl Response {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::Response, self.row.id)
    }
    /// In progress, completed or disqualified.
    async fn status(&self) -> AppResult<ResponseStatus> {
        crate::service::response::status_of(&self.row)
    }
    /// The form.
    async fn form(&self, ctx: &Context<'_>) -> AppResult<Form> {
        let tenant = ctx.authorize(READ)?;
        Ok(Form::new(
            service::form::get(ctx.state()?.db.conn(), tenant, self.row.form_id).await?,
        ))
    }
    /// The version answered.
    async fn version(&self, ctx: &Context<'_>) -> AppResult<FormVersion> {
        let tenant = ctx.authorize(READ)?;
        Ok(FormVersion::new(
            service::form::version(ctx.state()?.db.conn(), tenant, self.row.version_id).await?,
        ))
    }
    /// The respondent; null for anonymous responses.
    async fn respondent(&self, ctx: &Context<'_>) -> AppResult<Option<Respondent>> {
        let tenant = ctx.authorize(READ)?;
        let Some(id) = self.row.respondent_id else {
            return Ok(None);
        };
        match service::respondent::get(ctx.state()?.db.conn(), tenant, id).await {
            Ok(r) => Ok(Some(Respondent(r))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
    /// How the response reached us.
    async fn channel(&self) -> Option<Channel> {
        Channel::parse(&self.row.channel)
    }
    /// The locale the respondent answered in.
    async fn locale(&self) -> Option<&str> {
        self.row.locale.as_deref()
    }
    /// The client's user agent, as sent (at most 500 characters).
    async fn user_agent(&self) -> Option<&str> {
        self.row.user_agent.as_deref()
    }
    /// The device id the client sent.
    async fn device_id(&self) -> Option<&str> {
        self.row.device_id.as_deref()
    }
    /// The member who recorded an interview or a call.
    async fn interviewer(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        let tenant = ctx.authorize(READ)?;
        let Some(id) = self.row.interviewer_id else {
            return Ok(None);
        };
        match service::member::get_user(ctx.state()?.db.conn(), tenant, id).await {
            Ok(u) => Ok(Some(User(u))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
    /// Whether a partner's API key recorded the response.
    async fn recorded_by_api_key(&self) -> bool {
        self.row.api_key_id.is_some()
    }
    /// Whether a keyed hash of the client's address is stored (only for forms that ask).
    async fn has_address_hash(&self) -> bool {
        self.row.ip_hash.is_some()
    }
    /// Where the response was given (only for forms that collect it).
    async fn geolocation(&self) -> Option<Geolocation> {
        Some(Geolocation {
            latitude: self.row.latitude?,
            longitude: self.row.longitude?,
        })
    }
    /// The answers kept, by key (hidden fields included).
    async fn answers(&self) -> Vec<AnswerValue> {
        self.answers.iter().map(|a| AnswerValue::new(a, true)).collect()
    }
    /// Sum of the answers' option weights; null when no answer has one.
    async fn total_score(&self) -> Option<f64> {
        self.row.total_score
    }
    /// When the respondent began.
    async fn started_at(&self) -> DateTime<Utc> {
        self.row.started_at
    }
    /// When answers were last saved.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    /// When the response was completed or disqualified.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.row.completed_at
    }
    /// Whole seconds from start to completion.
    async fn time_to_complete_seconds(&self) -> Option<i32> {
        self.row.duration_seconds
    }
}

connection!(ResponseConnection, ResponseEdge, Response, "response");

/// Responses with their answers, loaded together (two queries for any number).
async fn with_answers(ctx: &Context<'_>, rows: Vec<response::Model>) -> AppResult<Vec<Response>> {
    let conn = ctx.state()?.db.conn();
    let mut answers = service::response::answers_of(conn, rows.iter().map(|r| r.id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut mine = answers.remove(&row.id).unwrap_or_default();
            mine.sort_by(|a, b| a.key.cmp(&b.key));
            Response { row, answers: mine }
        })
        .collect())
}

/// A response of the tenant's organization with its answers, or `None`.
pub async fn find(ctx: &Context<'_>, tenant: crate::auth::Tenant, id: uuid::Uuid) -> AppResult<Option<Response>> {
    match service::response::get(ctx.state()?.db.conn(), tenant, id).await {
        Ok(row) => Ok(with_answers(ctx, vec![row]).await?.pop()),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

#[derive(Default)]
pub struct ResponseQuery;

#[Object]
impl ResponseQuery {
    /// A response by ID, or null. Any member, or an API key with `responses:read`.
    async fn response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response's ID.")] id: ID,
    ) -> AppResult<Option<Response>> {
        let tenant = ctx.authorize(READ)?;
        find(ctx, tenant, id::decode(&id, NodeKind::Response, "id")?).await
    }

    /// A form's responses (oldest first unless `orderBy` says otherwise). Any member, or an
    /// API key with `responses:read`. A partner syncing incrementally asks for
    /// `updatedSince: <its last sync>` with `orderBy: { field: UPDATED_AT }` and pages on.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn responses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
        #[graphql(desc = "Only responses in these statuses (default: all).")] status: Option<Vec<ResponseStatus>>,
        #[graphql(desc = "Only responses completed at or after this time.")] completed_after: Option<DateTime<Utc>>,
        #[graphql(desc = "Only responses completed before this time.")] completed_before: Option<DateTime<Utc>>,
        #[graphql(desc = "Only responses started, saved, completed or erased at or after this time.")]
        updated_since: Option<DateTime<Utc>>,
        #[graphql(desc = "The order (default: oldest created first); `{ direction: DESC }` for the newest first.")]
        order_by: Option<ListOrder>,
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
    ) -> AppResult<ResponseConnection> {
        let tenant = ctx.authorize(READ)?;
        let form_id = id::decode(&form_id, NodeKind::Form, "formId")?;
        let request = page_request(ctx, first, after, last, before)?;
        let conn = ctx.state()?.db.conn();
        service::form::get(conn, tenant, form_id).await?;
        let filter = ResponseFilter {
            statuses: status.unwrap_or_default(),
            completed_after,
            completed_before,
            updated_since,
            sort: order_by.unwrap_or_default().into(),
        };
        let page = service::response::list(conn, tenant, form_id, filter, request).await?;
        let responses = with_answers(ctx, page.rows().cloned().collect()).await?;
        Ok(ResponseConnection::from_page(page.with_items(responses)))
    }
}

/// A response recorded by staff or a partner's system, all or nothing.
#[derive(InputObject)]
pub struct RecordResponseInput {
    /// The form's ID.
    pub form_id: ID,
    /// A client-generated key, new for every write: a retry with the same key and payload
    /// returns the original result.
    pub idempotency_key: String,
    /// A published version of the form (default: the current one).
    pub version_id: Option<ID>,
    /// The respondent the response is from; null for an anonymous one (if the form allows).
    pub respondent_id: Option<ID>,
    /// Members: PHONE or IN_PERSON (they are recorded as the interviewer). API keys: any.
    pub channel: Channel,
    /// The language of the interview, e.g. `fa`.
    pub locale: Option<String>,
    /// Hidden fields' values.
    pub hidden: Option<Vec<HiddenValueInput>>,
    /// The answers (at most one per key), on the path and complete.
    pub answers: Vec<AnswerInput>,
    /// When the interview began (within the last 30 days; default: now).
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (default: now).
    pub completed_at: Option<DateTime<Utc>>,
}

/// A recorded response.
#[derive(SimpleObject)]
pub struct RecordedResponse {
    /// The response.
    pub response: Response,
    /// True when this answers an earlier request with the same idempotency key.
    pub replayed: bool,
}

/// Invitation links for respondents.
#[derive(InputObject)]
pub struct CreateRespondentInvitationsInput {
    /// The form the respondents are invited to.
    pub form_id: ID,
    /// The respondents (1 to 1,000).
    pub respondent_ids: Vec<ID>,
    /// When the invitations stop working; default: never (until the form closes).
    pub expires_at: Option<DateTime<Utc>>,
}

/// One respondent's invitation.
#[derive(SimpleObject)]
pub struct RespondentInvitation {
    /// The respondent's ID.
    pub respondent_id: ID,
    /// The token to put in the respondent's link; sent as `invitationToken`, it makes the
    /// response theirs without a sign-in (and enforces one response per respondent).
    pub token: String,
}

/// Signed invitations.
#[derive(SimpleObject)]
pub struct RespondentInvitations {
    /// The form's public identifier, for building links.
    pub public_id: String,
    /// When the invitations expire, if they do.
    pub expires_at: Option<DateTime<Utc>>,
    /// One invitation per respondent, in the order asked.
    pub invitations: Vec<RespondentInvitation>,
}

#[derive(Default)]
pub struct ResponseMutation;

#[Object]
impl ResponseMutation {
    /// Records a whole response on a respondent's behalf: an interview or a call by a member
    /// (channel PHONE or IN_PERSON, the member recorded as interviewer), or a response a
    /// partner's system collected (API key with `responses:write`). The same rules as
    /// `submitResponse`: valid answers on the path, required ones given, quota, closing date,
    /// one response per respondent.
    async fn record_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response.")] input: RecordResponseInput,
    ) -> AppResult<RecordedResponse> {
        let tenant = ctx.authorize(WRITE)?;
        let author = match ctx.principal()? {
            Principal::Member { user_id, .. } => Author::Member {
                tenant,
                user_id: *user_id,
            },
            Principal::ApiKey { key_id, .. } => Author::ApiKey {
                tenant,
                key_id: *key_id,
            },
        };
        let opening = Opening {
            form: FormRef::Id(id::decode(&input.form_id, NodeKind::Form, "input.formId")?),
            version_id: input
                .version_id
                .map(|v| id::decode(&v, NodeKind::FormVersion, "input.versionId"))
                .transpose()?,
            channel: input.channel,
            locale: input.locale,
            invitation: None,
            respondent_id: input
                .respondent_id
                .map(|r| id::decode(&r, NodeKind::Respondent, "input.respondentId"))
                .transpose()?,
            device_id: None,
            hidden: input.hidden.unwrap_or_default().into_iter().map(hidden_in).collect(),
            answers: input.answers.into_iter().map(answer_in).collect(),
            geolocation: None,
            started_at: input.started_at,
            completed_at: input.completed_at,
        };
        let done = submit::submit(&ctx.state()?.collect(), author, input.idempotency_key, opening).await?;
        let replayed = done.replayed;
        let response = with_answers(ctx, vec![done.response])
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("a recorded response vanished".to_owned()))?;
        Ok(RecordedResponse { response, replayed })
    }

    /// Signs invitation tokens that bind each respondent to the form, so that one response
    /// per respondent works without a sign-in. EDITOR and above, or an API key with
    /// `respondents:write`.
    async fn create_respondent_invitations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form, the respondents and an optional expiry.")] input: CreateRespondentInvitationsInput,
    ) -> AppResult<RespondentInvitations> {
        let tenant = ctx.authorize(INVITE)?;
        let state = ctx.state()?;
        let form_id = id::decode(&input.form_id, NodeKind::Form, "input.formId")?;
        let respondent_ids = input
            .respondent_ids
            .iter()
            .enumerate()
            .map(|(i, r)| id::decode(r, NodeKind::Respondent, &format!("input.respondentIds[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        let conn = state.db.conn();
        let tokens = service::response::invite(
            conn,
            &state.signer,
            tenant,
            form_id,
            respondent_ids,
            (input.expires_at, state.clock.now()),
        )
        .await?;
        let form = service::form::get(conn, tenant, form_id).await?;
        Ok(RespondentInvitations {
            public_id: form.public_id.unwrap_or_default(),
            expires_at: input.expires_at,
            invitations: tokens
                .into_iter()
                .map(|(id, token)| RespondentInvitation {
                    respondent_id: id::encode(NodeKind::Respondent, id),
                    token,
                })
                .collect(),
        })
    }
}
