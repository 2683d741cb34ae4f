//! The public (respondent) API: no staff credentials. A published form as the respondent sees
//! it, and the writes that take a response: start, save, complete, single-shot submit, resume.
//! Served alone on `/public/graphql` (any origin, no credentials) and also on `/graphql`.
mod form;
mod response;

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
pub use form::PublicForm;
pub use response::{AnswerValue, PublicResponse, ResponseResult};

use super::{
    context::ContextExt,
    form::{AnswerInput, AnswerValueInput, HiddenValueInput},
    id::{self, NodeKind},
};
use crate::{
    error::AppResult,
    form::answer::Given,
    service::{
        self,
        form::{FormStatus, settings_of, status_of},
        response::{
            Channel, rules,
            submit::{self, AnswerIn, Author, Client, Continuation, FormRef, Geolocation, HiddenIn, Opening},
        },
    },
};

/// Where the respondent is, when the form collects it.
#[derive(InputObject)]
pub struct GeolocationInput {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
}

/// A new response: `startResponse` begins one, `submitResponse` sends it whole.
#[derive(InputObject)]
pub struct NewResponseInput {
    /// The form's public identifier (`publicForm.publicId`).
    pub public_id: String,
    /// A client-generated key, new for every write (e.g. a UUID): retrying with the same key
    /// and payload returns the original result and writes nothing.
    pub idempotency_key: String,
    /// A published version of the form (`publicForm.versionId`); default: the current one.
    pub version_id: Option<ID>,
    /// How the respondent reached the form (default LINK; PHONE and IN_PERSON are for staff).
    pub channel: Option<Channel>,
    /// The respondent's language, e.g. `fa` (default: the form's).
    pub locale: Option<String>,
    /// A personal invitation token: the response is the invited respondent's.
    pub invitation_token: Option<String>,
    /// The device's id: required when the form allows one response per device.
    pub device_id: Option<String>,
    /// Hidden fields' values (at most 100, each at most 1,000 characters).
    pub hidden: Option<Vec<HiddenValueInput>>,
    /// Answers (at most one per key). Start keeps the valid ones and lists the others in
    /// `rejected`; submit is all or nothing.
    pub answers: Option<Vec<AnswerInput>>,
    /// The respondent's location: only for forms that collect it (else NOT_COLLECTED).
    pub geolocation: Option<GeolocationInput>,
    /// When the respondent began, for answers collected offline (within the last 30 days).
    pub started_at: Option<DateTime<Utc>>,
    /// submitResponse only: when the respondent finished, for answers collected offline.
    pub completed_at: Option<DateTime<Utc>>,
}

/// Answers for a response in progress.
#[derive(InputObject)]
pub struct ResponseAnswersInput {
    /// The response's resume token (from startResponse or resumeResponse).
    pub resume_token: String,
    /// A client-generated key, new for every write.
    pub idempotency_key: String,
    /// Answers to add or replace (at most one per key).
    pub answers: Option<Vec<AnswerInput>>,
    /// Keys whose answers are withdrawn.
    pub clear: Option<Vec<String>>,
}

pub fn answer_in(input: AnswerInput) -> AnswerIn {
    AnswerIn {
        key: input.key,
        value: match input.value {
            AnswerValueInput::Number(n) => Given::Number(n),
            AnswerValueInput::Text(t) => Given::Text(t),
            AnswerValueInput::Choices(c) => Given::Choices(c),
            AnswerValueInput::Bool(b) => Given::Bool(b),
            AnswerValueInput::Date(d) => Given::Date(d),
        },
        other: input.other_text,
    }
}

pub fn hidden_in(input: HiddenValueInput) -> HiddenIn {
    HiddenIn {
        key: input.key,
        value: input.value,
    }
}

fn client(ctx: &Context<'_>) -> Client {
    ctx.data::<Client>().cloned().unwrap_or_default()
}

fn version_id(id: Option<ID>, field: &str) -> AppResult<Option<uuid::Uuid>> {
    id.map(|id| id::decode(&id, NodeKind::FormVersion, field)).transpose()
}

impl NewResponseInput {
    fn opening(self) -> AppResult<(String, Opening)> {
        Ok((
            self.idempotency_key,
            Opening {
                form: FormRef::Public(self.public_id),
                version_id: version_id(self.version_id, "input.versionId")?,
                channel: self.channel.unwrap_or(Channel::Link),
                locale: self.locale,
                invitation: self.invitation_token,
                respondent_id: None,
                device_id: self.device_id,
                hidden: self.hidden.unwrap_or_default().into_iter().map(hidden_in).collect(),
                answers: self.answers.unwrap_or_default().into_iter().map(answer_in).collect(),
                geolocation: self.geolocation.map(|g| Geolocation {
                    latitude: g.latitude,
                    longitude: g.longitude,
                }),
                started_at: self.started_at,
                completed_at: self.completed_at,
            },
        ))
    }
}

