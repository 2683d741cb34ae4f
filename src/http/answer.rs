//! How answers are shaped: the media type (by `Accept` and its q-values), errors with their
//! codes and request ids, and the body, serialized once in the order the engine produced (the
//! order the client asked for), with `data` left out when the request failed before execution.
use async_graphql::{ErrorExtensionValues, ServerError};
use poem::{
    Response,
    http::{HeaderValue, StatusCode, header},
};
use serde::{Serialize, ser::SerializeMap};
use serde_json::{Value, json};

use crate::{
    error::{AppError, UNAVAILABLE_RETRY_AFTER_SECS, code, current_request_id, is_retryable},
    service::rate_limit::RateLimitStatus,
};

pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

/// Which media type to answer with, honouring `Accept` and its q-values; `None` when the client
/// accepts neither. No `Accept`, or only wildcards: `application/json` (what clients before the
/// GraphQL-over-HTTP spec expect). A tie goes to `application/graphql-response+json`.
pub fn negotiate(accept: Option<&str>) -> Option<&'static str> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(JSON);
    };
    let mut best: Option<(&'static str, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
            .next()
            .unwrap_or(1.0);
        let candidates: &[&'static str] = match media.as_str() {
            GRAPHQL_RESPONSE => &[GRAPHQL_RESPONSE],
            JSON | "*/*" | "application/*" => &[JSON],
            _ => &[],
        };
        for &candidate in candidates {
            let better = match best {
                None => true,
                Some((current, weight)) => {
                    q > weight || (q == weight && candidate == GRAPHQL_RESPONSE && current != candidate)
                }
            };
            if q > 0.0 && better {
                best = Some((candidate, q));
            }
        }
    }
    best.map(|(media, _)| media)
}

pub fn json_response(status: StatusCode, media: &str, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(media)
        .body(body.to_string())
}

/// An error answered before any operation ran, in the GraphQL error shape.
pub fn request_error(status: StatusCode, media: &str, code: &str, message: &str) -> Response {
    let mut extensions = json!({ "code": code });
    if is_retryable(code) {
        extensions["retryable"] = json!(true);
    }
    if let Some(id) = current_request_id() {
        extensions["requestId"] = json!(id);
    }
    json_response(
        status,
        media,
        &json!({ "errors": [{ "message": message, "extensions": extensions }] }),
    )
}

fn set_code(err: &mut ServerError, value: &str) {
    let ext = err.extensions.get_or_insert_with(ErrorExtensionValues::default);
    if ext.get("code").is_none() {
        ext.set("code", value);
    }
}

/// An error of one operation that never ran, with its code (and request id).
pub fn operation_error(code: &str, message: String, extra: &[(&str, async_graphql::Value)]) -> ServerError {
    let mut error = ServerError::new(message, None);
    set_code(&mut error, code);
    let ext = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
    for (name, value) in extra {
        ext.set(*name, value.clone());
    }
    error
}

