//! Taking responses. Respondents start a response, save answers, resume it (also on another
//! device, with its resume token) and complete it; simple clients submit in one shot; members
//! record interviews and partners' systems record responses on behalf of respondents.
//!
//! Rules (Data rules of the product):
//! - Partial saves keep every valid answer, on the path or not (the path can still change);
//!   invalid ones are not kept and come back in the outcome's `rejected`.
//! - Completion evaluates the path over everything answered: answers off the final path are
//!   not stored and come back in `dropped`; a missing required answer refuses the completion.
//! - A single-shot submit (and a recording) is all or nothing: an answer off its path is a
//!   client bug and refused (ANSWER_OFF_PATH).
//! - Every write carries an idempotency key ([`super::idempotency`]); one response per
//!   respondent or device and the response quota are enforced by a unique index and a
//!   conditional counter update inside the same transaction, so concurrency cannot pass them.
//! - The response, its answers and everything derived from them are written in one
//!   transaction; the caller answers the client only after it commits.
use crate::codes::ProblemCode;
use std::{net::IpAddr, sync::Arc};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{form, response};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Channel, ResponseStatus, answers_of, idempotency,
    rules::{
        self, accepting, check_answers, check_opening, duration, facts, form_closed, input, judge, resolve_locale,
        times, total_score,
    },
    store,
};
use crate::{
    auth::Tenant,
    error::{AppError, AppResult, code},
    form::{
        Problem,
        answer::{Checked, Given},
        model::{FormDef, FormSettings, ResponseLimit},
    },
    report::tally::{Measure, local_day},
    service::{event, form::settings_of, rate_limit, report::tally, respondent},
};

/// The answer to one question, as sent.
#[derive(Serialize, Clone, Debug)]
pub struct AnswerIn {
    pub key: String,
    pub value: Given,
    /// The "other, please specify" text of a choice question.
    pub other: Option<String>,
}

/// A hidden field's value, as sent.
#[derive(Serialize, Clone, Debug)]
pub struct HiddenIn {
    pub key: String,
    pub value: String,
}

/// Where the respondent was, when the form collects it.
#[derive(Serialize, Clone, Copy, Debug)]
pub struct Geolocation {
    pub latitude: f64,
    pub longitude: f64,
}

/// Where a public request comes from. Not part of its fingerprint: a retry from another
/// network is the same request.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub address: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The `Origin` header of a browser's request.
    pub origin: Option<String>,
}

/// Who writes the response.
#[derive(Clone, Debug)]
pub enum Author {
    /// A respondent through the public API.
    Public(Client),
    /// A member recording an interview or a call.
    Member { tenant: Tenant, user_id: Uuid },
    /// A partner's system with an API key.
    ApiKey { tenant: Tenant, key_id: Uuid },
}

/// The form a new response is for.
#[derive(Serialize, Clone, Debug)]
pub enum FormRef {
    /// By its public identifier (the public API).
    Public(String),
    /// By id, within the caller's organization (staff).
    Id(Uuid),
}

/// A new response: started, or submitted whole.
#[derive(Serialize, Clone, Debug)]
pub struct Opening {
    pub form: FormRef,
    pub version_id: Option<Uuid>,
    pub channel: Channel,
    pub locale: Option<String>,
    /// A signed invitation (public API).
    pub invitation: Option<String>,
    /// The respondent (staff recordings).
    pub respondent_id: Option<Uuid>,
    pub device_id: Option<String>,
    pub hidden: Vec<HiddenIn>,
    pub answers: Vec<AnswerIn>,
    pub geolocation: Option<Geolocation>,
    /// When the respondent began, if the client knows better than our clock (offline).
    pub started_at: Option<DateTime<Utc>>,
    /// When the respondent finished (single-shot submits and recordings).
    pub completed_at: Option<DateTime<Utc>>,
}

/// More answers for a response in progress.
#[derive(Serialize, Clone, Debug)]
pub struct Continuation {
    pub resume_token: String,
    pub answers: Vec<AnswerIn>,
    /// Keys whose answers are withdrawn.
    pub clear: Vec<String>,
}

/// An answer not kept by a partial save.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Rejected {
    pub key: Option<String>,
    pub path: String,
    pub code: ProblemCode,
    pub message: String,
}

