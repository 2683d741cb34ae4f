//! The public (respondent) API: no staff credentials. A published form as the respondent sees
//! it, and the writes that take a response: start, save, complete, single-shot submit, resume.
//! Served alone on `/public/graphql` (any origin, no credentials) and also on `/graphql`.
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{form, response};

use super::{
    context::ContextExt,
    form::{AnswerInput, AnswerValueInput, Condition, HiddenValueInput, PathFinish, QuestionConfig, Theme},
    id::{self, NodeKind},
};
use crate::{
    error::{AppError, AppResult},
    form::{
        answer::{Checked, Given},
        kind::QuestionKind,
        model::{FormDef, FormSettings, ResponseLimit, Screen, Text},
    },
    logic::path::{self, Next, ViolationKind},
    service::{
        self,
        form::{FormStatus, settings_of, status_of},
        response::{
            Channel, ResponseStatus,
            submit::{self, AnswerIn, Author, Client, Continuation, Done, FormRef, Geolocation, HiddenIn, Opening},
        },
    },
};

/// A text in one locale: the wanted one, else the form's default, else any.
fn pick(text: &Text, locale: &str, default: &str) -> String {
    text.get(locale)
        .or_else(|| text.get(default))
        .or_else(|| text.values().next())
        .cloned()
        .unwrap_or_default()
}

/// The parts of a form version a respondent needs, in one locale.
#[derive(Clone)]
struct Localized {
    def: Arc<FormDef>,
    locale: String,
    show_scores: bool,
}

impl Localized {
    fn text(&self, text: &Text) -> String {
        pick(text, &self.locale, &self.def.default_locale)
    }
}

/// A published form as a respondent sees it, in one locale: no internal fields, no option
/// weights unless the form shows scores.
pub struct PublicForm {
    form: Arc<form::Model>,
    settings: FormSettings,
    version_id: uuid::Uuid,
    view: Localized,
}

/// A published form as a respondent sees it, in one locale.
#[Object]
impl PublicForm {
    /// The form's public identifier (what links and apps use).
    async fn public_id(&self) -> &str {
        self.form.public_id.as_deref().unwrap_or_default()
    }
    /// The version shown: send it back as `versionId` to answer this version even after a
    /// newer one is published (until the form closes).
    async fn version_id(&self) -> ID {
        id::encode(NodeKind::FormVersion, self.version_id)
    }
    /// The locale of every text here: the one asked for if the form has it (or its language),
    /// else the form's default.
    async fn locale(&self) -> &str {
        &self.view.locale
    }
    /// Every locale of the form, the default first.
    async fn locales(&self) -> &[String] {
        &self.view.def.locales
    }
    /// Title.
    async fn title(&self) -> String {
        self.view.text(&self.view.def.title)
    }
    /// Introduction.
    async fn description(&self) -> String {
        self.view.text(&self.view.def.description)
    }
    /// The welcome screen.
    async fn welcome(&self) -> PublicScreen {
        PublicScreen::new(&self.view, &self.view.def.welcome)
    }
    /// The thank-you screen.
    async fn thank_you(&self) -> PublicScreen {
        PublicScreen::new(&self.view, &self.view.def.thank_you)
    }
    /// Theme settings for the front end.
    async fn theme(&self) -> Theme {
        Theme::from(self.view.def.theme.clone())
    }
    /// Sections (pages) in order, with their questions and rules; hidden fields are not
    /// among the questions.
    async fn sections(&self) -> Vec<PublicSection> {
        (0..self.view.def.sections.len())
            .map(|index| PublicSection {
                view: self.view.clone(),
                index,
            })
            .collect()
    }
    /// Keys of the hidden fields the link or app may supply (in `hidden`).
    async fn hidden_fields(&self) -> Vec<String> {
        self.view
            .def
            .questions()
            .filter(|q| q.rules.kind() == QuestionKind::Hidden)
            .map(|q| q.key.clone())
            .collect()
    }
    /// How many responses a respondent or device may give.
    async fn response_limit(&self) -> ResponseLimit {
        self.settings.response_limit
    }
    /// Whether responses without an invitation are accepted.
    async fn allow_anonymous(&self) -> bool {
        self.settings.allow_anonymous
    }
    /// Whether the front end should ask for the respondent's location (and may send it).
    async fn collects_geolocation(&self) -> bool {
        self.settings.collect_geolocation
    }
    /// When the form stops accepting responses, if it has a closing date.
    async fn closes_at(&self) -> Option<DateTime<Utc>> {
        self.settings.closes_at
    }
    /// Whether options' weights and total scores are shown to respondents.
    async fn shows_scores(&self) -> bool {
        self.settings.show_scores
    }
    /// Whether the form takes responses now: published, before its closing date, under its
    /// quota. Submitting otherwise gives FORM_CLOSED or QUOTA_REACHED.
    async fn accepting_responses(&self, ctx: &Context<'_>) -> AppResult<bool> {
        if status_of(&self.form)? != FormStatus::Published
            || self.settings.closes_at.is_some_and(|t| t <= service::now())
        {
            return Ok(false);
        }
        let Some(quota) = self.settings.response_quota else {
            return Ok(true);
        };
        let completed = service::response::store::completed_count(ctx.state()?.db.conn(), self.form.id).await?;
        Ok(completed.is_none_or(|n| n < i64::from(quota)))
    }
}

