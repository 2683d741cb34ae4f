//! The one cache interface: Redis when configured, in-process otherwise.
//!
//! The cache is an accelerator, never a source of truth: when Redis fails after start every
//! operation degrades (a miss, a skipped write, a local counter) instead of failing the request.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use moka::{Expiry, future::Cache as Moka};
use redis::{AsyncCommands, aio::ConnectionManager};

use crate::BoxError;

/// Upper bound on any Redis call: past it the cache counts as unavailable for that call.
const REDIS_CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// A cached value with its own time to live.
#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// In-process storage: values and window counters.
#[derive(Clone)]
struct Local {
    values: Moka<String, Entry>,
    counters: Moka<String, Arc<AtomicU64>>,
}

impl Local {
    fn new() -> Self {
        Local {
            values: Moka::builder().max_capacity(100_000).expire_after(PerEntryTtl).build(),
            // Counters key on their window, so the longest window bounds their life.
            counters: Moka::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    async fn incr(&self, key: &str) -> u64 {
        let counter = self
            .counters
            .get_with(key.to_owned(), async { Arc::new(AtomicU64::new(0)) })
            .await;
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[derive(Clone)]
enum Backend {
    Memory,
    Redis(ConnectionManager),
}

/// Shared cache handle, cheap to clone.
#[derive(Clone)]
pub struct Cache {
    backend: Backend,
    prefix: String,
    /// The whole cache without Redis; with Redis, the fallback for counters when Redis fails.
    local: Local,
}

impl Cache {
    /// An in-process cache.
    pub fn memory(prefix: impl Into<String>) -> Self {
        Cache {
            backend: Backend::Memory,
            prefix: prefix.into(),
            local: Local::new(),
        }
    }

    /// Connects to Redis; an unreachable Redis at start is an error, not a silent fallback.
    pub async fn redis(url: &str, prefix: impl Into<String>) -> Result<Self, BoxError> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid REDIS_URL: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(REDIS_CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let manager = tokio::time::timeout(
            Duration::from_secs(5),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| "cannot reach Redis: timed out".to_owned())?
        .map_err(|e| format!("cannot reach Redis: {e}"))?;
        let cache = Cache {
            backend: Backend::Redis(manager),
            prefix: prefix.into(),
            local: Local::new(),
        };
        cache.ping().await.map_err(|e| format!("cannot reach Redis: {e}"))?;
        Ok(cache)
    }

    /// `redis` or `memory`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// Reads a value; `None` when absent, expired, or when Redis is unavailable.
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let key = self.key(key);
        match &self.backend {
            Backend::Memory => self.local.values.get(&key).await.map(|e| e.value.to_vec()),
            Backend::Redis(conn) => {
                let mut conn = conn.clone();
                redis_call("GET", conn.get::<_, Option<Vec<u8>>>(&key)).await.flatten()
            }
        }
    }

    /// Stores a value for `ttl`; best effort.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let key = self.key(key);
        match &self.backend {
            Backend::Memory => {
                self.local
                    .values
                    .insert(
                        key,
                        Entry {
                            value: value.into(),
                            ttl,
                        },
                    )
                    .await
            }
            Backend::Redis(conn) => {
                let mut conn = conn.clone();
                let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                redis_call("SET", conn.pset_ex::<_, _, ()>(&key, value, millis)).await;
            }
        }
    }

    /// Removes a value; best effort.
    pub async fn delete(&self, key: &str) {
        let key = self.key(key);
        match &self.backend {
            Backend::Memory => self.local.values.invalidate(&key).await,
            Backend::Redis(conn) => {
                let mut conn = conn.clone();
                redis_call("DEL", conn.del::<_, ()>(&key)).await;
            }
        }
    }

    /// Counts one more hit in the fixed window `window` (of length `window_len`) of `key` and
    /// returns the count so far. Shared across instances with Redis; counted in this process
    /// when Redis is unavailable.
    pub async fn incr_window(&self, key: &str, window: u64, window_len: Duration) -> u64 {
        let key = self.key(&format!("{key}:{window}"));
        if let Backend::Redis(conn) = &self.backend {
            let mut conn = conn.clone();
            let secs = i64::try_from(window_len.as_secs()).unwrap_or(i64::MAX).max(1);
            let mut pipe = redis::pipe();
            pipe.atomic().incr(&key, 1u64).expire(&key, secs).ignore();
            if let Some((count,)) = redis_call("INCR", pipe.query_async::<(u64,)>(&mut conn)).await {
                return count;
            }
        }
        self.local.incr(&key).await
    }

    /// Whether the cache answers (always, in process).
    pub async fn ping(&self) -> Result<(), String> {
        match &self.backend {
            Backend::Memory => Ok(()),
            Backend::Redis(conn) => {
                let mut conn = conn.clone();
                match tokio::time::timeout(REDIS_CALL_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn))
                    .await
                {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("timed out".to_owned()),
                }
            }
        }
    }
}

/// Runs one Redis call under a deadline; failures are logged and become `None`.
async fn redis_call<T>(what: &str, call: impl Future<Output = redis::RedisResult<T>>) -> Option<T> {
    match tokio::time::timeout(REDIS_CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(err)) => {
            tracing::warn!(command = what, error = %err, "redis unavailable, continuing without cache");
            None
        }
        Err(_) => {
            tracing::warn!(command = what, "redis timed out, continuing without cache");
            None
        }
    }
}