impl From<Problem> for Rejected {
    fn from(p: Problem) -> Self {
        Rejected {
            key: p.key,
            path: p.path,
            code: p.code,
            message: p.message,
        }
    }
}

/// What a write did: stored under its idempotency key, so a retry gets it again.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Outcome {
    pub response_id: Uuid,
    /// Answers off the final path, not stored (completion).
    pub dropped: Vec<String>,
    /// Answers not kept by a partial save, with the reason.
    pub rejected: Vec<Rejected>,
    /// A start that found the respondent's response in progress and returned it.
    pub resumed: bool,
}

/// The outcome with the response as it stands and the version it answers.
pub struct Done {
    pub outcome: Outcome,
    pub response: response::Model,
    pub def: Arc<FormDef>,
    /// The outcome of an earlier request under the same idempotency key.
    pub replayed: bool,
    /// Whether the form shows respondents their scores.
    pub show_scores: bool,
}

/// What taking responses uses: the database, the shared cache (public rate limits), the
/// signer of invitation and resume tokens, the published versions, the public limits, the
/// clock, and the publisher told when events commit.
#[derive(Clone, Copy)]
pub struct Collect<'a> {
    pub db: &'a crate::db::Db,
    pub cache: &'a crate::cache::Cache,
    pub signer: &'a crate::auth::Signer,
    pub versions: &'a crate::service::form::PublishedVersions,
    pub public_limits: rate_limit::PublicLimits,
    pub clock: &'a crate::clock::Clock,
    pub events: &'a crate::service::event::Publisher,
}

/// The form a new response is for, as read for this request.
struct Context {
    form: form::Model,
    zone: Tz,
    settings: FormSettings,
    def: Arc<FormDef>,
    version_id: Uuid,
}

/// Starts a response (answers given are saved as by [`save`]).
pub async fn start(state: &Collect<'_>, author: Author, key: String, opening: Opening) -> AppResult<Done> {
    open(state, author, key, opening, false).await
}

/// Submits a whole response at once (public API), or records one (staff).
pub async fn submit(state: &Collect<'_>, author: Author, key: String, opening: Opening) -> AppResult<Done> {
    open(state, author, key, opening, true).await
}

/// Saves answers of a response in progress.
pub async fn save(state: &Collect<'_>, client: Client, key: String, continuation: Continuation) -> AppResult<Done> {
    proceed(state, client, key, continuation, false).await
}

/// Completes a response in progress, with any last answers.
pub async fn complete(state: &Collect<'_>, client: Client, key: String, continuation: Continuation) -> AppResult<Done> {
    proceed(state, client, key, continuation, true).await
}

/// A response in progress by its resume token, with the version it answers.
pub async fn resume(state: &Collect<'_>, token: &str) -> AppResult<(response::Model, Arc<FormDef>, bool)> {
    let conn = state.db.conn();
    let id = state.signer.read_resume_token(token).ok_or_else(invalid_resume_token)?;
    let row = response::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(invalid_resume_token)?;
    let def = state
        .versions
        .get(conn, row.form_id, row.version_id, "resumeToken")
        .await?;
    let show_scores = shows_scores(conn, row.form_id).await?;
    Ok((row, def, show_scores))
}

