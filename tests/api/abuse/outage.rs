//! A database or a cache taken away for real (a forwarder between the server and it, cut and
//! restored): requests are refused fast with a retriable answer while the database is gone,
//! served without the cache while Redis is gone, and everything comes back by itself; nothing
//! acknowledged is lost.
#[path = "../../support/forward.rs"]
mod forward;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use forward::Forwarder;
use nazar::config::Secret;
use serde_json::{Value, json};

use super::{Answer, post_json, post_raw};
use crate::{
    collect::{count_rows, key, promoter, publish_feedback},
    helpers::{OwnRedis, TestApp, start, test_config},
};

/// `url` with its `host:port` replaced by `addr`.
fn through(url: &str, addr: SocketAddr) -> (String, SocketAddr) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let (host_port, path) = rest.split_once('/').unwrap_or((rest, ""));
    let target = host_port
        .parse()
        .or_else(|_| format!("{host_port}:5432").parse())
        .expect("the database URL names an IP address and port");
    let at = if credentials.is_empty() {
        String::new()
    } else {
        format!("{credentials}@")
    };
    (format!("{scheme}://{at}{addr}/{path}"), target)
}

async fn submit(app: &TestApp, public_id: &str, idempotency_key: &str, accept: &str) -> Answer {
    let query = "mutation($input: NewResponseInput!) { submitResponse(input: $input) { response { id } } }";
    let body = json!({ "query": query, "variables": { "input": {
        "publicId": public_id, "idempotencyKey": idempotency_key, "answers": promoter() } } });
    post_raw(app, "/public/graphql", None, body.to_string(), &[("accept", accept)]).await
}

async fn readyz(app: &TestApp) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap(), started.elapsed())
}

fn assert_unavailable(answer: &Answer, case: &str) {
    assert_eq!(answer.status, 503, "{case}: {}", answer.body);
    assert_eq!(answer.code(), "SERVICE_UNAVAILABLE", "{case}");
    assert_eq!(answer.extensions()["retryable"], true, "{case}: {}", answer.body);
    assert!(answer.extensions()["requestId"].is_string(), "{case}");
    assert_eq!(answer.retry_after, Some(1), "{case}");
}

#[tokio::test]
async fn a_lost_database_is_refused_fast_and_served_again() {
    let Ok(_) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: a database server to lose needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    };
    let (mut config, dir) = test_config().await;
    let url = config.database_url.as_ref().unwrap().expose().to_owned();
    let (_, target) = through(&url, "127.0.0.1:1".parse().unwrap());
    let forwarder = Forwarder::start(target).await;
    config.database_url = Some(Secret::new(through(&url, forwarder.addr).0));
    config.database_acquire_timeout_ms = 500;
    let app = start(config, dir).await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let acknowledged = submit(&app, &form.public_id, &key(), "application/json").await;
    assert!(acknowledged.body["errors"].is_null(), "{}", acknowledged.body);

    forwarder.cut();
    let refused_key = key();
    let mut latencies = Vec::new();
    for (i, accept) in ["application/json", "application/graphql-response+json"]
        .iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        let answer = submit(&app, &form.public_id, &refused_key, accept).await;
        assert_unavailable(&answer, &format!("submission {i} ({accept})"));
        latencies.push(answer.elapsed);
    }
    // The first requests wait at most the acquire timeout; once the database is known to be
    // down, requests are refused at once.
    assert!(latencies.iter().all(|l| *l < Duration::from_secs(3)), "{latencies:?}");
    assert!(
        latencies[4..].iter().all(|l| *l < Duration::from_millis(100)),
        "{latencies:?}"
    );
    let staff = post_json(
        &app,
        "/graphql",
        Some(&owner.access_token),
        &json!({ "query": "{ me { role } }" }),
    )
    .await;
    assert_unavailable(&staff, "a staff request");
    let (status, body, took) = readyz(&app).await;
    assert_eq!(
        (status, body["database"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert!(took < Duration::from_secs(1), "/readyz took {took:?}");

    forwarder.restore().await;
    tokio::time::timeout(Duration::from_secs(10), app.db.breaker().until_up())
        .await
        .expect("the database's probe answered within 10 s");
    let retried = submit(&app, &form.public_id, &refused_key, "application/json").await;
    assert!(retried.body["errors"].is_null(), "not served again: {}", retried.body);
    let (status, _, _) = readyz(&app).await;
    assert_eq!(status, 200);
    // The acknowledged response is there, the refused one was written once, on its retry.
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 2);
}

#[tokio::test]
async fn a_lost_redis_is_skipped_at_once_and_used_again_when_back() {
    let Some(redis) = OwnRedis::start().await else {
        eprintln!("skipped: redis-server is not installed");
        return;
    };
    let forwarder = Forwarder::start(redis.addr).await;
    let (mut config, dir) = test_config().await;
    config.redis_url = Some(Secret::new(format!("redis://{}", forwarder.addr)));
    config.cache_prefix = "outage:".to_owned();
    let app = start(config, dir).await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let report = json!({ "query": "query($id: ID!) { formReport(formId: $id) { responses { completed } } }",
                         "variables": { "id": form.form_id } });
    let fetch = json!({ "query": "query($id: String!) { publicForm(publicId: $id) { title } }",
                        "variables": { "id": form.public_id } });
    assert!(
        post_json(&app, "/graphql", Some(&owner.access_token), &report)
            .await
            .body["errors"]
            .is_null()
    );

    forwarder.cut();
    let mut latencies = Vec::new();
    for i in 0..10 {
        let answer = if i % 2 == 0 {
            post_json(&app, "/graphql", Some(&owner.access_token), &report).await
        } else {
            post_json(&app, "/public/graphql", None, &fetch).await
        };
        assert!(
            answer.body["errors"].is_null(),
            "request {i} failed without Redis: {}",
            answer.body
        );
        latencies.push(answer.elapsed);
    }
    // The first call finds Redis gone (one timeout at most); after that it is not called.
    assert!(
        latencies[2..].iter().all(|l| *l < Duration::from_millis(300)),
        "{latencies:?}"
    );
    let submitted = submit(&app, &form.public_id, &key(), "application/json").await;
    assert!(submitted.body["errors"].is_null(), "{}", submitted.body);
    let (status, body, took) = readyz(&app).await;
    assert_eq!(
        (status, body["cache"]["status"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert!(took < Duration::from_secs(1), "/readyz took {took:?}");

    forwarder.restore().await;
    let breaker = app.cache.breaker().expect("the app uses Redis");
    tokio::time::timeout(Duration::from_secs(10), breaker.until_up())
        .await
        .expect("Redis's probe answered within 10 s");
    assert_eq!(readyz(&app).await.0, 200);
    // Used again: the report is cached in Redis under the app's prefix.
    let answer = post_json(&app, "/graphql", Some(&owner.access_token), &report).await;
    assert_eq!(
        answer.body["data"]["formReport"]["responses"]["completed"], 1,
        "{}",
        answer.body
    );
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("outage:*").query_async(&mut conn).await.unwrap();
    assert!(keys.iter().any(|k| k.contains("report")), "{keys:?}");
}
