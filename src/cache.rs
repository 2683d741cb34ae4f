//! The one cache interface: Redis when configured, in-process otherwise.
//!
//! The cache is an accelerator, never a source of truth: when Redis fails after start every
//! operation degrades (a miss, a skipped write, a local counter) instead of failing the request.
//! A Redis that failed is skipped at once (no call waits for its timeout) while a probe pings
//! it, and used again from its first answer ([`Breaker`]).
//!
//! What is kept in process is bounded by bytes, not entries, so no client can grow it past its
//! budget; [`BoundedMap`] does the same in Redis for stores that clients fill (persisted
//! queries).
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use moka::{Expiry, future::Cache as Moka};
use redis::{AsyncCommands, aio::ConnectionManager};

use crate::{
    BoxError,
    breaker::{Breaker, Probe},
};

/// Upper bound on any Redis call: past it the cache counts as unavailable for that call.
const REDIS_CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Failed Redis calls in a row before Redis is skipped (one: a failed call costs a timeout).
const DOWN_AFTER_FAILURES: u32 = 1;
/// How often a Redis counted down is pinged.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);
/// Bytes of values kept in process (keys and values counted).
const LOCAL_VALUES_BYTES: u64 = 64 << 20;

/// A cached value with its own time to live.
#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
    /// When it expires, for [`Cache::time_to_live`].
    expires: Instant,
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

fn weight(key: &str, value: &[u8]) -> u32 {
    u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
}

impl Local {
    fn new() -> Self {
        Local {
            values: Moka::builder()
                .max_capacity(LOCAL_VALUES_BYTES)
                .weigher(|key: &String, entry: &Entry| weight(key, &entry.value))
                .expire_after(PerEntryTtl)
                .build(),
            // Counters key on their window, so the longest window bounds their life.
            counters: Moka::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    async fn incr(&self, key: &str, by: u64) -> u64 {
        let counter = self
            .counters
            .get_with(key.to_owned(), async { Arc::new(AtomicU64::new(0)) })
            .await;
        counter.fetch_add(by, Ordering::Relaxed) + by
    }

    async fn count(&self, key: &str) -> u64 {
        match self.counters.get(key).await {
            Some(counter) => counter.load(Ordering::Relaxed),
            None => 0,
        }
    }
}

#[derive(Clone)]
enum Backend {
    Memory,
    Redis {
        conn: ConnectionManager,
        breaker: Breaker,
        /// For the dedicated connections of subscriptions (pub/sub).
        client: redis::Client,
    },
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
        let pinged = manager.clone();
        let probe: Probe = Arc::new(move || {
            let mut conn = pinged.clone();
            Box::pin(async move { redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok() })
        });
        let cache = Cache {
            backend: Backend::Redis {
                conn: manager,
                breaker: Breaker::new("redis", DOWN_AFTER_FAILURES, PROBE_INTERVAL, probe),
                client,
            },
            prefix: prefix.into(),
            local: Local::new(),
        };
        cache.ping().await.map_err(|e| format!("cannot reach Redis: {e}"))?;
        Ok(cache)
    }

    /// Publishes `message` on `channel` (under the prefix) to every instance subscribed; false
    /// without Redis or when it fails (the caller then tells its own instance alone).
    pub async fn publish(&self, channel: &str, message: &str) -> bool {
        let Backend::Redis { conn, breaker, .. } = &self.backend else {
            return false;
        };
        let mut conn = conn.clone();
        let channel = self.key(channel);
        redis_call(breaker, "PUBLISH", async move {
            redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(message)
                .query_async::<i64>(&mut conn)
                .await
        })
        .await
        .is_some()
    }

    /// The messages published on `channel` from now on, over a connection of their own; `None`
    /// without Redis, or when it cannot be reached.
    pub async fn messages(&self, channel: &str) -> Option<futures_util::stream::BoxStream<'static, String>> {
        use futures_util::StreamExt;
        let Backend::Redis { client, .. } = &self.backend else {
            return None;
        };
        let mut pubsub = tokio::time::timeout(Duration::from_secs(5), client.get_async_pubsub())
            .await
            .ok()?
            .ok()?;
        pubsub.subscribe(self.key(channel)).await.ok()?;
        Some(
            pubsub
                .into_on_message()
                .filter_map(|msg| async move { msg.get_payload::<String>().ok() })
                .boxed(),
        )
    }

