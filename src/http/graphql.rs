//! GraphQL over HTTP: queries and mutations by POST (a JSON body, one operation or a batch),
//! queries by GET (`query`, `operationName`, `variables`, `extensions` in the URL; persisted
//! queries by hash alone), GraphiQL for browsers outside production. Answers
//! `application/graphql-response+json` when the client prefers it (request errors then get
//! 400) and `application/json` otherwise (200 for every well-formed request) ([`super::answer`]).
//! Malformed requests get 400/405/406/413/415, batches are capped, rate-limited API keys and
//! client addresses get 429, a database that cannot be reached 503, and every operation runs
//! under a time limit. Both endpoints speak Apollo's automatic persisted queries
//! ([`super::persisted`]). Public reads by GET say how long a shared cache may keep them.
//!
//! Every document is checked by [`guard`] before async-graphql parses or validates it (its
//! validation expands fragments, so an unchecked document can cost any amount of CPU), and a
//! request is charged for what it does: each root field of each operation counts against the
//! caller's rate limit, and a request holds at most so many root fields and mutations.
use std::{net::IpAddr, sync::Arc};

use async_graphql::{
    ErrorExtensionValues, ObjectType, ServerError,
    http::GraphiQLSource,
    parser::types::{ExecutableDocument, OperationType},
};
use poem::{
    Body, IntoResponse, Request, Response,
    error::ReadBodyError,
    handler,
    http::{HeaderValue, StatusCode, header},
    web::{Data, Html},
};
use serde_json::Value;

use super::{
    HttpSettings,
    answer::{
        self, Answer, GRAPHQL_RESPONSE, JSON, add_rate_limit_headers, failed_before_execution, finish_errors, has_code,
        operation_error, request_error, too_large, too_many_requests, unavailable,
    },
    credentials,
    persisted::{self, PersistedQueries},
};
use crate::{
    app::AppState,
    auth::Principal,
    error::{code, current_request_id},
    graphql::{
        PublicApi, Served, StaffApi,
        context::{OperationScope, RequestAuth},
        cost::RequestBudget,
        guard::{self, DocumentLimits, Refusal},
        order,
    },
    service::{
        rate_limit::{self, Quota},
        response::submit::Client,
    },
};

/// How the operations arrived.
enum Transport {
    Post(Body),
    Get,
}

/// GraphiQL, for a browser asking for a page (no operation in the URL), outside production.
fn graphiql(req: &Request, settings: &HttpSettings) -> Option<Response> {
    let wants_page = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let has_operation = req.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|p| p.starts_with("query=") || p.starts_with("extensions="))
    });
    (settings.graphiql && wants_page && !has_operation).then(|| {
        let endpoint = req.uri().path().to_owned();
        Html(
            GraphiQLSource::build()
                .endpoint(&endpoint)
                .title("Nazar GraphQL")
                .finish(),
        )
        .into_response()
    })
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

/// The staff API (and the public operations) by POST: credentials are read.
#[handler]
pub async fn graphql_post(
    req: &Request,
    body: Body,
    Data(state): Data<&AppState>,
    Data(api): Data<&StaffApi>,
    Data(settings): Data<&HttpSettings>,
    Data(persisted): Data<&PersistedQueries>,
) -> Response {
    serve(api, req, Transport::Post(body), state, settings, persisted, false).await
}

/// The staff API by GET (queries only), or GraphiQL for a browser.
#[handler]
pub async fn graphql_get(
    req: &Request,
    Data(state): Data<&AppState>,
    Data(api): Data<&StaffApi>,
    Data(settings): Data<&HttpSettings>,
    Data(persisted): Data<&PersistedQueries>,
) -> Response {
    if let Some(page) = graphiql(req, settings) {
        return page;
    }
    serve(api, req, Transport::Get, state, settings, persisted, false).await
}