async fn shows_scores(conn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<bool> {
    let form = form::Entity::find_by_id(form_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("form"))?;
    Ok(settings_of(&form)?.show_scores)
}

fn invalid_resume_token() -> AppError {
    AppError::refused(
        code::INVALID_RESUME_TOKEN,
        Some("input.resumeToken"),
        "this resume token is not valid",
    )
}

async fn public_guard(
    state: &Collect<'_>,
    form: &form::Model,
    settings: &FormSettings,
    client: &Client,
) -> AppResult<()> {
    if state.public_limits.per_form > 0 {
        let now = state.clock.now();
        rate_limit::hit(
            state.cache,
            now,
            &format!("form:{}", form.id),
            state.public_limits.per_form,
        )
        .await?;
    }
    if let Some(origin) = &client.origin
        && !settings.allowed_origins.is_empty()
        && !settings.allowed_origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    {
        return Err(AppError::refused(
            code::ORIGIN_NOT_ALLOWED,
            None,
            format!("pages of {origin} may not submit to this form"),
        ));
    }
    Ok(())
}

/// The form a new response is for, by public id (published forms only) or within a tenant.
/// With the time zone its organization counts days in.
async fn form_of(conn: &impl ConnectionTrait, author: &Author, form: &FormRef) -> AppResult<(form::Model, Tz)> {
    let select = match (form, author) {
        (FormRef::Public(public_id), Author::Public(_)) => form::Entity::find()
            .filter(form::Column::PublicId.eq(public_id.as_str()))
            .filter(form::Column::PublishedVersionId.is_not_null()),
        (FormRef::Id(id), Author::Member { tenant, .. } | Author::ApiKey { tenant, .. }) => form::Entity::find()
            .filter(form::Column::Id.eq(*id))
            .filter(form::Column::OrganizationId.eq(tenant.organization_id)),
        _ => {
            return Err(AppError::Internal(
                "a form reference of another kind of author".to_owned(),
            ));
        }
    };
    with_zone(select, conn)
        .await?
        .ok_or_else(|| AppError::refused(code::NOT_FOUND, Some("input.formId"), "form not found"))
}

/// The form `select` finds, with its organization's time zone: one query.
async fn with_zone(
    select: sea_orm::Select<form::Entity>,
    conn: &impl ConnectionTrait,
) -> AppResult<Option<(form::Model, Tz)>> {
    let found = select.find_also_related(entity::organization::Entity).one(conn).await?;
    Ok(found.map(|(form, organization)| {
        let zone = organization.map_or(Tz::UTC, |o| tally::zone(&o.time_zone));
        (form, zone)
    }))
}

/// The respondent's attributes, when the version's conditions read any.
async fn attributes_of(
    conn: &impl ConnectionTrait,
    def: &FormDef,
    organization_id: Uuid,
    respondent_id: Option<Uuid>,
) -> AppResult<Vec<(String, crate::logic::expr::Value)>> {
    match respondent_id {
        Some(id) if def.reads_attributes() => Ok(respondent::get(conn, Tenant::trusted(organization_id), id)
            .await?
            .attributes),
        _ => Ok(Vec::new()),
    }
}

async fn replay(state: &Collect<'_>, outcome: Outcome) -> AppResult<Done> {
    let conn = state.db.conn();
    let response = response::Entity::find_by_id(outcome.response_id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            // Deleted by staff since: a retry must not bring it back.
            AppError::refused(
                code::NOT_FOUND,
                Some("input.idempotencyKey"),
                "the response written under this key was deleted",
            )
        })?;
    let def = state
        .versions
        .get(conn, response.form_id, response.version_id, "input.versionId")
        .await?;
    let show_scores = shows_scores(conn, response.form_id).await?;
    Ok(Done {
        outcome,
        response,
        def,
        replayed: true,
        show_scores,
    })
}

/// Who the respondent is: from a signed invitation (public API) or given by staff.
async fn respondent_of(
    state: &Collect<'_>,
    author: &Author,
    form: &form::Model,
    opening: &Opening,
    at: DateTime<Utc>,
) -> AppResult<Option<Uuid>> {
    let conn = state.db.conn();
    let id = match author {
        Author::Public(_) => {
            let Some(token) = &opening.invitation else {
                return Ok(None);
            };
            let invalid = |why: &str| AppError::refused(code::INVALID_INVITATION, Some("input.invitationToken"), why);
            let invitation = state
                .signer
                .read_invitation(token)
                .ok_or_else(|| invalid("this invitation token is not valid"))?;
            if invitation.form_id != form.id {
                return Err(invalid("this invitation is for another form"));
            }
            if invitation.expires_at.is_some_and(|t| t <= at) {
                return Err(AppError::refused(
                    code::INVITATION_EXPIRED,
                    Some("input.invitationToken"),
                    "this invitation has expired",
                ));
            }
            invitation.respondent_id
        }
        Author::Member { .. } | Author::ApiKey { .. } => match opening.respondent_id {
            Some(id) => id,
            None => return Ok(None),
        },
    };
    let exists = entity::respondent::Entity::find_by_id(id)
        .filter(entity::respondent::Column::OrganizationId.eq(form.organization_id))
        .one(conn)
        .await?
        .is_some();
    if !exists {
        return Err(match author {
            Author::Public(_) => AppError::refused(
                code::INVALID_INVITATION,
                Some("input.invitationToken"),
                "the invited respondent no longer exists",
            ),
            _ => AppError::refused(code::NOT_FOUND, Some("input.respondentId"), "respondent not found"),
        });
    }
    Ok(Some(id))
}