/// The argument whose value starts at `line`:`column` of `query` (the name before its colon).
fn argument_at(query: &str, line: usize, column: usize) -> Option<String> {
    let text = query.lines().nth(line.checked_sub(1)?)?;
    let before: String = text.chars().take(column.checked_sub(1)?).collect();
    let before = before.trim_end().strip_suffix(':')?.trim_end();
    let name: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every error gets a code, the request id and, when worth retrying, `retryable`. Errors that
/// carry no code come from async-graphql itself: before execution they are validation errors
/// (parse errors never reach it: [`crate::graphql::guard`] parses first); during execution, input values that
/// do not fit their argument's type (BAD_USER_INPUT, naming the argument).
pub fn finish_errors(query: &str, response: &mut async_graphql::Response, failed_before_execution: bool) {
    let request_id = current_request_id();
    for error in &mut response.errors {
        let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
        if !has_code {
            if failed_before_execution {
                set_code(error, code::GRAPHQL_VALIDATION_FAILED);
            } else {
                set_code(error, code::BAD_USER_INPUT);
                if let Some(argument) = error
                    .locations
                    .first()
                    .and_then(|pos| argument_at(query, pos.line, pos.column))
                {
                    error
                        .extensions
                        .get_or_insert_with(ErrorExtensionValues::default)
                        .set("field", argument);
                }
            }
        }
        let ext = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
        let retryable = matches!(ext.get("code"), Some(async_graphql::Value::String(c)) if is_retryable(c));
        if retryable && ext.get("retryable").is_none() {
            ext.set("retryable", true);
        }
        if let Some(id) = &request_id
            && ext.get("requestId").is_none()
        {
            ext.set("requestId", id.as_str());
        }
    }
}

/// Whether the operation failed as a whole before execution (validation, which includes the
/// depth and complexity limits).
pub fn failed_before_execution(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

pub fn has_code(response: &async_graphql::Response, wanted: &str) -> bool {
    response.errors.iter().any(|e| {
        matches!(e.extensions.as_ref().and_then(|x| x.get("code")), Some(async_graphql::Value::String(c)) if c == wanted)
    })
}

pub fn add_rate_limit_headers(response: &mut Response, status: Option<RateLimitStatus>) {
    let Some(status) = status else { return };
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", status.limit),
        ("ratelimit-remaining", status.remaining),
        ("ratelimit-reset", status.reset_secs),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

pub fn too_many_requests(media: &str, err: &AppError) -> Response {
    let mut response = request_error(StatusCode::TOO_MANY_REQUESTS, media, err.code(), &err.client_message());
    if let AppError::RateLimited { retry_after_secs } = err {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    response
}

/// 503 SERVICE_UNAVAILABLE with `Retry-After`: the database cannot be reached.
pub fn unavailable(media: &str) -> Response {
    let err = AppError::Unavailable(String::new());
    let mut response = request_error(
        StatusCode::SERVICE_UNAVAILABLE,
        media,
        err.code(),
        &err.client_message(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS));
    response
}

/// 400 QUERY_TOO_LARGE for a request over a cap of the whole request.
pub fn too_large(media: &str, limit: &str, max: usize, message: &str) -> Response {
    let mut extensions = json!({ "code": code::QUERY_TOO_LARGE, "limit": limit, "max": max });
    if let Some(id) = current_request_id() {
        extensions["requestId"] = json!(id);
    }
    json_response(
        StatusCode::BAD_REQUEST,
        media,
        &json!({ "errors": [{ "message": message, "extensions": extensions }] }),
    )
}

/// One operation's answer as sent.
pub struct Answer {
    pub response: async_graphql::Response,
    /// The operation never ran (it did not parse, validate or pass a cap): `data` is left out.
    pub failed_before_execution: bool,
}

impl Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let response = &self.response;
        let mut map = serializer.serialize_map(None)?;
        if !response.errors.is_empty() {
            map.serialize_entry("errors", &response.errors)?;
        }
        if !self.failed_before_execution {
            map.serialize_entry("data", &response.data)?;
        }
        if !response.extensions.is_empty() {
            map.serialize_entry("extensions", &response.extensions)?;
        }
        map.end()
    }
}

/// The body of one answer or of a batch.
pub fn body_of(answers: &[Answer], is_batch: bool) -> String {
    let body = match answers {
        [one] if !is_batch => serde_json::to_string(one),
        _ => serde_json::to_string(answers),
    };
    body.unwrap_or_else(|_| json!({ "errors": [{ "message": "internal server error" }] }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_honours_q_values() {
        assert_eq!(negotiate(None), Some(JSON));
        assert_eq!(
            negotiate(Some("application/graphql-response+json, application/json;q=0.9")),
            Some(GRAPHQL_RESPONSE)
        );
        assert_eq!(
            negotiate(Some("application/graphql-response+json;q=0.5, application/json;q=0.9")),
            Some(JSON)
        );
        assert_eq!(
            negotiate(Some("application/json, application/graphql-response+json")),
            Some(GRAPHQL_RESPONSE)
        );
        assert_eq!(negotiate(Some("application/json")), Some(JSON));
        assert_eq!(negotiate(Some("*/*")), Some(JSON));
        assert_eq!(negotiate(Some("text/html, */*;q=0.8")), Some(JSON));
        assert_eq!(negotiate(Some("application/json;q=0")), None);
        assert_eq!(negotiate(Some("text/html")), None);
    }

    #[test]
    fn an_argument_is_found_by_where_its_value_starts() {
        let query = "mutation {\n  signIn(input: \"x\") { role }\n  b: signIn( input :$v) { role } }";
        assert_eq!(argument_at(query, 2, 17).as_deref(), Some("input"));
        assert_eq!(argument_at(query, 3, 21).as_deref(), Some("input"));
        assert_eq!(argument_at(query, 1, 1), None);
        assert_eq!(argument_at(query, 9, 1), None);
    }

    #[test]
    fn data_is_left_out_when_nothing_ran_and_order_is_kept() {
        let mut fields = async_graphql::indexmap::IndexMap::new();
        fields.insert(async_graphql::Name::new("zebra"), async_graphql::Value::from(1));
        fields.insert(async_graphql::Name::new("apple"), async_graphql::Value::from(2));
        let ran = Answer {
            response: async_graphql::Response::new(async_graphql::Value::Object(fields)),
            failed_before_execution: false,
        };
        assert_eq!(body_of(&[ran], false), r#"{"data":{"zebra":1,"apple":2}}"#);
        let refused = Answer {
            response: async_graphql::Response::from_errors(vec![ServerError::new("no", None)]),
            failed_before_execution: true,
        };
        assert_eq!(body_of(&[refused], false), r#"{"errors":[{"message":"no"}]}"#);
    }
}