/// The public API by POST: credentials are never read, any origin may call.
#[handler]
pub async fn public_graphql_post(
    req: &Request,
    body: Body,
    Data(state): Data<&AppState>,
    Data(api): Data<&PublicApi>,
    Data(settings): Data<&HttpSettings>,
    Data(persisted): Data<&PersistedQueries>,
) -> Response {
    serve(api, req, Transport::Post(body), state, settings, persisted, true).await
}

/// The public API by GET (queries only: a shared cache may keep public form reads), or GraphiQL.
#[handler]
pub async fn public_graphql_get(
    req: &Request,
    Data(state): Data<&AppState>,
    Data(api): Data<&PublicApi>,
    Data(settings): Data<&HttpSettings>,
    Data(persisted): Data<&PersistedQueries>,
) -> Response {
    if let Some(page) = graphiql(req, settings) {
        return page;
    }
    serve(api, req, Transport::Get, state, settings, persisted, true).await
}

/// One operation of the request, checked and ready to run.
struct Prepared {
    request: async_graphql::Request,
    /// The query text (the document itself went to the request, parsed).
    query: String,
    /// The parsed document, to put the answer in the order it asks for.
    document: ExecutableDocument,
    kind: OperationType,
    root_fields: usize,
    /// The document asks for introspection alone.
    introspection_only: bool,
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
    request.set_parsed_query(checked.document.clone());
    Ok(Prepared {
        request,
        query,
        document: checked.document,
        kind: checked.kind,
        root_fields: checked.root_fields,
        introspection_only: checked.root_fields == 0,
        learn: resolved.learn,
    })
}

