//! GraphQL over HTTP: status codes, media types, batches, GraphiQL, probes, CORS, request ids,
//! internal errors, graceful shutdown and TLS.
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app, spawn_app_with};

const GQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn malformed_requests_get_the_right_status() {
    let app = spawn_app_with(|c| c.max_body_bytes = 4096).await;
    let post = |body: String, content_type: &'static str, accept: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, content_type)
            .header(ACCEPT, accept)
            .body(body)
            .send()
    };
    let cases: Vec<(&str, String, &str, &str, u16, &str)> = vec![
        (
            "not JSON",
            "{not json".into(),
            "application/json",
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (
            "no query",
            r#"{"variables":{}}"#.into(),
            "application/json",
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (
            "variables not an object",
            r#"{"query":"{ __typename }","variables":[1]}"#.into(),
            "application/json",
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (
            "a bare string",
            r#""{ __typename }""#.into(),
            "application/json",
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (
            "wrong content type",
            r#"{"query":"{ __typename }"}"#.into(),
            "text/plain",
            "application/json",
            415,
            "BAD_REQUEST",
        ),
        (
            "unacceptable accept",
            r#"{"query":"{ __typename }"}"#.into(),
            "application/json",
            "text/html",
            406,
            "BAD_REQUEST",
        ),
        (
            "too large",
            format!(r#"{{"query":"{{ __typename }}","x":"{}"}}"#, "a".repeat(5000)),
            "application/json",
            "application/json",
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            "empty batch",
            "[]".into(),
            "application/json",
            "application/json",
            400,
            "BAD_REQUEST",
        ),
    ];
    for (case, body, content_type, accept, status, code) in cases {
        let response = post(body, content_type, accept).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), code, "{case}: {body}");
        assert!(body["errors"][0]["extensions"]["requestId"].is_string(), "{case}");
    }
}

#[tokio::test]
async fn graphql_response_media_type_marks_request_errors_with_400() {
    let app = spawn_app().await;
    let send = |query: &'static str, accept: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header(ACCEPT, accept)
            .json(&json!({ "query": query }))
            .send()
    };
    for (query, code) in [
        ("{ me { ", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let response = send(query, GQL_RESPONSE).await.unwrap();
        assert_eq!(response.status(), 400, "{query}");
        assert!(
            response.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(GQL_RESPONSE)
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), code);
        // The legacy media type answers 200 with the same errors.
        let response = send(query, "application/json").await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(error_code(&response.json::<Value>().await.unwrap()), code);
    }
    // A field error is not a request error: 200 with data.
    let response = send("{ me { kind } }", GQL_RESPONSE).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(body["errors"][0]["path"], json!(["me"]));
}

#[tokio::test]
async fn batches_are_capped() {
    let app = spawn_app_with(|c| c.max_batch_size = 3).await;
    let op = json!({ "query": "{ __typename }" });
    let ok = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([op, op, op]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body.as_array().map(Vec::len), Some(3));
    assert_eq!(body[2]["data"]["__typename"], "Query");
    let too_many = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([op, op, op, op]))
        .send()
        .await
        .unwrap();
    assert_eq!(too_many.status(), 400);
    let body: Value = too_many.json().await.unwrap();
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 3"));
}

#[tokio::test]
async fn graphiql_and_introspection_outside_production_only() {
    let dev = spawn_app().await;
    let browse = |app: &crate::helpers::TestApp| {
        let accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        app.client.get(app.url("/graphql")).header(ACCEPT, accept).send()
    };
    let page = browse(&dev).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().to_lowercase().contains("graphiql"));
    let body = dev.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let typo = dev.gql(None, "{ organizatio { id } }", json!({})).await;
    assert!(
        typo["errors"][0]["message"].as_str().unwrap().contains("Did you mean"),
        "{typo}"
    );

    let prod = spawn_app_with(|c| c.production = true).await;
    let page = browse(&prod).await.unwrap();
    assert_eq!(
        page.status(),
        400,
        "no GraphiQL in production: a GET must carry a query"
    );
    let body = prod.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(
        body["data"].is_null() || body["data"]["__schema"].is_null(),
        "introspection answered in production: {body}"
    );
    let typo = prod.gql(None, "{ organizatio { id } }", json!({})).await;
    assert!(
        !typo["errors"][0]["message"].as_str().unwrap().contains("Did you mean"),
        "{typo}"
    );
}