impl ResponseAnswersInput {
    fn continuation(self) -> (String, Continuation) {
        (
            self.idempotency_key,
            Continuation {
                resume_token: self.resume_token,
                answers: self.answers.unwrap_or_default().into_iter().map(answer_in).collect(),
                clear: self.clear.unwrap_or_default(),
            },
        )
    }
}

#[derive(Default)]
pub struct PublicQuery;

#[Object]
impl PublicQuery {
    /// A published form by its public identifier, as a respondent sees it in `locale`; null
    /// when there is none (never published, or archived). Closed forms are returned with
    /// `acceptingResponses: false`. No credentials needed. Read by GET, a shared cache may keep
    /// it a minute (`Cache-Control`).
    #[graphql(cache_control(max_age = 60))]
    async fn public_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's public identifier.")] public_id: String,
        #[graphql(desc = "The respondent's language, e.g. `fa` (default: the form's).")] locale: Option<String>,
        #[graphql(desc = "A published version of the form (default: the current one).")] version_id: Option<ID>,
    ) -> AppResult<Option<PublicForm>> {
        let state = ctx.state()?;
        let conn = state.db.conn();
        let version = self::version_id(version_id, "versionId")?;
        let Some(form) = service::form::by_public_id(conn, &public_id).await? else {
            return Ok(None);
        };
        if !matches!(status_of(&form)?, FormStatus::Published | FormStatus::Closed) {
            return Ok(None);
        }
        let Some(version_id) = version.or(form.published_version_id) else {
            return Ok(None);
        };
        let def = state.versions.get(conn, form.id, version_id, "versionId").await?;
        let settings = settings_of(&form)?;
        let locale = rules::resolve_locale(&def, locale.as_deref());
        Ok(Some(PublicForm::new(form, settings, version_id, def, locale)))
    }

    /// A response by its resume token, to continue it on any device (or to see it once
    /// finished). INVALID_RESUME_TOKEN when the token is not valid. Never kept by shared caches.
    #[graphql(cache_control(private))]
    async fn resume_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response's resume token.")] resume_token: String,
    ) -> AppResult<PublicResponse> {
        let (row, def, show_scores) = submit::resume(&ctx.state()?.collect(), &resume_token).await?;
        Ok(PublicResponse::new(row, def, show_scores))
    }
}

#[derive(Default)]
pub struct PublicMutation;

#[Object]
impl PublicMutation {
    /// Starts a response to a published form; answers given are saved as by `saveResponse`.
    /// The result's `response.resumeToken` continues it from any device. Refusals:
    /// FORM_CLOSED, QUOTA_REACHED, ALREADY_RESPONDED, RESPONDENT_REQUIRED,
    /// INVALID_INVITATION, INVITATION_EXPIRED, ORIGIN_NOT_ALLOWED, IDEMPOTENCY_KEY_REUSED,
    /// RATE_LIMITED, BAD_USER_INPUT (with `extensions.problems`).
    async fn start_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new response.")] input: NewResponseInput,
    ) -> AppResult<ResponseResult> {
        let (key, opening) = input.opening()?;
        let done = submit::start(&ctx.state()?.collect(), Author::Public(client(ctx)), key, opening).await?;
        Ok(done.into())
    }

    /// Saves answers of a response in progress: valid answers are kept (whether or not their
    /// question is on the current path, which may still change); the others come back in
    /// `rejected` with their rule.
    async fn save_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The answers to save.")] input: ResponseAnswersInput,
    ) -> AppResult<ResponseResult> {
        let (key, continuation) = input.continuation();
        let done = submit::save(&ctx.state()?.collect(), client(ctx), key, continuation).await?;
        Ok(done.into())
    }

    /// Completes a response in progress, with any last answers (all valid, or nothing is
    /// written). The path is evaluated over every answer: answers off it are not stored and
    /// listed in `droppedKeys`; a missing required answer refuses the completion
    /// (BAD_USER_INPUT, problem REQUIRED naming the key); a disqualify rule makes the
    /// response DISQUALIFIED.
    async fn complete_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The last answers and the response's token.")] input: ResponseAnswersInput,
    ) -> AppResult<ResponseResult> {
        let (key, continuation) = input.continuation();
        let done = submit::complete(&ctx.state()?.collect(), client(ctx), key, continuation).await?;
        Ok(done.into())
    }

    /// Sends a whole response at once, all or nothing: every answer valid, every required
    /// answer on the path given, and no answer off the path (ANSWER_OFF_PATH: the client
    /// showed a question it should not have). Refusals as for `startResponse`.
    async fn submit_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The whole response.")] input: NewResponseInput,
    ) -> AppResult<ResponseResult> {
        let (key, opening) = input.opening()?;
        let done = submit::submit(&ctx.state()?.collect(), Author::Public(client(ctx)), key, opening).await?;
        Ok(done.into())
    }
}
