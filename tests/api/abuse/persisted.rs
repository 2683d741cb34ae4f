//! Persisted queries without credentials: only documents that pass validation are learned,
//! small ones, a few a minute per caller, into a store bounded by bytes; a flood of large ones
//! leaves the server and Redis where they were.
use nazar::config::Secret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::post_raw;
use crate::helpers::{OwnRedis, TestApp, spawn_app_with};

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sends `query` with its hash (`full`) or the hash alone, from `address`.
async fn send(app: &TestApp, query: &str, full: bool, address: &str) -> super::Answer {
    let mut body = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } } });
    if full {
        body["query"] = json!(query);
    }
    post_raw(
        app,
        "/public/graphql",
        None,
        body.to_string(),
        &[("x-forwarded-for", address)],
    )
    .await
}

async fn known(app: &TestApp, query: &str) -> bool {
    let answer = send(app, query, false, "10.0.0.99").await;
    match answer.body["errors"][0]["extensions"]["code"].as_str() {
        Some("PERSISTED_QUERY_NOT_FOUND") => false,
        None => true,
        Some(other) => panic!("unexpected {other}: {}", answer.body),
    }
}

/// A valid query of about `bytes` bytes, different for each `n`.
fn query_of(n: usize, bytes: usize) -> String {
    let padding = " ".repeat(bytes.saturating_sub(40));
    format!("{{ q{n}: __typename{padding} }}")
}

#[tokio::test]
async fn only_small_documents_that_pass_validation_are_learned() {
    let app = spawn_app_with(|c| c.trusted_proxy_hops = 1).await;
    let invalid = "{ noSuchField }";
    let answer = send(&app, invalid, true, "10.0.0.1").await;
    assert_eq!(answer.code(), "GRAPHQL_VALIDATION_FAILED", "{}", answer.body);
    assert!(!known(&app, invalid).await, "an invalid document was learned");

    let unparsable = "{ a ";
    send(&app, unparsable, true, "10.0.0.1").await;
    assert!(!known(&app, unparsable).await);

    let valid = query_of(1, 100);
    assert!(send(&app, &valid, true, "10.0.0.1").await.body["errors"].is_null());
    assert!(known(&app, &valid).await);

    // Over the size cap (32 KiB): it runs, but is not learned.
    let long = query_of(2, 40_000);
    let answer = send(&app, &long, true, "10.0.0.1").await;
    assert_eq!(answer.body["data"]["q2"], "PublicQuery", "{}", answer.body);
    assert!(!known(&app, &long).await);
}

#[tokio::test]
async fn a_caller_teaches_a_few_queries_a_minute() {
    let app = spawn_app_with(|c| {
        c.trusted_proxy_hops = 1;
        c.persisted_queries_learned_per_minute = 5;
    })
    .await;
    for n in 0..10 {
        send(&app, &query_of(n, 60), true, "10.0.0.1").await;
    }
    let mut learned = 0;
    for n in 0..10 {
        learned += usize::from(known(&app, &query_of(n, 60)).await);
    }
    assert_eq!(learned, 5);
    // Another address is not held back by the first.
    send(&app, &query_of(100, 60), true, "10.0.0.2").await;
    assert!(known(&app, &query_of(100, 60)).await);
    // The next minute, the first address teaches again.
    app.clock.advance(chrono::Duration::seconds(60));
    send(&app, &query_of(200, 60), true, "10.0.0.1").await;
    assert!(known(&app, &query_of(200, 60)).await);
}

async fn redis_value(url: &str, command: &[&str]) -> Value {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = redis::cmd(command[0]);
    for arg in &command[1..] {
        cmd.arg(*arg);
    }
    match cmd.query_async::<redis::Value>(&mut conn).await.unwrap() {
        redis::Value::Int(n) => json!(n),
        redis::Value::BulkString(bytes) => json!(String::from_utf8_lossy(&bytes)),
        redis::Value::VerbatimString { text, .. } => json!(text),
        redis::Value::Nil => Value::Null,
        other => json!(format!("{other:?}")),
    }
}

async fn used_memory(url: &str) -> i64 {
    let info = redis_value(url, &["INFO", "memory"]).await;
    info.as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn floods_leave_redis_within_the_store_budget() {
    let Some(redis) = OwnRedis::start().await else {
        eprintln!("skipped: redis-server is not installed");
        return;
    };
    let url = redis.url.clone();
    let app = spawn_app_with(|c| {
        c.redis_url = Some(Secret::new(url.clone()));
        c.cache_prefix = "flood:".to_owned();
        c.trusted_proxy_hops = 1;
        c.persisted_query_store_bytes = 64 << 10;
        c.persisted_queries_learned_per_minute = 10_000;
        c.public_rate_limit_per_address = 0;
    })
    .await;
    let before = used_memory(&url).await;

    // The flood the issue reported: 400 requests of large documents from one address (each
    // over the 100 kB query cap, so nothing is parsed, let alone learned).
    let large = "x".repeat(120_000);
    for n in 0..400 {
        let query = format!("{{ q{n}: __typename }} # {large}");
        let answer = send(&app, &query, true, "10.0.0.1").await;
        assert_eq!(answer.code(), "QUERY_TOO_LARGE");
    }
    assert_eq!(redis_value(&url, &["GET", "flood:{apq}:bytes"]).await, Value::Null);

    // 400 valid documents of 3 kB: learned, but the store keeps 64 kB of the latest.
    for n in 0..400 {
        send(&app, &query_of(n, 3_000), true, "10.0.0.1").await;
    }
    let stored: i64 = redis_value(&url, &["GET", "flood:{apq}:bytes"])
        .await
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((32 << 10..=64 << 10).contains(&stored), "{stored} bytes stored");
    assert!(known(&app, &query_of(399, 3_000)).await, "the latest was evicted");
    assert!(!known(&app, &query_of(0, 3_000)).await, "the oldest was kept");
    let grown = used_memory(&url).await - before;
    assert!(grown < 2 << 20, "Redis grew by {grown} bytes");
}
