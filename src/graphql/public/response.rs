//! A respondent's own response as the public API returns it, and what each write did.
use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::response;

use crate::{
    error::{AppError, AppResult},
    form::{answer::Checked, kind::QuestionKind, model::FormDef},
    graphql::{
        context::ContextExt,
        form::PathFinish,
        id::{self, NodeKind},
    },
    logic::path::{self, Next, ViolationKind},
    service::{
        self,
        response::{
            ResponseStatus, rules,
            submit::{self, Done},
        },
    },
};

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
            // An erased text is kept empty: it reads as none.
            text: answer.text.clone().filter(|t| !choice && !t.is_empty()),
            choices: answer.choices.iter().map(|c| c.value.clone()).collect(),
            other_text: answer.text.clone().filter(|t| choice && !t.is_empty()),
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
    pub fn new(row: response::Model, def: Arc<FormDef>, show_scores: bool) -> Self {
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
        crate::service::response::status_of(&self.row)
    }
    /// Continues the response from any device (saveResponse, completeResponse,
    /// resumeResponse); null once the response is finished. Keep it like a password.
    async fn resume_token(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        if crate::service::response::status_of(&self.row)? != ResponseStatus::InProgress {
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
        let facts = rules::facts(answers, attributes);
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
                .map(|s| id::encode_versioned(NodeKind::Section, self.row.version_id, self.def.sections[s.section].uid))
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
    pub code: crate::codes::ProblemCode,
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
                code: r.code,
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