#[tokio::test]
async fn probes_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["cache"]["status"], "ok");
    let expected_cache = if std::env::var("TEST_REDIS_URL").is_ok() {
        "redis"
    } else {
        "memory"
    };
    assert_eq!(body["cache"]["kind"], expected_cache);
}

#[tokio::test]
async fn request_ids_are_echoed_and_named_in_errors() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-request-id", "client-chosen-42")
        .json(&json!({ "query": "{ me { kind } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-chosen-42");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "client-chosen-42");
    // An unsafe id is replaced.
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "<script>");
}

#[tokio::test]
async fn internal_errors_never_leak_details() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    use sea_orm::ConnectionTrait;
    app.db.conn().execute_unprepared("DROP TABLE api_keys").await.unwrap();
    let response = app
        .post(Some(&owner.access_token), "{ apiKeys { nodes { id } } }", json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR");
    assert_eq!(body["errors"][0]["message"], "internal server error");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], request_id.as_str());
    let text = body.to_string().to_lowercase();
    for secret in ["api_keys", "select", "sqlite", "postgres", "relation", "table"] {
        assert!(!text.contains(secret), "leaked {secret}: {text}");
    }
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["https://app.example.com".to_owned()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());

    let none_configured = spawn_app().await;
    let response = none_configured
        .client
        .post(none_configured.url("/graphql"))
        .header("origin", "https://anywhere.example.com")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn slow_requests_time_out() {
    let app = spawn_app_with(|c| c.request_timeout_ms = 1).await;
    // Sign-up hashes a password: far longer than a millisecond.
    let response = app
        .post(
            None,
            "mutation { signUp(input: { organizationName: \"A\", name: \"B\", email: \"slow@example.com\", password: \"long enough password\" }) { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "TIMEOUT");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut app = spawn_app().await;
    let addr = app.addr;
    let sign_up = |n: usize| json!({ "query": format!("mutation {{ signUp(input: {{ organizationName: \"A\", name: \"B\", email: \"drain{n}@example.com\", password: \"long enough password\" }}) {{ role }} }}") });
    let batch: Vec<Value> = (0..8).map(sign_up).collect();
    let body = serde_json::to_vec(&batch).unwrap();
    // The request's head first, asking to be told when the server reads the body: its
    // "100 Continue" says the request is in the server's hands.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "closed before 100 Continue");
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );

    // Shutdown is asked for and takes effect (new connections are refused) while the body
    // has not been sent yet.
    let stopped = tokio::spawn(async move {
        app.stop().await;
        app
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "still accepting after shutdown");
        tokio::task::yield_now().await;
    }
    assert!(!stopped.is_finished(), "the server ended with a request in flight");

    // The in-flight request is still answered in full.
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(answer.matches(r#""role":"OWNER""#).count(), 8, "{answer}");
    let app = stopped.await.unwrap();
    assert!(app.client.get(app.url("/healthz")).send().await.is_err());
}

#[tokio::test]
async fn tls_serves_https_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    let Ok(output) = made else {
        eprintln!("skipped: openssl is not installed");
        return;
    };
    assert!(
        output.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let app = spawn_app_with(|c| {
        c.tls_cert = Some(cert.clone());
        c.tls_key = Some(key.clone());
    })
    .await;
    // curl blocks: run it off this test's single-threaded runtime, which also serves the app.
    let url = format!("https://localhost:{}/healthz", app.addr.port());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args(["-sk", "--max-time", "10", &url])
            .output()
            .expect("curl runs")
    })
    .await
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), r#"{"status":"ok"}"#);
    // Plain HTTP on the TLS port gets no answer.
    assert!(app.client.get(app.url("/healthz")).send().await.is_err());
}