/// The welcome or the thank-you screen, in one locale.
#[derive(SimpleObject)]
pub struct PublicScreen {
    /// Whether the front end shows it.
    pub enabled: bool,
    /// Heading.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Label of its button.
    pub button_label: String,
    /// Thank-you screen only: where to send the respondent afterwards.
    pub redirect_url: Option<String>,
}

impl PublicScreen {
    fn new(view: &Localized, screen: &Screen) -> Self {
        PublicScreen {
            enabled: screen.enabled,
            title: view.text(&screen.title),
            body: view.text(&screen.body),
            button_label: view.text(&screen.button_label),
            redirect_url: screen.redirect_url.clone(),
        }
    }
}

/// A section (page) as a respondent sees it, with the rules that decide the path (so that
/// an app can follow it offline; the server applies the same rules when a response arrives).
pub struct PublicSection {
    view: Localized,
    index: usize,
}

/// A section (page) of a published form.
#[Object]
impl PublicSection {
    /// Opaque ID, the same in every version of the form.
    async fn id(&self) -> ID {
        id::encode(NodeKind::Section, self.view.def.sections[self.index].uid)
    }
    /// Heading.
    async fn title(&self) -> String {
        self.view.text(&self.view.def.sections[self.index].title)
    }
    /// Introduction.
    async fn description(&self) -> String {
        self.view.text(&self.view.def.sections[self.index].description)
    }
    /// Shown only when this holds; null: always.
    async fn show_if(&self) -> Option<Condition> {
        Condition::of(&self.view.def.sections[self.index].show_if)
    }
    /// After the section, the first rule that holds decides the next section.
    async fn skips(&self) -> Vec<PublicSkip> {
        self.view.def.sections[self.index]
            .skips
            .iter()
            .map(|skip| PublicSkip {
                when: Condition::new(&skip.when),
                to: id::encode(NodeKind::Section, skip.to),
            })
            .collect()
    }
    /// After the section, the form ends (completed) when this holds.
    async fn end_if(&self) -> Option<Condition> {
        Condition::of(&self.view.def.sections[self.index].end_if)
    }
    /// After the section, the respondent is disqualified when this holds.
    async fn disqualify_if(&self) -> Option<Condition> {
        Condition::of(&self.view.def.sections[self.index].disqualify_if)
    }
    /// The questions in order (hidden fields left out).
    async fn questions(&self) -> Vec<PublicQuestion> {
        let section = &self.view.def.sections[self.index];
        (0..section.questions.len())
            .filter(|&q| section.questions[q].rules.kind() != QuestionKind::Hidden)
            .map(|index| PublicQuestion {
                view: self.view.clone(),
                section: self.index,
                index,
            })
            .collect()
    }
}

