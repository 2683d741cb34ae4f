//! The cache interface on both implementations, a clear error for an unreachable Redis at
//! start, and degradation (not failure) when Redis goes away later.
use std::time::Duration;

use nazar::cache::Cache;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{OwnRedis, spawn_app_with};

async fn exercise(cache: &Cache) {
    let key = format!("k-{}", Uuid::now_v7().simple());
    assert_eq!(cache.get(&key).await, None);
    cache.set(&key, "نظر ✓".as_bytes(), Duration::from_secs(60)).await;
    assert_eq!(cache.get(&key).await.as_deref(), Some("نظر ✓".as_bytes()));
    cache.delete(&key).await;
    assert_eq!(cache.get(&key).await, None);

    // Each value is stored with its own time to live (the store expires it).
    let short = format!("short-{}", Uuid::now_v7().simple());
    cache.set(&short, b"v", Duration::from_millis(200)).await;
    assert!(cache.get(&short).await.is_some());
    let left = cache.time_to_live(&short).await.expect("a time to live");
    assert!(left > Duration::ZERO && left <= Duration::from_millis(200), "{left:?}");
    cache.set(&short, b"w", Duration::from_secs(60)).await;
    let left = cache.time_to_live(&short).await.expect("a time to live");
    assert!(
        left > Duration::from_secs(50) && left <= Duration::from_secs(60),
        "rewritten: {left:?}"
    );
    assert_eq!(cache.time_to_live(&format!("absent-{short}")).await, None);

    let counter = format!("c-{}", Uuid::now_v7().simple());
    for expected in 1..=3 {
        assert_eq!(
            cache.incr_window(&counter, 7, Duration::from_secs(60), 1).await,
            expected
        );
    }
    assert_eq!(
        cache.incr_window(&counter, 8, Duration::from_secs(60), 1).await,
        1,
        "a new window starts at 1"
    );
    assert!(cache.ping().await.is_ok());
}

/// Leases shared by instances: at most `max` held, expiring on the caller's clock unless
/// renewed, given back early.
async fn leases(cache: &Cache) {
    let set = format!("leases-{}", Uuid::now_v7().simple());
    let t0 = chrono::Utc::now();
    let lease = Duration::from_secs(60);
    let at = |secs: i64| t0 + chrono::Duration::seconds(secs);
    assert_eq!(cache.take_lease(&set, "a", 2, at(0), lease).await, Some(true));
    assert_eq!(cache.take_lease(&set, "b", 2, at(1), lease).await, Some(true));
    assert_eq!(
        cache.take_lease(&set, "c", 2, at(2), lease).await,
        Some(false),
        "two are held"
    );
    cache.release_lease(&set, "a").await;
    assert_eq!(
        cache.take_lease(&set, "c", 2, at(3), lease).await,
        Some(true),
        "a was given back"
    );
    // b is renewed at 50 s, c is not: at 64 s c's lease has run out, b's has not.
    cache.renew_leases(&set, &["b".to_owned()], at(50), lease).await;
    assert_eq!(
        cache.take_lease(&set, "d", 2, at(62), lease).await,
        Some(false),
        "c holds until 63 s"
    );
    assert_eq!(
        cache.take_lease(&set, "d", 2, at(64), lease).await,
        Some(true),
        "c expired"
    );
    assert_eq!(
        cache.take_lease(&set, "e", 2, at(100), lease).await,
        Some(false),
        "b renewed to 110 s"
    );
    // Renewing does not bring back a lease that was given back.
    cache.release_lease(&set, "d").await;
    cache.renew_leases(&set, &["d".to_owned()], at(101), lease).await;
    assert_eq!(cache.take_lease(&set, "e", 2, at(102), lease).await, Some(true));
}

#[tokio::test]
async fn the_in_process_cache_works() {
    let cache = Cache::memory("test:");
    exercise(&cache).await;
    // No leases to share in process: the caller counts for itself.
    assert_eq!(
        cache
            .take_lease("set", "a", 1, chrono::Utc::now(), Duration::from_secs(60))
            .await,
        None
    );
}

#[tokio::test]
async fn the_redis_cache_works() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    };
    let prefix = format!("nazar-test:{}:", Uuid::now_v7().simple());
    let cache = Cache::redis(&url, prefix.clone()).await.expect("redis reachable");
    assert_eq!(cache.kind(), "redis");
    exercise(&cache).await;
    leases(&cache).await;
    // Keys carry the prefix, so tests and deployments sharing a Redis do not collide.
    let other = Cache::redis(&url, format!("nazar-test:{}:", Uuid::now_v7().simple()))
        .await
        .unwrap();
    cache.set("shared-name", b"mine", Duration::from_secs(60)).await;
    assert_eq!(other.get("shared-name").await, None);
}

#[tokio::test]
async fn an_unreachable_redis_at_start_is_a_clear_error() {
    let Err(err) = Cache::redis("redis://127.0.0.1:1", "x:").await else {
        panic!("connected to nothing")
    };
    assert!(err.to_string().contains("cannot reach Redis"), "{err}");

    let (config, _) = crate::helpers::test_config().await;
    let mut config = config;
    config.redis_url = Some(nazar::config::Secret::new("redis://127.0.0.1:1"));
    let Err(err) = nazar::app::App::build(config).await else {
        panic!("started without its Redis")
    };
    assert!(err.to_string().contains("cannot reach Redis"), "{err}");
}

#[tokio::test]
async fn a_redis_failing_later_degrades_instead_of_failing_requests() {
    let Some(mut redis) = OwnRedis::start().await else {
        eprintln!("skipped: redis-server is not installed");
        return;
    };
    let url = redis.url.clone();
    let app = spawn_app_with(|c| {
        c.redis_url = Some(nazar::config::Secret::new(url.clone()));
    })
    .await;
    let owner = app.sign_up().await;
    let key = app
        .gql(Some(&owner.access_token), "mutation { createApiKey(input: { name: \"k\", scopes: [FORMS_READ], rateLimitPerMinute: 1000 }) { secret } }", json!({}))
        .await;
    let secret = key["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.gql(Some(&secret), "{ me { kind } }", json!({})).await["data"]["me"]["kind"],
        "API_KEY"
    );

    let _ = redis.child.kill();
    let _ = redis.child.wait();

    // Requests (and the rate limit, counted in process meanwhile) still work, promptly.
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let response = app.post(Some(&secret), "{ me { kind } }", json!({})).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("ratelimit-remaining").is_some());
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"]["me"]["kind"], "API_KEY", "{body}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "degraded requests took {:?}",
        started.elapsed()
    );
    // Readiness reports the outage.
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["cache"]["status"], "unavailable");
    assert_eq!(body["database"], "ok");
}
