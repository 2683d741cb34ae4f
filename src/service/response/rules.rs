//! The rules a response is checked against, apart from storage: each answer against its
//! question, the path over a set of answers, the metadata of a new response (channel, locale,
//! device, location, times), whether a form takes responses now.
use crate::codes::ProblemCode;
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::form;

use super::{
    ResponseStatus,
    submit::{AnswerIn, Author, HiddenIn, Opening},
};
use crate::{
    error::{AppError, AppResult, code},
    form::{
        Problem,
        answer::{self, Checked},
        kind::QuestionKind,
        model::{FormDef, FormSettings, MAX_QUESTIONS, ResponseLimit, is_locale},
    },
    logic::{
        eval::Facts,
        path::{self, Next, ViolationKind},
    },
    service::form::{FormStatus, status_of},
};

/// Most hidden fields in one request.
pub const MAX_HIDDEN: usize = 100;
/// Longest device id and user agent kept.
pub const MAX_DEVICE_ID_CHARS: usize = 200;
pub const MAX_USER_AGENT_CHARS: usize = 500;
/// How far a client's clock may run ahead of ours.
const CLOCK_SKEW: Duration = Duration::minutes(5);
/// Oldest start time a client may report (answers collected offline).
const MAX_OFFLINE_DAYS: i64 = 30;

/// A path in the operation's input.
pub(super) fn input(path: &str) -> String {
    format!("input.{path}")
}

pub(super) fn form_closed(message: &str) -> AppError {
    AppError::refused(code::FORM_CLOSED, None, message)
}

/// Whether the form takes responses now.
pub(super) fn accepting(form: &form::Model, settings: &FormSettings, at: DateTime<Utc>) -> AppResult<()> {
    match status_of(form)? {
        FormStatus::Published => {}
        FormStatus::Draft => return Err(form_closed("the form is not published")),
        FormStatus::Closed | FormStatus::Archived => return Err(form_closed("the form is closed")),
    }
    if settings.closes_at.is_some_and(|t| t <= at) {
        return Err(form_closed("the form closed at its closing date"));
    }
    Ok(())
}

/// Public requests: the form's rate limit and allowed origins.
/// Checks answers and hidden fields against the version. Problems come back one per answer;
/// checked answers keep their input order.
pub(super) fn check_answers(
    def: &FormDef,
    answers: Vec<AnswerIn>,
    hidden: Vec<HiddenIn>,
) -> (Vec<Checked>, Vec<Problem>) {
    let questions: HashMap<&str, _> = def.questions().map(|q| (q.key.as_str(), q)).collect();
    let mut checked: Vec<Checked> = Vec::new();
    let mut problems = Vec::new();
    if answers.len() > MAX_QUESTIONS {
        problems.push(Problem::new(
            input("answers"),
            ProblemCode::TooMany,
            format!("at most {MAX_QUESTIONS} answers"),
        ));
        return (checked, problems);
    }
    if hidden.len() > MAX_HIDDEN {
        problems.push(Problem::new(
            input("hidden"),
            ProblemCode::TooMany,
            format!("at most {MAX_HIDDEN} hidden fields"),
        ));
        return (checked, problems);
    }
    let mut seen: HashMap<String, ()> = HashMap::new();
    let entries = answers
        .into_iter()
        .map(|a| (a.key, Some((a.value, a.other)), None))
        .enumerate()
        .map(|(i, (k, a, h))| (input(&format!("answers[{i}]")), k, a, h))
        .chain(
            hidden
                .into_iter()
                .enumerate()
                .map(|(i, h)| (input(&format!("hidden[{i}]")), h.key, None, Some(h.value))),
        );
    for (path, key, given, hidden_value) in entries {
        if seen.insert(key.clone(), ()).is_some() {
            problems.push(
                Problem::new(
                    format!("{path}.key"),
                    ProblemCode::Duplicate,
                    format!("`{key}` is given twice"),
                )
                .with_key(&key),
            );
            continue;
        }
        let Some(question) = questions.get(key.as_str()) else {
            let code = if hidden_value.is_some() {
                ProblemCode::UnknownHiddenField
            } else {
                ProblemCode::UnknownQuestion
            };
            problems.push(Problem::new(format!("{path}.key"), code, format!("the form has no `{key}`")).with_key(&key));
            continue;
        };
        let result = match (given, hidden_value) {
            (Some((value, other)), _) => answer::check(question, value, other, &path),
            (None, Some(value)) => answer::hidden(question, value, &path),
            (None, None) => continue,
        };
        match result {
            Ok(answer) => checked.push(answer),
            Err(problem) => problems.push(problem),
        }
    }
    (checked, problems)
}

/// The condition engine's facts: answers, the respondent's attributes, hidden fields.
pub fn facts(answers: &[Checked], attributes: Vec<(String, crate::logic::expr::Value)>) -> Facts {
    let mut facts = Facts::default();
    for a in answers {
        if a.kind == QuestionKind::Hidden {
            facts.hidden.insert(a.key.clone(), a.text.clone().unwrap_or_default());
        } else {
            facts.answers.insert(a.key.clone(), a.fact());
        }
    }
    facts.attributes = attributes.into_iter().collect();
    facts
}