/// A skip rule of a section.
#[derive(SimpleObject)]
pub struct PublicSkip {
    /// When it applies.
    pub when: Condition,
    /// The section it goes to.
    pub to: ID,
}

/// A question as a respondent sees it.
pub struct PublicQuestion {
    view: Localized,
    section: usize,
    index: usize,
}

impl PublicQuestion {
    fn def(&self) -> &crate::form::model::QuestionDef {
        &self.view.def.sections[self.section].questions[self.index]
    }
}

/// A question of a published form, in one locale.
#[Object]
impl PublicQuestion {
    /// The key answers are sent under.
    async fn key(&self) -> &str {
        &self.def().key
    }
    /// What it asks for; decides which answer field to send.
    async fn kind(&self) -> QuestionKind {
        self.def().rules.kind()
    }
    /// The question text.
    async fn title(&self) -> String {
        self.view.text(&self.def().title)
    }
    /// Help text.
    async fn description(&self) -> String {
        self.view.text(&self.def().description)
    }
    /// Whether an answer is needed when the question is shown (see also `requireIf`).
    async fn required(&self) -> bool {
        self.def().required
    }
    /// Shown only when this holds; null: always (when its section is shown).
    async fn show_if(&self) -> Option<Condition> {
        Condition::of(&self.def().show_if)
    }
    /// Required (when shown) also when this holds.
    async fn require_if(&self) -> Option<Condition> {
        Condition::of(&self.def().require_if)
    }
    /// The kind's rules (lengths, ranges, pattern, choices, stars); null for kinds without.
    async fn config(&self) -> Option<QuestionConfig> {
        QuestionConfig::of(&self.def().rules)
    }
    /// Options in order; with `config.randomizeOptions` the front end shuffles them.
    async fn options(&self) -> Vec<PublicOption> {
        self.def()
            .options
            .iter()
            .map(|o| PublicOption {
                value: o.value.clone(),
                label: self.view.text(&o.label),
                score: o.score.filter(|_| self.view.show_scores),
            })
            .collect()
    }
}

/// An option of a choice question.
#[derive(SimpleObject)]
pub struct PublicOption {
    /// The value to send in `choices`.
    pub value: String,
    /// What the respondent sees.
    pub label: String,
    /// The option's weight; null unless the form shows scores.
    pub score: Option<f64>,
}

/// One stored answer.
#[derive(SimpleObject)]
pub struct AnswerValue {
    /// The question's key.
    pub key: String,
    /// The question's kind.
    pub kind: QuestionKind,
    /// NPS, CSAT, CES, rating and number answers.
    pub number: Option<f64>,
    /// Text, email (lower-cased) and phone (digits) answers, and hidden fields' values.
    pub text: Option<String>,
    /// Chosen option values.
    pub choices: Vec<String>,
    /// The "other, please specify" text of a choice question.
    pub other_text: Option<String>,
    /// Yes / no answers.
    pub bool: Option<bool>,
    /// Date answers.
    pub date: Option<NaiveDate>,
    /// The chosen options' summed weights; null when none has one (or, for respondents,
    /// unless the form shows scores).
    pub score: Option<f64>,
}

impl AnswerValue {
    pub fn new(answer: &Checked, show_score: bool) -> Self {
        let choice = answer.kind.has_options();
        AnswerValue {
            key: answer.key.clone(),
            kind: answer.kind,
            number: answer.number,
            text: answer.text.clone().filter(|_| !choice),
            choices: answer.choices.iter().map(|c| c.value.clone()).collect(),
            other_text: answer.text.clone().filter(|_| choice),
            bool: answer.boolean,
            date: answer.date,
            score: answer.score.filter(|_| show_score),
        }
    }
}