/// Starts (`finish` false) or submits (`finish` true) a new response.
async fn open(state: &Collect<'_>, author: Author, key: String, opening: Opening, finish: bool) -> AppResult<Done> {
    idempotency::check_key(&key, "input.idempotencyKey")?;
    let conn = state.db.conn();
    let at = state.clock.now();
    let (form, zone) = form_of(conn, &author, &opening.form).await?;
    let scope = format!("form:{}", form.id);
    let hash = idempotency::fingerprint(if finish { "submit" } else { "start" }, &opening);
    if let Some(outcome) = idempotency::earlier::<Outcome>(conn, &scope, &key, &hash).await? {
        return replay(state, outcome).await;
    }
    let settings = settings_of(&form)?;
    if let Author::Public(client) = &author {
        public_guard(state, &form, &settings, client).await?;
    }
    accepting(&form, &settings, at)?;
    let version_id = opening
        .version_id
        .or(form.published_version_id)
        .ok_or_else(|| form_closed("the form is not published"))?;
    let def = state.versions.get(conn, form.id, version_id, "input.versionId").await?;
    let context = Context {
        form,
        zone,
        settings,
        def,
        version_id,
    };
    let respondent_id = respondent_of(state, &author, &context.form, &opening, at).await?;
    if respondent_id.is_none() && !context.settings.allow_anonymous {
        return Err(AppError::refused(
            code::RESPONDENT_REQUIRED,
            Some(match author {
                Author::Public(_) => "input.invitationToken",
                _ => "input.respondentId",
            }),
            "the form takes responses from known respondents only",
        ));
    }
    let mut problems = Vec::new();
    check_opening(&opening, &author, &context.settings, finish, &mut problems);
    let (started_at, completed_at) = times(&opening, at, finish, &mut problems);
    let (answers, answer_problems) = check_answers(&context.def, opening.answers.clone(), opening.hidden.clone());
    let mut rejected = Vec::new();
    let mut answers = answers;
    let mut status = ResponseStatus::InProgress;
    if finish {
        problems.extend(answer_problems);
        AppError::invalid(std::mem::take(&mut problems))?;
        let attributes = attributes_of(conn, &context.def, context.form.organization_id, respondent_id).await?;
        let (finished, off_path, missing) = judge(&context.def, &facts(&answers, attributes));
        problems.extend(missing);
        for key in off_path {
            let i = opening.answers.iter().position(|a| a.key == key).unwrap_or_default();
            problems.push(
                Problem::new(
                    input(&format!("answers[{i}]")),
                    ProblemCode::AnswerOffPath,
                    format!("`{key}` is not on the path these answers take"),
                )
                .with_key(&key),
            );
        }
        status = finished;
    } else {
        // A partial save keeps the valid answers; hidden fields and metadata must be right.
        for problem in answer_problems {
            if problem.path.starts_with("input.hidden") || problem.path == "input.answers" {
                problems.push(problem);
            } else {
                rejected.push(Rejected::from(problem));
            }
        }
        answers.retain(|a| !rejected.iter().any(|r| r.key.as_deref() == Some(a.key.as_str())));
    }
    AppError::invalid(problems)?;

    if let Some(quota) = context.settings.response_quota
        && !finish
        && store::completed_count(conn, context.form.id)
            .await?
            .is_some_and(|n| n >= i64::from(quota))
    {
        return Err(quota_reached());
    }
    let limit_key = match (
        context.settings.response_limit,
        respondent_id,
        &opening.device_id,
        &author,
    ) {
        (ResponseLimit::OnePerRespondent, Some(r), _, _) => Some(format!("r:{r}")),
        (ResponseLimit::OnePerDevice, Some(r), _, Author::Member { .. } | Author::ApiKey { .. }) => {
            Some(format!("r:{r}"))
        }
        (ResponseLimit::OnePerDevice, _, Some(device), Author::Public(_)) => Some(format!("d:{device}")),
        _ => None,
    };
    let (interviewer_id, api_key_id, client) = match &author {
        Author::Public(client) => (None, None, Some(client)),
        Author::Member { user_id, .. } => (Some(*user_id), None, None),
        Author::ApiKey { key_id, .. } => (None, Some(*key_id), None),
    };
    let geolocation = opening.geolocation.filter(|_| context.settings.collect_geolocation);
    let row = response::Model {
        id: Uuid::now_v7(),
        organization_id: context.form.organization_id,
        form_id: context.form.id,
        version_id: context.version_id,
        respondent_id,
        status: status.as_str().to_owned(),
        channel: opening.channel.as_str().to_owned(),
        locale: Some(resolve_locale(&context.def, opening.locale.as_deref())),
        user_agent: client
            .and_then(|c| c.user_agent.as_ref())
            .map(|ua| ua.chars().take(rules::MAX_USER_AGENT_CHARS).collect()),
        device_id: opening.device_id.clone(),
        limit_key,
        interviewer_id,
        api_key_id,
        ip_hash: client
            .and_then(|c| c.address)
            .filter(|_| context.settings.store_ip_address)
            .map(|address| state.signer.hash_address(address)),
        latitude: geolocation.map(|g| g.latitude),
        longitude: geolocation.map(|g| g.longitude),
        total_score: total_score(&answers),
        started_at,
        updated_at: at,
        completed_at,
        duration_seconds: completed_at.map(|c| duration(started_at, c)),
        completed_day: completed_at.map(|c| local_day(c, context.zone)),
        segmented: false,
    };
    let mut outcome = Outcome {
        response_id: row.id,
        dropped: Vec::new(),
        rejected,
        resumed: false,
    };

    let answered_at = (status == ResponseStatus::Completed)
        .then_some(row.completed_at)
        .flatten();
    // PostgreSQL, a whole anonymous response with no limit or quota to check: one statement.
    if state.db.backend() == DbBackend::Postgres
        && finish
        && row.limit_key.is_none()
        && row.respondent_id.is_none()
        && context.settings.response_quota.is_none()
    {
        let event = (status == ResponseStatus::Completed).then(|| {
            event::about_response(
                (at, event::EventType::ResponseCompleted),
                &row,
                &context.def,
                &answers,
                None,
            )
        });
        let mut change = event.as_ref().map(event::Event::change);
        let claim = idempotency::key_row(at, row.organization_id, (&scope, &key, &hash), &outcome)?;
        let wrote = store::insert_at_once(
            state.db.conn(),
            store::AtOnce {
                claim,
                row: &row,
                answers: &answers,
                answered_at,
                event,
            },
        )
        .await?;
        if !wrote.claimed {
            let earlier = idempotency::earlier::<Outcome>(state.db.conn(), &scope, &key, &hash)
                .await?
                .ok_or_else(|| AppError::Internal("a conflicting idempotency key vanished".to_owned()))?;
            return replay(state, earlier).await;
        }
        if let Some(change) = &mut change {
            change.recorded = wrote.recorded;
            state.events.committed(std::slice::from_ref(change)).await;
        }
        return Ok(Done {
            outcome,
            response: row,
            def: context.def,
            replayed: false,
            show_scores: context.settings.show_scores,
        });
    }
    let txn = state.db.begin_write().await?;
    if let Some(earlier) =
        idempotency::claim(&txn, at, context.form.organization_id, &scope, &key, &hash, &outcome).await?
    {
        txn.rollback().await?;
        return replay(state, earlier).await;
    }
    if status == ResponseStatus::Completed
        && let Some(quota) = context.settings.response_quota
        && !store::count_within_quota(&txn, context.form.id, quota).await?
    {
        txn.rollback().await?;
        return Err(quota_reached());
    }
    if !store::insert_response(&txn, row.clone()).await? {
        let limit_key = row.limit_key.as_deref().unwrap_or_default();
        let holder = store::holder_of(&txn, context.form.id, limit_key).await?;
        return match holder {
            Some(holder) if !finish && holder.status == ResponseStatus::InProgress.as_str() => {
                // The respondent's response in progress, resumed (e.g. the invitation link
                // opened on another device).
                outcome.response_id = holder.id;
                outcome.rejected.clear();
                outcome.resumed = true;
                idempotency::settle(&txn, &scope, &key, &outcome).await?;
                txn.commit().await?;
                Ok(Done {
                    outcome,
                    response: holder,
                    def: context.def,
                    replayed: false,
                    show_scores: context.settings.show_scores,
                })
            }
            _ => {
                txn.rollback().await?;
                Err(AppError::refused(
                    code::ALREADY_RESPONDED,
                    None,
                    if row.limit_key.as_deref().is_some_and(|k| k.starts_with("d:")) {
                        "this device has already responded to the form"
                    } else {
                        "this respondent has already responded to the form"
                    },
                ))
            }
        };
    }
    store::insert_answers(&txn, &row, &answers, answered_at).await?;
    if finish {
        store::snapshot_attributes(&txn, &row).await?;
    }
    // Its counts wait for a fold: no row every concurrent submission shares is written.
    tally::mark_pending(&txn, &row).await?;
    let event = if status == ResponseStatus::Completed {
        Some((event::EventType::ResponseCompleted, event::Receivers::Ask))
    } else if status == ResponseStatus::InProgress
        && !answers.is_empty()
        && event::wanted(&txn, row.organization_id, event::EventType::ResponseUpdated).await?
    {
        Some((event::EventType::ResponseUpdated, event::Receivers::Known))
    } else {
        None
    };
    let change = match event {
        Some((event_type, receivers)) => {
            Some(event::response_event(&txn, (at, event_type, receivers), &row, &context.def, &answers).await?)
        }
        None => None,
    };
    txn.commit().await?;
    if let Some(change) = change {
        state.events.committed(&[change]).await;
    }
    Ok(Done {
        outcome,
        response: row,
        def: context.def,
        replayed: false,
        show_scores: context.settings.show_scores,
    })
}

