//! GraphQL over HTTP (POST, JSON body). Answers `application/graphql-response+json` when the
//! client accepts it (request errors then get 400) and `application/json` otherwise (200 for
//! every well-formed request). Malformed requests get 400/406/413/415, batches are capped,
//! rate-limited API keys and client addresses get 429, a database that cannot be reached 503,
//! and every operation runs under a time limit. Both endpoints speak Apollo's automatic
//! persisted queries ([`super::persisted`]).
//!
//! Every document is checked by [`guard`] before async-graphql parses or validates it (its
//! validation expands fragments, so an unchecked document can cost any amount of CPU), and a
//! request is charged for what it does: each root field of each operation counts against the
//! caller's rate limit, and a request holds at most so many root fields and mutations.
use std::{net::IpAddr, sync::Arc};

use async_graphql::{
    BatchResponse, ErrorExtensionValues, ObjectType, Schema, ServerError, SubscriptionType, http::GraphiQLSource,
    parser::types::OperationType,
};
use poem::{
    Body, IntoResponse, Request, Response,
    error::ReadBodyError,
    handler,
    http::{HeaderValue, StatusCode, header},
    web::{Data, Html},
};
use serde_json::{Value, json};

use super::{
    HttpSettings, credentials,
    persisted::{self, PersistedQueries},
};
use crate::{
    app::AppState,
    auth::Principal,
    error::{AppError, UNAVAILABLE_RETRY_AFTER_SECS, code, current_request_id, is_retryable},
    graphql::{
        AppSchema, PublicSchema,
        context::{OperationScope, RequestAuth},
        cost::RequestBudget,
        guard::{self, DocumentLimits, Refusal},
    },
    service::{
        rate_limit::{self, Quota, RateLimitStatus},
        response::submit::Client,
    },
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// GraphiQL outside production; 405 in production (operations are POSTed).
#[handler]
pub async fn graphiql(req: &Request, Data(settings): Data<&HttpSettings>) -> Response {
    if settings.graphiql {
        let endpoint = req.uri().path().to_owned();
        Html(
            GraphiQLSource::build()
                .endpoint(&endpoint)
                .title("Nazar GraphQL")
                .finish(),
        )
        .into_response()
    } else {
        Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "POST")
            .body(Body::empty())
    }
}

/// Which media type to answer with; `None` when the client accepts neither.
fn negotiate(accept: Option<&str>) -> Option<&'static str> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(JSON);
    };
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(GRAPHQL_RESPONSE)
    } else if types.iter().any(|t| *t == JSON || *t == "*/*" || *t == "application/*") {
        Some(JSON)
    } else {
        None
    }
}

fn json_response(status: StatusCode, media: &str, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(media)
        .body(body.to_string())
}