#[allow(clippy::too_many_arguments)]
async fn serve<Q, M, S>(
    api: &Served<Q, M, S>,
    req: &Request,
    transport: Transport,
    state: &AppState,
    settings: &HttpSettings,
    persisted: &PersistedQueries,
    public: bool,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    let Some(media) = answer::negotiate(req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok())) else {
        let message = format!("accept {GRAPHQL_RESPONSE} or {JSON}");
        return request_error(StatusCode::NOT_ACCEPTABLE, JSON, code::BAD_REQUEST, &message);
    };
    if let Transport::Post(_) = &transport {
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

    let is_get = matches!(transport, Transport::Get);
    let (items, is_batch) = match transport {
        Transport::Get => match from_url(req.uri().query().unwrap_or_default()) {
            Ok(item) => (vec![item], false),
            Err(message) => return request_error(StatusCode::BAD_REQUEST, media, code::BAD_REQUEST, &message),
        },
        Transport::Post(body) => {
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
                    let message = "could not read the request body";
                    return request_error(StatusCode::BAD_REQUEST, media, code::BAD_REQUEST, message);
                }
            };
            match parse_body(&bytes, settings.max_batch_size) {
                Ok(parsed) => parsed,
                Err(message) => return request_error(StatusCode::BAD_REQUEST, media, code::BAD_REQUEST, &message),
            }
        }
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
    if is_get && prepared().any(|p| p.kind != OperationType::Query) {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            code::BAD_REQUEST,
            "mutations are sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
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
        let mut answers = Vec::with_capacity(operations.len());
        let mut learned = Vec::new();
        for operation in operations {
            let answer = match operation {
                Ok(prepared) => {
                    let request = prepared
                        .request
                        .data(auth.clone())
                        .data(client.clone())
                        .data(budget.clone())
                        .data(OperationScope::default());
                    let schema = api.for_document(prepared.introspection_only);
                    let operation_name = request.operation_name.clone();
                    let mut response = schema.execute(request).await;
                    order::in_request_order(&prepared.document, operation_name.as_deref(), &mut response.data);
                    let before_execution = failed_before_execution(&response);
                    finish_errors(&prepared.query, &mut response, before_execution);
                    if !before_execution && let Some(learn) = prepared.learn {
                        learned.push(learn);
                    }
                    Answer {
                        response,
                        failed_before_execution: before_execution,
                    }
                }
                Err((_, mut error)) => {
                    if let Some(id) = current_request_id() {
                        error
                            .extensions
                            .get_or_insert_with(ErrorExtensionValues::default)
                            .set("requestId", id);
                    }
                    Answer {
                        response: async_graphql::Response::from_errors(vec![error]),
                        failed_before_execution: true,
                    }
                }
            };
            answers.push(answer);
        }
        (answers, learned)
    };
    let (answers, learned) = match tokio::time::timeout(settings.request_timeout, run).await {
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
    let database_lost = answers.iter().any(|a| has_code(&a.response, code::SERVICE_UNAVAILABLE));
    if database_lost {
        database.failed();
    } else {
        database.succeeded();
    }
    let retry_after = answers
        .iter()
        .flat_map(|a| &a.response.errors)
        .filter_map(|e| e.extensions.as_ref()?.get("retryAfter").cloned())
        .find_map(|v| match v {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        });

    let request_failed = answers.iter().any(|a| a.failed_before_execution);
    let status = if database_lost {
        StatusCode::SERVICE_UNAVAILABLE
    } else if media == GRAPHQL_RESPONSE && request_failed && !is_batch {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = Response::builder()
        .status(status)
        .content_type(media)
        .body(answer::body_of(&answers, is_batch));
    if is_get {
        let cache_control = cache_control(&answers, matches!(auth, RequestAuth::Authenticated(_)));
        response.headers_mut().insert(header::CACHE_CONTROL, cache_control);
    }
    add_rate_limit_headers(&mut response, rate_limit);
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// How long a shared cache may keep the answer to a GET: public reads say so in the schema
/// (a published form: a minute; whether it accepts responses: ten seconds); answers with
/// errors, with credentials or with anything personal are not kept.
fn cache_control(answers: &[Answer], authenticated: bool) -> HeaderValue {
    let hint = match answers {
        [answer] if !authenticated && answer.response.errors.is_empty() => answer.response.cache_control,
        _ => return HeaderValue::from_static("no-store"),
    };
    match hint.value() {
        Some(value) if hint.public && hint.max_age > 0 => {
            HeaderValue::from_str(&format!("public, {value}")).unwrap_or(HeaderValue::from_static("no-store"))
        }
        _ => HeaderValue::from_static("no-store"),
    }
}

/// A GET's operation from its URL (`query`, `operationName`, and `variables` and
/// `extensions` as JSON), as the JSON object a POST would carry.
fn from_url(query_string: &str) -> Result<Value, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query_string).map_err(|e| format!("the URL's parameters cannot be read: {e}"))?;
    let mut operation = serde_json::Map::new();
    for (name, value) in pairs {
        let value = match name.as_str() {
            "query" | "operationName" => Value::String(value),
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|e| format!("the `{name}` parameter must be a JSON object: {e}"))?,
            _ => continue,
        };
        operation.insert(name, value);
    }
    Ok(Value::Object(operation))
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
    use serde_json::json;

    use super::*;

    #[test]
    fn an_operation_is_read_from_a_url() {
        let item = from_url("query=%7B%20a%20%7D&operationName=Q&variables=%7B%22x%22%3A1%7D&other=1").unwrap();
        assert_eq!(
            item,
            json!({ "query": "{ a }", "operationName": "Q", "variables": { "x": 1 } })
        );
        assert!(
            from_url("query=%7Ba%7D&variables=nope")
                .unwrap_err()
                .contains("`variables`")
        );
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

/// Subscriptions over WebSocket (`graphql-transport-ws`, and the older
/// `subscriptions-transport-ws`): credentials come in `connection_init`.
#[handler]
pub async fn graphql_ws(
    protocol: async_graphql_poem::GraphQLProtocol,
    websocket: poem::web::websocket::WebSocket,
    Data(state): Data<&AppState>,
    Data(staff): Data<&StaffApi>,
) -> impl poem::IntoResponse {
    let schema = staff.for_document(false).clone();
    let state = state.clone();
    websocket
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            async_graphql_poem::GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| {
                    let state = state.clone();
                    async move { crate::graphql::live::connection_init(&state, payload).await }
                })
                .serve()
        })
}