    /// Redis's standing as this instance sees it; `None` without Redis.
    pub fn breaker(&self) -> Option<&Breaker> {
        match &self.backend {
            Backend::Memory => None,
            Backend::Redis { breaker, .. } => Some(breaker),
        }
    }

    /// `redis` or `memory`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory => "memory",
            Backend::Redis { .. } => "redis",
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
            Backend::Redis { conn, breaker, .. } => {
                let mut conn = conn.clone();
                redis_call(breaker, "GET", conn.get::<_, Option<Vec<u8>>>(&key))
                    .await
                    .flatten()
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
                            expires: Instant::now() + ttl,
                        },
                    )
                    .await
            }
            Backend::Redis { conn, breaker, .. } => {
                let mut conn = conn.clone();
                let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                redis_call(breaker, "SET", conn.pset_ex::<_, _, ()>(&key, value, millis)).await;
            }
        }
    }

    /// How long a value has left to live; `None` when absent, kept without a limit, or when
    /// Redis is unavailable.
    pub async fn time_to_live(&self, key: &str) -> Option<Duration> {
        let key = self.key(key);
        match &self.backend {
            Backend::Memory => {
                let entry = self.local.values.get(&key).await?;
                Some(entry.expires.saturating_duration_since(Instant::now()))
            }
            Backend::Redis { conn, breaker, .. } => {
                let mut conn = conn.clone();
                match redis_call(breaker, "PTTL", conn.pttl(&key)).await? {
                    redis::IntegerReplyOrNoOp::IntegerReply(millis) => Some(Duration::from_millis(millis as u64)),
                    _ => None,
                }
            }
        }
    }

    /// Removes a value; best effort.
    pub async fn delete(&self, key: &str) {
        let key = self.key(key);
        match &self.backend {
            Backend::Memory => self.local.values.invalidate(&key).await,
            Backend::Redis { conn, breaker, .. } => {
                let mut conn = conn.clone();
                redis_call(breaker, "DEL", conn.del::<_, ()>(&key)).await;
            }
        }
    }

    /// Counts `by` more hits in the fixed window `window` (of length `window_len`) of `key` and
    /// returns the count so far. Shared across instances with Redis; counted in this process
    /// when Redis is unavailable.
    pub async fn incr_window(&self, key: &str, window: u64, window_len: Duration, by: u64) -> u64 {
        let key = self.key(&format!("{key}:{window}"));
        if let Backend::Redis { conn, breaker, .. } = &self.backend {
            let mut conn = conn.clone();
            let secs = i64::try_from(window_len.as_secs()).unwrap_or(i64::MAX).max(1);
            let mut pipe = redis::pipe();
            pipe.atomic().incr(&key, by).expire(&key, secs).ignore();
            if let Some((count,)) = redis_call(breaker, "INCR", pipe.query_async::<(u64,)>(&mut conn)).await {
                return count;
            }
        }
        self.local.incr(&key, by).await
    }

    /// The count so far in the fixed window `window` of `key`, counting nothing.
    pub async fn window_count(&self, key: &str, window: u64) -> u64 {
        let key = self.key(&format!("{key}:{window}"));
        if let Backend::Redis { conn, breaker, .. } = &self.backend {
            let mut conn = conn.clone();
            if let Some(count) = redis_call(breaker, "GET", conn.get::<_, Option<u64>>(&key)).await {
                return count.unwrap_or(0);
            }
        }
        self.local.count(&key).await
    }

    /// Forgets the count of `key` in window `window`.
    pub async fn reset_window(&self, key: &str, window: u64) {
        let key = format!("{key}:{window}");
        self.local.counters.invalidate(&self.key(&key)).await;
        if matches!(self.backend, Backend::Redis { .. }) {
            self.delete(&key).await;
        }
    }

    /// A map that holds at most `budget` bytes (keys and values), least recently used
    /// evicted first: in Redis when configured (shared by every instance), in process otherwise.
    pub fn bounded_map(&self, name: &str, budget: u64) -> BoundedMap {
        BoundedMap {
            cache: self.clone(),
            // One hash tag: the map's keys are touched together by one script (Redis Cluster).
            name: self.key(&format!("{{{name}}}")),
            budget,
            local: Moka::builder()
                .max_capacity(budget)
                .weigher(|key: &String, value: &Arc<[u8]>| weight(key, value))
                .build(),
        }
    }

    /// Whether the cache answers (always, in process).
    pub async fn ping(&self) -> Result<(), String> {
        match &self.backend {
            Backend::Memory => Ok(()),
            Backend::Redis { breaker, .. } if breaker.is_down() => Err("known to be down".to_owned()),
            Backend::Redis { conn, .. } => {
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

/// Runs one Redis call under a deadline, unless Redis is known to be down; failures are logged
/// and become `None`, and a Redis that cannot be reached is counted down.
async fn redis_call<T>(breaker: &Breaker, what: &str, call: impl Future<Output = redis::RedisResult<T>>) -> Option<T> {
    if breaker.is_down() {
        return None;
    }
    match tokio::time::timeout(REDIS_CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => {
            breaker.succeeded();
            Some(value)
        }
        Ok(Err(err)) => {
            if err.is_io_error() || err.is_connection_dropped() || err.is_connection_refusal() || err.is_timeout() {
                breaker.failed();
            }
            tracing::warn!(command = what, error = %err, "redis unavailable, continuing without cache");
            None
        }
        Err(_) => {
            breaker.failed();
            tracing::warn!(command = what, "redis timed out, continuing without cache");
            None
        }
    }
}

/// Takes a lease in a set of leases (a sorted set scored by expiry): drops the expired ones,
/// refuses when `max` are held, else adds the member until `now + lease`.
const LEASE_TAKE: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
";

impl Cache {
    /// Takes one of at most `max` leases of `set` for `member`, shared by every instance, until
    /// `lease` after `now` (the caller's clock): `Some(false)` when `max` unexpired leases are
    /// held, `None` without Redis or when Redis is unavailable (the caller counts for itself).
    pub async fn take_lease(
        &self,
        set: &str,
        member: &str,
        max: usize,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Option<bool> {
        let Backend::Redis { conn, breaker, .. } = &self.backend else {
            return None;
        };
        static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new(LEASE_TAKE));
        let mut conn = conn.clone();
        let now_ms = now.timestamp_millis();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX).max(1);
        let mut invocation = SCRIPT.key(self.key(set));
        invocation
            .arg(now_ms)
            .arg(now_ms.saturating_add(lease_ms))
            .arg(max)
            .arg(member)
            .arg(lease_ms);
        redis_call(breaker, "EVALSHA", invocation.invoke_async::<i64>(&mut conn))
            .await
            .map(|taken| taken == 1)
    }

    /// Extends the leases of `set` that `members` hold (and only those still held) until
    /// `lease` after `now`; best effort.
    pub async fn renew_leases(&self, set: &str, members: &[String], now: DateTime<Utc>, lease: Duration) {
        let Backend::Redis { conn, breaker, .. } = &self.backend else {
            return;
        };
        if members.is_empty() {
            return;
        }
        let mut conn = conn.clone();
        let key = self.key(set);
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX).max(1);
        let until = now.timestamp_millis().saturating_add(lease_ms);
        let mut pipe = redis::pipe();
        let mut add = redis::cmd("ZADD");
        add.arg(&key).arg("XX");
        for member in members {
            add.arg(until).arg(member);
        }
        pipe.add_command(add).ignore().pexpire(&key, lease_ms).ignore();
        redis_call(breaker, "ZADD", pipe.query_async::<()>(&mut conn)).await;
    }

    /// Gives back `member`'s lease of `set`; best effort (an unreturned lease expires).
    pub async fn release_lease(&self, set: &str, member: &str) {
        if let Backend::Redis { conn, breaker, .. } = &self.backend {
            let mut conn = conn.clone();
            redis_call(breaker, "ZREM", conn.zrem::<_, _, ()>(self.key(set), member)).await;
        }
    }
}

/// See [`Cache::bounded_map`].
#[derive(Clone)]
pub struct BoundedMap {
    cache: Cache,
    /// Prefix of the map's Redis keys: `<name>:values` (a hash), `<name>:used` (a sorted set of
    /// keys by last use), `<name>:bytes` (what the values weigh).
    name: String,
    budget: u64,
    local: Moka<String, Arc<[u8]>>,
}

/// Stores a value, then evicts the least recently used until the map fits its budget.
const BOUNDED_PUT: &str = r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local total = redis.call('INCRBY', KEYS[3], string.len(ARGV[1]) + string.len(ARGV[2]))
local budget = tonumber(ARGV[4])
while total > budget do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local size = string.len(oldest[1]) + redis.call('HSTRLEN', KEYS[1], oldest[1])
  redis.call('HDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[3], size)
end
return 1
";

impl BoundedMap {
    fn keys(&self) -> [String; 3] {
        ["values", "used", "bytes"].map(|part| format!("{}:{part}", self.name))
    }

    /// The value of `key`, marked as just used; `None` when absent or Redis is unavailable.
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match &self.cache.backend {
            Backend::Memory => self.local.get(key).await.map(|v| v.to_vec()),
            Backend::Redis { conn, breaker, .. } => {
                let mut conn = conn.clone();
                let [values, used, _] = self.keys();
                let mut pipe = redis::pipe();
                pipe.hget(&values, key)
                    .cmd("ZADD")
                    .arg(&used)
                    .arg("XX")
                    .arg(now_millis())
                    .arg(key)
                    .ignore();
                redis_call(breaker, "HGET", pipe.query_async::<(Option<Vec<u8>>,)>(&mut conn))
                    .await
                    .and_then(|(value,)| value)
            }
        }
    }

    /// Stores `value` under `key` (best effort).
    pub async fn put(&self, key: &str, value: &[u8]) {
        match &self.cache.backend {
            Backend::Memory => self.local.insert(key.to_owned(), value.into()).await,
            Backend::Redis { conn, breaker, .. } => {
                static SCRIPT: std::sync::LazyLock<redis::Script> =
                    std::sync::LazyLock::new(|| redis::Script::new(BOUNDED_PUT));
                let mut conn = conn.clone();
                let [values, used, bytes] = self.keys();
                let mut invocation = SCRIPT.key(values);
                invocation
                    .key(used)
                    .key(bytes)
                    .arg(key)
                    .arg(value)
                    .arg(now_millis())
                    .arg(self.budget);
                redis_call(breaker, "EVALSHA", invocation.invoke_async::<i64>(&mut conn)).await;
            }
        }
    }

    /// Bytes the map holds now (keys and values).
    pub async fn weight(&self) -> u64 {
        match &self.cache.backend {
            Backend::Memory => {
                self.local.run_pending_tasks().await;
                self.local.weighted_size()
            }
            Backend::Redis { conn, breaker, .. } => {
                let mut conn = conn.clone();
                let [_, _, bytes] = self.keys();
                redis_call(breaker, "GET", conn.get::<_, Option<u64>>(&bytes))
                    .await
                    .flatten()
                    .unwrap_or(0)
            }
        }
    }
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