/// An error answered before any operation ran, in the GraphQL error shape.
fn request_error(status: StatusCode, media: &str, code: &str, message: &str) -> Response {
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
fn operation_error(code: &str, message: String, extra: &[(&str, async_graphql::Value)]) -> ServerError {
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
/// (parse errors never reach it: [`guard`] parses first); during execution, input values that
/// do not fit their argument's type (BAD_USER_INPUT, naming the argument).
fn finish_errors(query: &str, response: &mut async_graphql::Response, failed_before_execution: bool) {
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
fn failed_before_execution(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

fn has_code(response: &async_graphql::Response, wanted: &str) -> bool {
    response.errors.iter().any(|e| {
        matches!(e.extensions.as_ref().and_then(|x| x.get("code")), Some(async_graphql::Value::String(c)) if c == wanted)
    })
}

fn add_rate_limit_headers(response: &mut Response, status: Option<RateLimitStatus>) {
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

/// The client's address: the connection's, or with `hops` trusted proxies in front, the entry
/// of `X-Forwarded-For` that the farthest of them appended.
fn client_address(req: &Request, hops: usize) -> Option<IpAddr> {
    let direct = req.remote_addr().as_socket_addr().map(|a| a.ip());
    if hops == 0 {
        return direct;
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    forwarded
        .len()
        .checked_sub(hops)
        .and_then(|i| forwarded.get(i))
        .and_then(|a| a.parse().ok())
        .or(direct)
}

fn client_of(req: &Request, settings: &HttpSettings) -> Client {
    let header = |name: &str, max: usize| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(max).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    Client {
        address: client_address(req, settings.trusted_proxy_hops),
        user_agent: header("user-agent", 500),
        origin: header("origin", 2_000),
    }
}

fn too_many_requests(media: &str, err: &AppError) -> Response {
    let mut response = request_error(StatusCode::TOO_MANY_REQUESTS, media, err.code(), &err.client_message());
    if let AppError::RateLimited { retry_after_secs } = err {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    response
}

/// 503 SERVICE_UNAVAILABLE with `Retry-After`: the database cannot be reached.
fn unavailable(media: &str) -> Response {
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
fn too_large(media: &str, limit: &str, max: usize, message: &str) -> Response {
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

/// The staff API (and the public operations): credentials are read.
#[handler]
pub async fn graphql_post(
    req: &Request,
    body: Body,
    Data(state): Data<&AppState>,
    Data(schema): Data<&AppSchema>,
    Data(settings): Data<&HttpSettings>,
    Data(persisted): Data<&PersistedQueries>,
) -> Response {
    serve(schema, req, body, state, settings, persisted, false).await
}

/// The public API: credentials are never read, any origin may call.
#[handler]
pub async fn public_graphql_post(
    req: &Request,
    body: Body,
    Data(state): Data<&AppState>,
    Data(schema): Data<&PublicSchema>,
    Data(settings): Data<&HttpSettings>,
    Data(persisted): Data<&PersistedQueries>,
) -> Response {
    serve(schema, req, body, state, settings, persisted, true).await
}

/// One operation of the request, checked and ready to run.
struct Prepared {
    request: async_graphql::Request,
    /// The query text (the document itself went to the request, parsed).
    query: String,
    kind: OperationType,
    root_fields: usize,
    /// A persisted query to learn once the operation has passed validation.
    learn: Option<persisted::Learn>,
}

/// Resolves a persisted query, reads the operation and checks its document.
async fn prepare(
    item: Value,
    persisted: &PersistedQueries,
    limits: &DocumentLimits,
) -> Result<Prepared, (&'static str, ServerError)> {
    let bad_request = |message: String| (code::BAD_REQUEST, operation_error(code::BAD_REQUEST, message, &[]));
    let resolved = persisted
        .resolve(item)
        .await
        .map_err(|(code, message)| (code, operation_error(code, message, &[])))?;
    let mut request = one(resolved.operation).map_err(bad_request)?;
    let query = request.query.clone();
    let checked =
        guard::check(&query, request.operation_name.as_deref(), &request.variables, limits).map_err(|refusal| {
            match refusal {
                Refusal::Syntax(message) => (
                    code::GRAPHQL_PARSE_FAILED,
                    operation_error(code::GRAPHQL_PARSE_FAILED, message, &[]),
                ),
                Refusal::TooLarge { limit, max, message } => (
                    code::QUERY_TOO_LARGE,
                    operation_error(
                        code::QUERY_TOO_LARGE,
                        message,
                        &[("limit", limit.into()), ("max", (max as u64).into())],
                    ),
                ),
                Refusal::Input { field, message } => (
                    code::BAD_USER_INPUT,
                    operation_error(code::BAD_USER_INPUT, message, &[("field", field.into())]),
                ),
            }
        })?;
    request.set_parsed_query(checked.document);
    Ok(Prepared {
        request,
        query,
        kind: checked.kind,
        root_fields: checked.root_fields,
        learn: resolved.learn,
    })
}

#[allow(clippy::too_many_arguments)]
async fn serve<Q, M, S>(
    schema: &Schema<Q, M, S>,
    req: &Request,
    body: Body,
    state: &AppState,
    settings: &HttpSettings,
    persisted: &PersistedQueries,
    public: bool,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let Some(media) = negotiate(req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok())) else {
        let message = format!("accept {GRAPHQL_RESPONSE} or {JSON}");
        return request_error(StatusCode::NOT_ACCEPTABLE, JSON, code::BAD_REQUEST, &message);
    };
    let content_type = req
        .content_type()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if !content_type.eq_ignore_ascii_case(JSON) {
        let message = "send the operation as JSON with `Content-Type: application/json`";
        return request_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, media, code::BAD_REQUEST, message);
    }
    // A database known to be down: refused at once, not after a wait per request.
    let database = state.db.breaker();
    if database.is_down() {
        return unavailable(media);
    }
    let (auth, key_quota) = if public {
        (RequestAuth::Anonymous, None)
    } else {
        credentials::resolve(state, req.headers()).await
    };
    if matches!(auth, RequestAuth::Unavailable) {
        database.failed();
        return unavailable(media);
    }
    let client = client_of(req, settings);
    // What this request is charged against: its API key's limit, or without valid
    // credentials its client address's; members' requests are bounded by the caps alone.
    let quota = match &auth {
        RequestAuth::Authenticated(_) => key_quota,
        _ => (state.public_limits.per_address > 0).then(|| Quota {
            subject: format!(
                "address:{}",
                client.address.map_or("unknown".to_owned(), |a| a.to_string())
            ),
            per_minute: state.public_limits.per_address,
        }),
    };

    // Credentials first: requests that carry valid ones may send larger bodies.
    let limit = match &auth {
        RequestAuth::Authenticated(_) => settings.max_authenticated_body_bytes,
        _ => settings.max_body_bytes,
    };
    let bytes = match body.into_bytes_limit(limit).await {
        Ok(bytes) => bytes,
        Err(ReadBodyError::PayloadTooLarge) => {
            let message = format!("request body is larger than {limit} bytes");
            return request_error(StatusCode::PAYLOAD_TOO_LARGE, media, code::PAYLOAD_TOO_LARGE, &message);
        }
        Err(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                code::BAD_REQUEST,
                "could not read the request body",
            );
        }
    };
    let (items, is_batch) = match parse_body(&bytes, settings.max_batch_size) {
        Ok(parsed) => parsed,
        Err(message) => return request_error(StatusCode::BAD_REQUEST, media, code::BAD_REQUEST, &message),
    };
    let mut operations = Vec::with_capacity(items.len());
    for item in items {
        operations.push(prepare(item, persisted, &settings.document).await);
    }
    if !is_batch
        && let Some(Err((code, error))) = operations.first()
        && *code == code::BAD_REQUEST
    {
        return request_error(StatusCode::BAD_REQUEST, media, code, &error.message);
    }

    // What the whole request does: every root field of every operation.
    let prepared = || operations.iter().filter_map(|o| o.as_ref().ok());
    let root_fields: usize = prepared().map(|p| p.root_fields).sum();
    let writes: usize = prepared()
        .filter(|p| p.kind == OperationType::Mutation)
        .map(|p| p.root_fields)
        .sum();
    if writes > settings.max_writes_per_request {
        let message = format!(
            "a request may hold at most {} mutations (root fields of mutations, over a batch); this one has {writes}",
            settings.max_writes_per_request
        );
        return too_large(media, "writes", settings.max_writes_per_request, &message);
    }
    if root_fields > settings.max_root_fields_per_request {
        let message = format!(
            "a request may ask for at most {} root fields (over a batch); this one asks for {root_fields}",
            settings.max_root_fields_per_request
        );
        return too_large(media, "rootFields", settings.max_root_fields_per_request, &message);
    }
    let mut rate_limit = None;
    if let Some(quota) = &quota {
        let units = root_fields.max(1) as u64;
        match rate_limit::charge(&state.cache, state.clock.now(), &quota.subject, quota.per_minute, units).await {
            Ok(status) => rate_limit = Some(status),
            Err(err) => return too_many_requests(media, &err),
        }
    }
    let names: Vec<&str> = prepared().filter_map(|p| p.request.operation_name.as_deref()).collect();
    if !names.is_empty() {
        tracing::Span::current().record("operation", names.join(",").as_str());
    }

    let budget = Arc::new(RequestBudget::default());
    let run = async {
        let mut responses = Vec::with_capacity(operations.len());
        let mut learned = Vec::new();
        let mut request_failed = false;
        for operation in operations {
            let response = match operation {
                Ok(prepared) => {
                    let request = prepared
                        .request
                        .data(auth.clone())
                        .data(client.clone())
                        .data(budget.clone())
                        .data(OperationScope::default());
                    let mut response = schema.execute(request).await;
                    let before_execution = failed_before_execution(&response);
                    request_failed |= before_execution;
                    finish_errors(&prepared.query, &mut response, before_execution);
                    if !before_execution && let Some(learn) = prepared.learn {
                        learned.push(learn);
                    }
                    response
                }
                Err((_, mut error)) => {
                    request_failed = true;
                    let mut response = async_graphql::Response::from_errors(vec![]);
                    if let Some(id) = current_request_id() {
                        error
                            .extensions
                            .get_or_insert_with(ErrorExtensionValues::default)
                            .set("requestId", id);
                    }
                    response.errors.push(error);
                    response
                }
            };
            responses.push(response);
        }
        (responses, learned, request_failed)
    };
    let (mut responses, learned, request_failed) = match tokio::time::timeout(settings.request_timeout, run).await {
        Ok(done) => done,
        Err(_) => {
            let message = format!(
                "the request took longer than {} ms",
                settings.request_timeout.as_millis()
            );
            return request_error(StatusCode::SERVICE_UNAVAILABLE, media, code::TIMEOUT, &message);
        }
    };
    // Persisted queries are learned only once they have passed validation.
    if !learned.is_empty() {
        let subject = quota
            .as_ref()
            .map_or_else(|| auth_subject(&auth), |q| q.subject.clone());
        for learn in learned {
            persisted.learn(&state.cache, state.clock.now(), &subject, learn).await;
        }
    }
    let database_lost = responses.iter().any(|r| has_code(r, code::SERVICE_UNAVAILABLE));
    if database_lost {
        database.failed();
    } else {
        database.succeeded();
    }
    let retry_after = responses
        .iter()
        .flat_map(|r| &r.errors)
        .filter_map(|e| e.extensions.as_ref()?.get("retryAfter").cloned())
        .find_map(|v| match v {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        });

    let body = if is_batch {
        serde_json::to_value(BatchResponse::Batch(responses))
    } else {
        serde_json::to_value(responses.remove(0))
    };
    let body = body.unwrap_or_else(|_| json!({ "errors": [{ "message": "internal server error" }] }));
    let status = if database_lost {
        StatusCode::SERVICE_UNAVAILABLE
    } else if media == GRAPHQL_RESPONSE && request_failed && !is_batch {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = json_response(status, media, &body);
    add_rate_limit_headers(&mut response, rate_limit);
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Whom a member's learned persisted queries are counted for.
fn auth_subject(auth: &RequestAuth) -> String {
    match auth {
        RequestAuth::Authenticated(Principal::Member { user_id, .. }) => format!("user:{user_id}"),
        RequestAuth::Authenticated(Principal::ApiKey { key_id, .. }) => format!("apikey:{key_id}"),
        _ => "anonymous".to_owned(),
    }
}

/// One operation as JSON (a persisted query already resolved) into a request.
fn one(v: Value) -> Result<async_graphql::Request, String> {
    let has_query = v
        .get("query")
        .and_then(Value::as_str)
        .is_some_and(|q| !q.trim().is_empty());
    if !has_query {
        return Err("not a GraphQL request: `query` must be a non-empty string".to_owned());
    }
    serde_json::from_value::<async_graphql::Request>(v)
        .map_err(|e| format!("not a GraphQL request (`variables` must be an object): {e}"))
}

/// One operation or a batch (JSON array) of at most `max_batch` operations, as JSON objects.
fn parse_body(bytes: &[u8], max_batch: usize) -> Result<(Vec<Value>, bool), String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    match value {
        Value::Object(_) => Ok((vec![value], false)),
        Value::Array(items) if items.is_empty() => Err("an empty batch".to_owned()),
        Value::Array(items) if items.len() > max_batch => Err(format!(
            "a batch may hold at most {max_batch} operations; this one has {}",
            items.len()
        )),
        Value::Array(items) if items.iter().all(Value::is_object) => Ok((items, true)),
        _ => Err("the body must be a JSON object (or an array of them)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None), Some(JSON));
        assert_eq!(
            negotiate(Some("application/graphql-response+json, application/json;q=0.9")),
            Some(GRAPHQL_RESPONSE)
        );
        assert_eq!(negotiate(Some("application/json")), Some(JSON));
        assert_eq!(negotiate(Some("*/*")), Some(JSON));
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
    fn batches_are_capped() {
        let item = r#"{"query":"{ __typename }"}"#;
        let batch = |n: usize| format!("[{}]", vec![item; n].join(","));
        assert!(parse_body(batch(3).as_bytes(), 3).is_ok());
        assert!(parse_body(batch(4).as_bytes(), 3).unwrap_err().contains("at most 3"));
        assert!(parse_body(b"[]", 3).is_err());
        assert!(parse_body(b"[1]", 3).is_err());
        assert!(one(json!({ "variables": {} })).is_err());
        assert!(parse_body(b"42", 3).is_err());
    }
}