/// How the path stands for the answers so far.
#[derive(SimpleObject)]
pub struct ResponseProgress {
    /// IDs of the sections on the path, in order.
    pub section_ids: Vec<ID>,
    /// Keys of the questions shown on the path.
    pub visible_keys: Vec<String>,
    /// Keys of the required questions on the path.
    pub required_keys: Vec<String>,
    /// Required questions on the path still without an answer: completing needs them.
    pub missing_keys: Vec<String>,
    /// Answered questions that are off the path now: completing would drop them.
    pub off_path_keys: Vec<String>,
    /// How the path finishes: COMPLETE, ENDED or DISQUALIFIED.
    pub finish: PathFinish,
}

/// A respondent's own response.
pub struct PublicResponse {
    row: response::Model,
    def: Arc<FormDef>,
    show_scores: bool,
    answers: tokio::sync::OnceCell<Vec<Checked>>,
}

impl PublicResponse {
    fn new(row: response::Model, def: Arc<FormDef>, show_scores: bool) -> Self {
        PublicResponse {
            row,
            def,
            show_scores,
            answers: tokio::sync::OnceCell::new(),
        }
    }

    async fn stored(&self, ctx: &Context<'_>) -> AppResult<&Vec<Checked>> {
        self.answers
            .get_or_try_init(|| async {
                let conn = ctx.state()?.db.conn();
                let mut all = service::response::answers_of(conn, vec![self.row.id]).await?;
                let mut answers = all.remove(&self.row.id).unwrap_or_default();
                answers.sort_by(|a, b| a.key.cmp(&b.key));
                Ok::<_, AppError>(answers)
            })
            .await
    }
}