fn quota_reached() -> AppError {
    AppError::refused(
        code::QUOTA_REACHED,
        None,
        "the form has all the responses its quota allows",
    )
}

/// Saves (`finish` false) or completes (`finish` true) a response in progress.
async fn proceed(
    state: &Collect<'_>,
    client: Client,
    key: String,
    continuation: Continuation,
    finish: bool,
) -> AppResult<Done> {
    idempotency::check_key(&key, "input.idempotencyKey")?;
    let conn = state.db.conn();
    let at = state.clock.now();
    let response_id = state
        .signer
        .read_resume_token(&continuation.resume_token)
        .ok_or_else(invalid_resume_token)?;
    let scope = format!("response:{response_id}");
    let hash = idempotency::fingerprint(if finish { "complete" } else { "save" }, &continuation);
    if let Some(outcome) = idempotency::earlier::<Outcome>(conn, &scope, &key, &hash).await? {
        return replay(state, outcome).await;
    }
    let row = response::Entity::find_by_id(response_id)
        .one(conn)
        .await?
        .ok_or_else(invalid_resume_token)?;
    let (form, zone) = with_zone(form::Entity::find_by_id(row.form_id), conn)
        .await?
        .ok_or_else(invalid_resume_token)?;
    let settings = settings_of(&form)?;
    public_guard(state, &form, &settings, &client).await?;
    accepting(&form, &settings, at)?;
    let def = state
        .versions
        .get(conn, row.form_id, row.version_id, "input.resumeToken")
        .await?;

    let mut problems = Vec::new();
    let (answers, answer_problems) = check_answers(&def, continuation.answers.clone(), Vec::new());
    let known = def.keys();
    for (i, key) in continuation.clear.iter().enumerate() {
        if !known.contains(key) {
            problems.push(
                Problem::new(
                    input(&format!("clear[{i}]")),
                    ProblemCode::UnknownQuestion,
                    format!("the form has no `{key}`"),
                )
                .with_key(key),
            );
        } else if continuation.answers.iter().any(|a| &a.key == key) {
            problems.push(
                Problem::new(
                    input(&format!("clear[{i}]")),
                    ProblemCode::Duplicate,
                    format!("`{key}` is both answered and cleared"),
                )
                .with_key(key),
            );
        }
    }
    let mut rejected = Vec::new();
    let mut answers = answers;
    if finish {
        problems.extend(answer_problems);
    } else {
        rejected = answer_problems.into_iter().map(Rejected::from).collect();
        answers.retain(|a| !rejected.iter().any(|r| r.key.as_deref() == Some(a.key.as_str())));
    }
    AppError::invalid(problems)?;
    let attributes = if finish {
        attributes_of(conn, &def, row.organization_id, row.respondent_id).await?
    } else {
        Vec::new()
    };

    let mut outcome = Outcome {
        response_id,
        dropped: Vec::new(),
        rejected,
        resumed: false,
    };
    let txn = state.db.begin_write().await?;
    if let Some(earlier) = idempotency::claim(&txn, at, row.organization_id, &scope, &key, &hash, &outcome).await? {
        txn.rollback().await?;
        return replay(state, earlier).await;
    }
    let mut row = store::lock(&txn, response_id).await?.ok_or_else(invalid_resume_token)?;
    if crate::service::response::status_of(&row)? != ResponseStatus::InProgress {
        txn.rollback().await?;
        return Err(AppError::refused(
            code::RESPONSE_FINISHED,
            Some("input.resumeToken"),
            "this response is finished and takes no more answers",
        ));
    }
    let stored = answers_of(&txn, vec![response_id])
        .await?
        .remove(&response_id)
        .unwrap_or_default();
    let replaced: Vec<String> = answers
        .iter()
        .map(|a| a.key.clone())
        .chain(continuation.clear.iter().cloned())
        .collect();
    let mut merged: Vec<Checked> = stored.into_iter().filter(|a| !replaced.contains(&a.key)).collect();
    merged.extend(answers.iter().cloned());
    row.updated_at = at;
    let mut change = None;
    if finish {
        let (status, off_path, missing) = judge(&def, &facts(&merged, attributes));
        if !missing.is_empty() {
            txn.rollback().await?;
            return Err(AppError::problems(missing));
        }
        if status == ResponseStatus::Completed
            && let Some(quota) = settings.response_quota
            && !store::count_within_quota(&txn, form.id, quota).await?
        {
            txn.rollback().await?;
            return Err(quota_reached());
        }
        merged.retain(|a| !off_path.contains(&a.key));
        row.status = status.as_str().to_owned();
        row.completed_at = Some(at);
        row.duration_seconds = Some(duration(row.started_at, at));
        row.completed_day = Some(local_day(at, zone));
        row.total_score = total_score(&merged);
        outcome.dropped = off_path;
        idempotency::settle(&txn, &scope, &key, &outcome).await?;
        store::delete_answers(&txn, response_id, None).await?;
        let answered_at = (status == ResponseStatus::Completed).then_some(at);
        store::insert_answers(&txn, &row, &merged, answered_at).await?;
        store::snapshot_attributes(&txn, &row).await?;
        // Counts still pending are folded as the response is then; else the start is in the
        // tallies and the rest is added now.
        if !tally::touch_pending(&txn, &row).await? {
            let mut entries = tally::contribution_of(&row, &merged)?;
            entries.retain(|e| e.measure != Measure::Started);
            tally::apply(&txn, row.form_id, zone, &entries, 1).await?;
        }
        if status == ResponseStatus::Completed {
            let completed = event::EventType::ResponseCompleted;
            change =
                Some(event::response_event(&txn, (at, completed, event::Receivers::Ask), &row, &def, &merged).await?);
        }
    } else {
        row.total_score = total_score(&merged);
        store::delete_answers(&txn, response_id, Some(replaced)).await?;
        store::insert_answers(&txn, &row, &answers, None).await?;
        if event::wanted(&txn, row.organization_id, event::EventType::ResponseUpdated).await? {
            let updated = event::EventType::ResponseUpdated;
            change =
                Some(event::response_event(&txn, (at, updated, event::Receivers::Known), &row, &def, &merged).await?);
        }
    }
    store::update_response(&txn, &row).await?;
    txn.commit().await?;
    if let Some(change) = change {
        state.events.committed(&[change]).await;
    }
    Ok(Done {
        outcome,
        response: row,
        def,
        replayed: false,
        show_scores: settings.show_scores,
    })
}
