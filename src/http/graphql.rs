//! GraphQL over HTTP (POST, JSON body). Answers `application/graphql-response+json` when the
//! client accepts it (request errors then get 400) and `application/json` otherwise (200 for
//! every well-formed request). Malformed requests get 400/406/413/415, batches are capped,
//! rate-limited API keys and client addresses get 429, and every operation runs under a time
//! limit. Both endpoints speak Apollo's automatic persisted queries ([`super::persisted`]).
use std::net::IpAddr;

use async_graphql::{
    BatchResponse, ErrorExtensionValues, ObjectType, Schema, ServerError, SubscriptionType, http::GraphiQLSource,
};
use poem::{
    Body, IntoResponse, Request, Response,
    error::ReadBodyError,
    handler,
    http::{HeaderValue, StatusCode, header},
    web::{Data, Html},
};
use serde_json::{Value, json};

use super::{HttpSettings, credentials, persisted};
use crate::{
    app::AppState,
    error::{AppError, code, current_request_id},
    graphql::{AppSchema, PublicSchema, context::OperationScope, context::RequestAuth},
    service::{
        rate_limit::{self, RateLimitStatus},
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

/// Whether the operation failed as a whole before execution (parse or validation, which
/// includes the depth and complexity limits), and gives those errors their codes.
fn classify_request_errors(query: &str, response: &mut async_graphql::Response) -> bool {
    let failed_before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if failed_before_execution {
        let code = if async_graphql::parser::parse_query(query).is_err() {
            code::GRAPHQL_PARSE_FAILED
        } else {
            code::GRAPHQL_VALIDATION_FAILED
        };
        response.errors.iter_mut().for_each(|e| set_code(e, code));
    }
    failed_before_execution
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

/// The staff API (and the public operations): credentials are read.
#[handler]
pub async fn graphql_post(
    req: &Request,
    body: Body,
    Data(state): Data<&AppState>,
    Data(schema): Data<&AppSchema>,
    Data(settings): Data<&HttpSettings>,
) -> Response {
    serve(schema, req, body, state, settings, false).await
}

/// The public API: credentials are never read, any origin may call.
#[handler]
pub async fn public_graphql_post(
    req: &Request,
    body: Body,
    Data(state): Data<&AppState>,
    Data(schema): Data<&PublicSchema>,
    Data(settings): Data<&HttpSettings>,
) -> Response {
    serve(schema, req, body, state, settings, true).await
}

async fn serve<Q, M, S>(
    schema: &Schema<Q, M, S>,
    req: &Request,
    body: Body,
    state: &AppState,
    settings: &HttpSettings,
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
    let (auth, rate_limit) = if public {
        (RequestAuth::Anonymous, None)
    } else {
        match credentials::resolve(state, req.headers()).await {
            Ok(resolved) => resolved,
            Err(err @ AppError::RateLimited { .. }) => return too_many_requests(media, &err),
            Err(err) => {
                return request_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    media,
                    err.code(),
                    &err.client_message(),
                );
            }
        }
    };
    let client = client_of(req, settings);
    let mut rate_limit = rate_limit;
    // The public API (and every call without valid credentials) is limited per client address.
    if !matches!(auth, RequestAuth::Authenticated(_)) && state.public_limits.per_address > 0 {
        let subject = format!(
            "address:{}",
            client.address.map_or("unknown".to_owned(), |a| a.to_string())
        );
        match rate_limit::hit(&state.cache, &subject, state.public_limits.per_address).await {
            Ok(status) => rate_limit = Some(status),
            Err(err) => return too_many_requests(media, &err),
        }
    }

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
    let mut requests = Vec::with_capacity(items.len());
    for item in items {
        requests.push(
            persisted::resolve(&state.cache, item)
                .await
                .and_then(|v| one(v).map_err(|m| (code::BAD_REQUEST, m))),
        );
    }
    if !is_batch
        && let Some(Err((code, message))) = requests.first()
        && *code == code::BAD_REQUEST
    {
        return request_error(StatusCode::BAD_REQUEST, media, code, message);
    }
    let names: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.as_ref().ok()?.operation_name.as_deref())
        .collect();
    if !names.is_empty() {
        tracing::Span::current().record("operation", names.join(",").as_str());
    }

    let run = async {
        let mut responses = Vec::with_capacity(requests.len());
        let mut request_failed = false;
        for request in requests {
            let response = match request {
                Ok(request) => {
                    let query = request.query.clone();
                    let request = request
                        .data(auth.clone())
                        .data(client.clone())
                        .data(OperationScope::default());
                    let mut response = schema.execute(request).await;
                    request_failed |= classify_request_errors(&query, &mut response);
                    response
                }
                Err((code, message)) => {
                    request_failed = true;
                    let mut error = ServerError::new(message, None);
                    set_code(&mut error, code);
                    if let Some(id) = current_request_id() {
                        error
                            .extensions
                            .get_or_insert_with(ErrorExtensionValues::default)
                            .set("requestId", id);
                    }
                    async_graphql::Response::from_errors(vec![error])
                }
            };
            responses.push(response);
        }
        (responses, request_failed)
    };
    let (mut responses, request_failed) = match tokio::time::timeout(settings.request_timeout, run).await {
        Ok(done) => done,
        Err(_) => {
            let message = format!(
                "the request took longer than {} ms",
                settings.request_timeout.as_millis()
            );
            return request_error(StatusCode::SERVICE_UNAVAILABLE, media, code::TIMEOUT, &message);
        }
    };
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
    let status = if media == GRAPHQL_RESPONSE && request_failed && !is_batch {
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