/// A respondent's own response: its state, answers and where the path stands.
#[Object]
impl PublicResponse {
    /// Opaque global ID.
    async fn id(&self) -> ID {
        id::encode(NodeKind::Response, self.row.id)
    }
    /// In progress, completed or disqualified.
    async fn status(&self) -> AppResult<ResponseStatus> {
        ResponseStatus::of(&self.row)
    }
    /// Continues the response from any device (saveResponse, completeResponse,
    /// resumeResponse); null once the response is finished. Keep it like a password.
    async fn resume_token(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        if ResponseStatus::of(&self.row)? != ResponseStatus::InProgress {
            return Ok(None);
        }
        Ok(Some(ctx.state()?.signer.resume_token(self.row.id)))
    }
    /// The locale the respondent answers in.
    async fn locale(&self) -> Option<&str> {
        self.row.locale.as_deref()
    }
    /// The version answered, in the response's locale.
    async fn version_id(&self) -> ID {
        id::encode(NodeKind::FormVersion, self.row.version_id)
    }
    /// The answers kept, by key (hidden fields included).
    async fn answers(&self, ctx: &Context<'_>) -> AppResult<Vec<AnswerValue>> {
        Ok(self
            .stored(ctx)
            .await?
            .iter()
            .map(|a| AnswerValue::new(a, self.show_scores))
            .collect())
    }
    /// Where the path stands for the answers kept.
    async fn progress(&self, ctx: &Context<'_>) -> AppResult<ResponseProgress> {
        let answers = self.stored(ctx).await?;
        let conn = ctx.state()?.db.conn();
        let attributes = match self.row.respondent_id {
            Some(id) if self.def.reads_attributes() => {
                service::respondent::get(conn, crate::auth::Tenant::trusted(self.row.organization_id), id)
                    .await?
                    .attributes
            }
            _ => Vec::new(),
        };
        let facts = submit::facts(answers, attributes);
        let evaluation = path::evaluate(&self.def, &facts);
        let keys_of = |kind: ViolationKind| {
            evaluation
                .violations
                .iter()
                .filter(|v| v.kind == kind)
                .map(|v| v.key.clone())
                .collect()
        };
        Ok(ResponseProgress {
            section_ids: evaluation
                .steps
                .iter()
                .map(|s| id::encode(NodeKind::Section, self.def.sections[s.section].uid))
                .collect(),
            visible_keys: evaluation
                .visible_keys(&self.def)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            required_keys: evaluation
                .required_keys(&self.def)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            missing_keys: keys_of(ViolationKind::Required),
            off_path_keys: keys_of(ViolationKind::OffPath),
            finish: match evaluation.finish {
                Next::Ended => PathFinish::Ended,
                Next::Disqualified => PathFinish::Disqualified,
                Next::Complete | Next::Section(_) => PathFinish::Complete,
            },
        })
    }
    /// Sum of the answers' option weights; null unless the form shows scores.
    async fn total_score(&self) -> Option<f64> {
        self.row.total_score.filter(|_| self.show_scores)
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

/// An answer a partial save did not keep.
#[derive(SimpleObject)]
pub struct AnswerProblem {
    /// The question key, when known.
    pub key: Option<String>,
    /// Where in the input: e.g. `input.answers[2].value`.
    pub path: String,
    /// The rule broken: OUT_OF_RANGE, NOT_INTEGER, INVALID_OPTION, TOO_LONG, PATTERN_MISMATCH,
    /// INVALID_EMAIL, INVALID_PHONE, UNKNOWN_QUESTION…
    pub code: String,
    /// For humans.
    pub message: String,
}

/// What a write of the submission API did.
pub struct ResponseResult {
    response: PublicResponse,
    done_rejected: Vec<submit::Rejected>,
    dropped: Vec<String>,
    resumed: bool,
    replayed: bool,
}

impl From<Done> for ResponseResult {
    fn from(done: Done) -> Self {
        ResponseResult {
            response: PublicResponse::new(done.response, done.def, done.show_scores),
            done_rejected: done.outcome.rejected,
            dropped: done.outcome.dropped,
            resumed: done.outcome.resumed,
            replayed: done.replayed,
        }
    }
}

/// What a write of the submission API did.
#[Object]
impl ResponseResult {
    /// The response as it stands after the write.
    async fn response(&self) -> &PublicResponse {
        &self.response
    }
    /// Answers not kept by a partial save (start or save), each with its rule; the others
    /// were kept. Empty for completions and submits, which are all or nothing.
    async fn rejected(&self) -> Vec<AnswerProblem> {
        self.done_rejected
            .iter()
            .map(|r| AnswerProblem {
                key: r.key.clone(),
                path: r.path.clone(),
                code: r.code.clone(),
                message: r.message.clone(),
            })
            .collect()
    }
    /// Completion: keys of answers off the final path, which were not stored.
    async fn dropped_keys(&self) -> &[String] {
        &self.dropped
    }
    /// Start: the respondent (or device) already had a response in progress, which is
    /// returned instead of a new one; answers sent with this start were not saved into it
    /// (send them with `saveResponse`).
    async fn resumed(&self) -> bool {
        self.resumed
    }
    /// True when this is the answer to an earlier request with the same idempotency key:
    /// nothing was written again.
    async fn replayed(&self) -> bool {
        self.replayed
    }
}

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
    /// `acceptingResponses: false`. No credentials needed.
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
        Ok(Some(PublicForm {
            view: Localized {
                locale: submit::resolve_locale(&def, locale.as_deref()),
                def,
                show_scores: settings.show_scores,
            },
            settings,
            version_id,
            form: Arc::new(form),
        }))
    }

    /// A response by its resume token, to continue it on any device (or to see it once
    /// finished). INVALID_RESUME_TOKEN when the token is not valid.
    async fn resume_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response's resume token.")] resume_token: String,
    ) -> AppResult<PublicResponse> {
        let (row, def, show_scores) = submit::resume(ctx.state()?, &resume_token).await?;
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
        let done = submit::start(ctx.state()?, Author::Public(client(ctx)), key, opening).await?;
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
        let done = submit::save(ctx.state()?, client(ctx), key, continuation).await?;
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
        let done = submit::complete(ctx.state()?, client(ctx), key, continuation).await?;
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
        let done = submit::submit(ctx.state()?, Author::Public(client(ctx)), key, opening).await?;
        Ok(done.into())
    }
}
