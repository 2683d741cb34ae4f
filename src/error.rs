//! The one application error type and its mapping to GraphQL errors.
//!
//! Every error a client can receive has a stable code in [`code`]. `AppError` deliberately
//! does not implement `Display`: async-graphql turns any `Display` error into a client message,
//! and this type must only reach clients through [`From<AppError> for async_graphql::Error`],
//! which keeps internal details in the log.
use async_graphql::ErrorExtensions;

/// Stable, machine-readable error codes (`extensions.code`). Never rename one.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// The HTTP request itself is malformed (not JSON, no query, wrong content type).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// The request body is larger than the configured cap.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// The request did not finish within the configured time.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The query text is not valid GraphQL.
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The query is valid GraphQL but not valid against the schema or over a limit.
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// A form version cannot be published yet; `extensions.problems` lists every reason.
    pub const FORM_NOT_PUBLISHABLE: &str = "FORM_NOT_PUBLISHABLE";
    /// The form does not accept responses: closed, archived, or past its closing date.
    pub const FORM_CLOSED: &str = "FORM_CLOSED";
    /// The form has as many completed responses as its quota allows.
    pub const QUOTA_REACHED: &str = "QUOTA_REACHED";
    /// The respondent (or device) has already responded to a form that allows one response.
    pub const ALREADY_RESPONDED: &str = "ALREADY_RESPONDED";
    /// The idempotency key was used before with another payload.
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    /// The invitation token was not signed by this service, or is for another form.
    pub const INVALID_INVITATION: &str = "INVALID_INVITATION";
    /// The invitation token has expired.
    pub const INVITATION_EXPIRED: &str = "INVITATION_EXPIRED";
    /// The form accepts only known respondents (an invitation token) and none was given.
    pub const RESPONDENT_REQUIRED: &str = "RESPONDENT_REQUIRED";
    /// The resume token is not valid.
    pub const INVALID_RESUME_TOKEN: &str = "INVALID_RESUME_TOKEN";
    /// The response was completed (or disqualified) already and takes no more answers.
    pub const RESPONSE_FINISHED: &str = "RESPONSE_FINISHED";
    /// The page's origin is not among the form's allowed origins.
    pub const ORIGIN_NOT_ALLOWED: &str = "ORIGIN_NOT_ALLOWED";
    /// An automatic persisted query's hash is unknown: send the query text with the hash.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// The document is over a size cap before it runs (`extensions.limit` names the cap:
    /// `queryBytes`, `nesting`, `fragments`, `fragmentSpreads`, `selections`, `rootFields`,
    /// `writes`; `extensions.max` is its value). Split the request or use fewer fragments.
    pub const QUERY_TOO_LARGE: &str = "QUERY_TOO_LARGE";
    /// A dependency (the database) cannot be reached right now: retry after `Retry-After`
    /// seconds (`extensions.retryable` is true). Nothing was changed unless the operation's
    /// own answer says so; writes carry idempotency keys, so a retry never counts twice.
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// A webhook URL points at a loopback, private, link-local or reserved address (or a
    /// name for this machine), where the server's settings do not allow webhooks to go.
    pub const DESTINATION_NOT_ALLOWED: &str = "DESTINATION_NOT_ALLOWED";

    /// Every code above (the README lists each; a test checks it).
    pub const ALL: &[&str] = &[
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        BAD_USER_INPUT,
        CONFLICT,
        RATE_LIMITED,
        INTERNAL_SERVER_ERROR,
        BAD_REQUEST,
        PAYLOAD_TOO_LARGE,
        TIMEOUT,
        GRAPHQL_PARSE_FAILED,
        GRAPHQL_VALIDATION_FAILED,
        FORM_NOT_PUBLISHABLE,
        FORM_CLOSED,
        QUOTA_REACHED,
        ALREADY_RESPONDED,
        IDEMPOTENCY_KEY_REUSED,
        INVALID_INVITATION,
        INVITATION_EXPIRED,
        RESPONDENT_REQUIRED,
        INVALID_RESUME_TOKEN,
        RESPONSE_FINISHED,
        ORIGIN_NOT_ALLOWED,
        PERSISTED_QUERY_NOT_FOUND,
        QUERY_TOO_LARGE,
        SERVICE_UNAVAILABLE,
        DESTINATION_NOT_ALLOWED,
    ];
}