/// What the path makes of a set of answers: the status it finishes with, the keys off it,
/// and problems for missing required answers.
pub(super) fn judge(def: &FormDef, facts: &Facts) -> (ResponseStatus, Vec<String>, Vec<Problem>) {
    let evaluation = path::evaluate(def, facts);
    let status = if evaluation.finish == Next::Disqualified {
        ResponseStatus::Disqualified
    } else {
        ResponseStatus::Completed
    };
    let mut off_path = Vec::new();
    let mut missing = Vec::new();
    for violation in evaluation.violations {
        match violation.kind {
            ViolationKind::Required => missing.push(
                Problem::new(
                    input("answers"),
                    ProblemCode::Required,
                    format!("`{}` is required on this path", violation.key),
                )
                .with_key(&violation.key),
            ),
            ViolationKind::OffPath => off_path.push(violation.key),
            ViolationKind::UnknownQuestion => {}
        }
    }
    (status, off_path, missing)
}

/// The form's locale closest to the one asked for: exact, then by language, else the default.
pub fn resolve_locale(def: &FormDef, wanted: Option<&str>) -> String {
    let Some(wanted) = wanted else {
        return def.default_locale.clone();
    };
    let language = wanted.split('-').next().unwrap_or(wanted);
    def.locales
        .iter()
        .find(|l| l.as_str() == wanted)
        .or_else(|| def.locales.iter().find(|l| l.split('-').next() == Some(language)))
        .cloned()
        .unwrap_or_else(|| def.default_locale.clone())
}

/// Checks the metadata of a new response; problems are added to `problems`.
pub(super) fn check_opening(
    opening: &Opening,
    author: &Author,
    settings: &FormSettings,
    finish: bool,
    problems: &mut Vec<Problem>,
) {
    match author {
        Author::Public(_) if opening.channel.is_interview() => problems.push(Problem::new(
            input("channel"),
            ProblemCode::ChannelNotAllowed,
            "PHONE and IN_PERSON responses are recorded by members of staff",
        )),
        Author::Member { .. } if !opening.channel.is_interview() => problems.push(Problem::new(
            input("channel"),
            ProblemCode::ChannelNotAllowed,
            "members record PHONE or IN_PERSON responses",
        )),
        _ => {}
    }
    if let Some(locale) = &opening.locale
        && !is_locale(locale)
    {
        problems.push(Problem::new(
            input("locale"),
            ProblemCode::InvalidLocale,
            "not a language tag such as fa, en or en-GB",
        ));
    }
    if let Some(device) = &opening.device_id
        && (device.is_empty() || device.chars().count() > MAX_DEVICE_ID_CHARS || device.chars().any(char::is_control))
    {
        problems.push(Problem::new(
            input("deviceId"),
            ProblemCode::InvalidValue,
            format!("1–{MAX_DEVICE_ID_CHARS} characters without control characters"),
        ));
    }
    if let Some(geo) = opening.geolocation {
        if !settings.collect_geolocation {
            problems.push(Problem::new(
                input("geolocation"),
                ProblemCode::NotCollected,
                "the form does not collect locations: leave geolocation out",
            ));
        }
        if !(geo.latitude.is_finite() && (-90.0..=90.0).contains(&geo.latitude)) {
            problems.push(Problem::new(
                input("geolocation.latitude"),
                ProblemCode::OutOfRange,
                "a latitude is between -90 and 90",
            ));
        }
        if !(geo.longitude.is_finite() && (-180.0..=180.0).contains(&geo.longitude)) {
            problems.push(Problem::new(
                input("geolocation.longitude"),
                ProblemCode::OutOfRange,
                "a longitude is between -180 and 180",
            ));
        }
    }
    if !finish && opening.completed_at.is_some() {
        problems.push(Problem::new(
            input("completedAt"),
            ProblemCode::NotApplicable,
            "a started response is completed by completeResponse",
        ));
    }
    if let Author::Public(_) = author
        && settings.response_limit == ResponseLimit::OnePerDevice
        && opening.device_id.is_none()
    {
        problems.push(Problem::new(
            input("deviceId"),
            ProblemCode::Required,
            "the form allows one response per device: send the device's id",
        ));
    }
}

/// The start and completion times of a new response, checked against our clock.
pub(super) fn times(
    opening: &Opening,
    at: DateTime<Utc>,
    finish: bool,
    problems: &mut Vec<Problem>,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let oldest = at - Duration::days(MAX_OFFLINE_DAYS);
    let mut bounded = |value: Option<DateTime<Utc>>, field: &str| match value {
        Some(t) if t > at + CLOCK_SKEW || t < oldest => {
            problems.push(Problem::new(
                input(field),
                ProblemCode::OutOfRange,
                format!("must be within the last {MAX_OFFLINE_DAYS} days and not in the future"),
            ));
            None
        }
        Some(t) => Some(crate::service::truncate(t.min(at))),
        None => None,
    };
    let started = bounded(opening.started_at, "startedAt").unwrap_or(at);
    let completed = if finish {
        let completed = bounded(opening.completed_at, "completedAt").unwrap_or(at);
        if completed < started {
            problems.push(Problem::new(
                input("completedAt"),
                ProblemCode::RangeInverted,
                "completedAt is before startedAt",
            ));
        }
        Some(completed.max(started))
    } else {
        None
    };
    (started, completed)
}

pub(super) fn total_score(answers: &[Checked]) -> Option<f64> {
    let scores: Vec<f64> = answers.iter().filter_map(|a| a.score).collect();
    (!scores.is_empty()).then(|| scores.iter().sum())
}

pub(super) fn duration(started: DateTime<Utc>, completed: DateTime<Utc>) -> i32 {
    i32::try_from((completed - started).num_seconds().max(0)).unwrap_or(i32::MAX)
}