/// Codes after which the same request may succeed later unchanged (`extensions.retryable`).
pub fn is_retryable(code: &str) -> bool {
    matches!(code, code::SERVICE_UNAVAILABLE | code::RATE_LIMITED)
}

/// Seconds a client should wait before retrying after SERVICE_UNAVAILABLE.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

/// Result of service functions and resolvers.
pub type AppResult<T> = Result<T, AppError>;

/// Everything that can go wrong while serving a request.
#[derive(Debug, Clone)]
pub enum AppError {
    /// No valid credentials were presented.
    Unauthenticated(String),
    /// Credentials are valid but do not allow this action.
    Forbidden(String),
    /// The thing does not exist, or belongs to another organization.
    NotFound(String),
    /// An input is invalid; `field` is its path in the request (e.g. `input.email`).
    BadInput { field: String, message: String },
    /// The request conflicts with the current state (duplicate, last owner…).
    Conflict { field: Option<String>, message: String },
    /// Several problems found at once: `code` is the error's code, each problem has its own
    /// path and reason, and the first one's path is the error's `field`.
    Problems {
        code: &'static str,
        message: String,
        problems: Vec<crate::form::Problem>,
    },
    /// A refusal with its own code (FORM_CLOSED, QUOTA_REACHED…), naming the field if any.
    Refused {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// Too many requests; retry after the given number of seconds.
    RateLimited { retry_after_secs: u64 },
    /// A dependency (the database) cannot be reached; the request may be retried. The text is
    /// logged, never sent to the client.
    Unavailable(String),
    /// A failure of ours or of a dependency. The text is logged, never sent to the client.
    Internal(String),
}

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// Input problems found at once, reported as BAD_USER_INPUT; none means no error.
    pub fn invalid(problems: Vec<crate::form::Problem>) -> AppResult<()> {
        let Some((first, rest)) = problems.split_first() else {
            return Ok(());
        };
        let mut message = format!("{}: {}", first.path, first.message);
        if !rest.is_empty() {
            message.push_str(&format!(" (and {} more problems)", rest.len()));
        }
        Err(AppError::Problems {
            code: code::BAD_USER_INPUT,
            message,
            problems,
        })
    }

    /// Input problems found at once, reported as BAD_USER_INPUT (at least one is expected).
    pub fn problems(problems: Vec<crate::form::Problem>) -> Self {
        match Self::invalid(problems) {
            Err(err) => err,
            Ok(()) => AppError::Internal("a refusal without problems".to_owned()),
        }
    }

    /// One input problem, reported as BAD_USER_INPUT.
    pub fn problem(problem: crate::form::Problem) -> Self {
        AppError::Problems {
            code: code::BAD_USER_INPUT,
            message: format!("{}: {}", problem.path, problem.message),
            problems: vec![problem],
        }
    }

    /// A refusal with its own code.
    pub fn refused(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::Refused {
            code,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        AppError::Internal(format!("{context}: {err}"))
    }

    /// The stable code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => code::UNAUTHENTICATED,
            AppError::Forbidden(_) => code::FORBIDDEN,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::BadInput { .. } => code::BAD_USER_INPUT,
            AppError::Conflict { .. } => code::CONFLICT,
            AppError::Problems { code, .. } | AppError::Refused { code, .. } => code,
            AppError::RateLimited { .. } => code::RATE_LIMITED,
            AppError::Unavailable(_) => code::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message clients see: never internal details.
    pub fn client_message(&self) -> String {
        match self {
            AppError::Unauthenticated(m) | AppError::Forbidden(m) | AppError::NotFound(m) => m.clone(),
            AppError::BadInput { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::Problems { message, .. }
            | AppError::Refused { message, .. } => message.clone(),
            AppError::RateLimited { retry_after_secs } => {
                format!("rate limit exceeded; retry after {retry_after_secs} s")
            }
            AppError::Unavailable(_) => {
                format!("the service is temporarily unavailable; retry in {UNAVAILABLE_RETRY_AFTER_SECS} s")
            }
            AppError::Internal(_) => "internal server error".to_owned(),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    /// A lost or unreachable database is retriable (SERVICE_UNAVAILABLE); anything else is ours.
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&err) {
            AppError::Unavailable(format!("database: {err}"))
        } else {
            AppError::internal("database", err)
        }
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

tokio::task_local! {
    /// The id of the HTTP request being served, so errors can name it.
    pub static REQUEST_ID: String;
}

/// The current request's id, if a request is being served on this task.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let request_id = current_request_id();
        match &err {
            AppError::Internal(detail) => {
                tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), error = %detail, "internal error")
            }
            AppError::Unavailable(detail) => {
                tracing::warn!(request_id = request_id.as_deref().unwrap_or("-"), error = %detail, "dependency unavailable")
            }
            _ => {}
        }
        async_graphql::Error::new(err.client_message()).extend_with(|_, ext| {
            ext.set("code", err.code());
            match &err {
                AppError::BadInput { field, .. } => ext.set("field", field.as_str()),
                AppError::Conflict { field: Some(field), .. } | AppError::Refused { field: Some(field), .. } => {
                    ext.set("field", field.as_str())
                }
                AppError::RateLimited { retry_after_secs } => ext.set("retryAfter", *retry_after_secs),
                AppError::Unavailable(_) => ext.set("retryAfter", UNAVAILABLE_RETRY_AFTER_SECS),
                AppError::Problems { problems, .. } => {
                    if let Some(first) = problems.first() {
                        ext.set("field", first.path.as_str());
                    }
                    let list: Vec<async_graphql::Value> = problems
                        .iter()
                        .map(|p| {
                            let mut item = async_graphql::indexmap::IndexMap::new();
                            item.insert(async_graphql::Name::new("path"), p.path.as_str().into());
                            item.insert(async_graphql::Name::new("code"), p.code.as_str().into());
                            item.insert(async_graphql::Name::new("message"), p.message.as_str().into());
                            if let Some(key) = &p.key {
                                item.insert(async_graphql::Name::new("key"), key.as_str().into());
                            }
                            async_graphql::Value::Object(item)
                        })
                        .collect();
                    ext.set("problems", list);
                }
                _ => {}
            }
            if is_retryable(err.code()) {
                ext.set("retryable", true);
            }
            if let Some(id) = &request_id {
                ext.set("requestId", id.as_str());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(err: AppError) -> (String, async_graphql::Value, Option<async_graphql::Value>) {
        let gql: async_graphql::Error = err.into();
        let ext = gql.extensions.expect("extensions set");
        (
            gql.message,
            ext.get("code").cloned().unwrap(),
            ext.get("field").cloned(),
        )
    }

    #[test]
    fn every_variant_maps_to_its_code() {
        let cases = [
            (AppError::Unauthenticated("x".into()), code::UNAUTHENTICATED),
            (AppError::Forbidden("x".into()), code::FORBIDDEN),
            (AppError::NotFound("x".into()), code::NOT_FOUND),
            (AppError::bad_input("input.email", "bad"), code::BAD_USER_INPUT),
            (AppError::conflict("input.email", "taken"), code::CONFLICT),
            (AppError::RateLimited { retry_after_secs: 3 }, code::RATE_LIMITED),
            (
                AppError::refused(code::QUOTA_REACHED, Some("input.formId"), "full"),
                code::QUOTA_REACHED,
            ),
            (AppError::Unavailable("down".into()), code::SERVICE_UNAVAILABLE),
            (AppError::Internal("boom".into()), code::INTERNAL_SERVER_ERROR),
        ];
        for (err, expected) in cases {
            let (_, code, _) = ext(err);
            assert_eq!(code, async_graphql::Value::from(expected));
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        let (message, _, field) = ext(AppError::bad_input("input.timeZone", "unknown time zone"));
        assert_eq!(message, "unknown time zone");
        assert_eq!(field, Some(async_graphql::Value::from("input.timeZone")));
    }

    #[test]
    fn a_lost_database_is_retryable() {
        let lost = sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        let gql: async_graphql::Error = AppError::from(lost).into();
        let extensions = gql.extensions.expect("extensions set");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from(code::SERVICE_UNAVAILABLE))
        );
        assert_eq!(extensions.get("retryable"), Some(&async_graphql::Value::from(true)));
        assert!(!gql.message.contains("Timeout"), "{}", gql.message);
        let (_, code, _) = ext(AppError::from(sea_orm::DbErr::Custom("bug".into())));
        assert_eq!(code, async_graphql::Value::from(code::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn internal_details_never_reach_the_client() {
        let db = sea_orm::DbErr::Custom("SELECT secret FROM users; syntax error".into());
        let (message, code, _) = ext(db.into());
        assert_eq!(message, "internal server error");
        assert_eq!(code, async_graphql::Value::from(code::INTERNAL_SERVER_ERROR));
    }
}
