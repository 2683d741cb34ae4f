//! Automatic persisted queries (Apollo's protocol): a client sends
//! `extensions.persistedQuery { version: 1, sha256Hash }` without the query text; an unknown
//! hash gets PERSISTED_QUERY_NOT_FOUND, and the client retries once with the text, which is
//! checked against the hash and kept in the shared cache (Redis when configured), so every
//! instance knows it afterwards. Without Redis, each instance learns queries on its own.
//!
//! Anyone may teach the server a query, so what it learns is bounded: only texts that parsed
//! and passed validation (learned after the operation ran), no longer than a small cap (a
//! persisted query is small by nature: longer ones still run, unlearned), at most so many per
//! minute per caller, in a store bounded by bytes that forgets the least recently used first.
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    cache::{BoundedMap, Cache},
    error::code,
};

/// How much the store may hold and who may fill it how fast.
#[derive(Clone, Copy, Debug)]
pub struct PersistedSettings {
    /// Longest query text that is learned, in bytes.
    pub max_query_bytes: usize,
    /// Bytes of queries the store keeps (in Redis, or in each process).
    pub store_bytes: u64,
    /// New queries one caller (address, API key or member) may teach per minute.
    pub learned_per_minute: u64,
}

/// The store of persisted queries. Cheap to clone.
#[derive(Clone)]
pub struct PersistedQueries {
    store: BoundedMap,
    settings: PersistedSettings,
}

/// An operation with its query text, and the text to learn once the operation passes.
pub struct Resolved {
    pub operation: Value,
    pub learn: Option<Learn>,
}

/// A query to keep under its hash.
pub struct Learn {
    hash: String,
    text: String,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PersistedQueries {
    pub fn new(cache: &Cache, settings: PersistedSettings) -> Self {
        PersistedQueries {
            store: cache.bounded_map("apq", settings.store_bytes),
            settings,
        }
    }

    /// The operation with its query text: as sent (to be learned), or found by its hash. An
    /// error is a code and a message for the client.
    pub async fn resolve(&self, mut operation: Value) -> Result<Resolved, (&'static str, String)> {
        let Some(persisted) = operation.pointer("/extensions/persistedQuery").cloned() else {
            return Ok(Resolved { operation, learn: None });
        };
        if persisted.get("version").and_then(Value::as_i64) != Some(1) {
            return Err((code::BAD_REQUEST, "persistedQuery.version must be 1".to_owned()));
        }
        let hash = persisted
            .get("sha256Hash")
            .and_then(Value::as_str)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| {
                (
                    code::BAD_REQUEST,
                    "persistedQuery.sha256Hash must be the query's SHA-256 in hex".to_owned(),
                )
            })?;
        match operation.get("query").and_then(Value::as_str) {
            Some(query) if !query.trim().is_empty() => {
                if sha256_hex(query) != hash {
                    return Err((
                        code::BAD_REQUEST,
                        "persistedQuery.sha256Hash does not match the query".to_owned(),
                    ));
                }
                let learn = (query.len() <= self.settings.max_query_bytes).then(|| Learn {
                    hash,
                    text: query.to_owned(),
                });
                Ok(Resolved { operation, learn })
            }
            _ => {
                let text = self
                    .store
                    .get(&hash)
                    .await
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or((code::PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound".to_owned()))?;
                operation["query"] = Value::String(text);
                Ok(Resolved { operation, learn: None })
            }
        }
    }

    /// Keeps a query that passed validation, unless `subject` has taught enough this minute.
    pub async fn learn(&self, cache: &Cache, now: chrono::DateTime<chrono::Utc>, subject: &str, learn: Learn) {
        let window = now.timestamp().div_euclid(60) as u64;
        let taught = cache
            .incr_window(
                &format!("apq-learned:{subject}"),
                window,
                std::time::Duration::from_secs(60),
                1,
            )
            .await;
        if taught > self.settings.learned_per_minute {
            tracing::debug!(subject, "persisted query not learned: too many this minute");
            return;
        }
        self.store.put(&learn.hash, learn.text.as_bytes()).await;
    }

    /// Bytes the store holds now.
    pub async fn weight(&self) -> u64 {
        self.store.weight().await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn store(max_query_bytes: usize, store_bytes: u64, learned_per_minute: u64) -> (Cache, PersistedQueries) {
        let cache = Cache::memory("t:");
        let settings = PersistedSettings {
            max_query_bytes,
            store_bytes,
            learned_per_minute,
        };
        let store = PersistedQueries::new(&cache, settings);
        (cache, store)
    }

    fn by_hash(query: &str) -> Value {
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } } })
    }

    fn full(query: &str) -> Value {
        let mut op = by_hash(query);
        op["query"] = json!(query);
        op
    }

    #[tokio::test]
    async fn unknown_then_learned_then_found() {
        let (cache, store) = store(1000, 1 << 20, 10);
        let query = "{ __typename }";
        assert_eq!(
            store.resolve(by_hash(query)).await.err().unwrap().0,
            code::PERSISTED_QUERY_NOT_FOUND
        );
        let resolved = store.resolve(full(query)).await.unwrap();
        // Resolving the full text does not learn it: the operation must pass first.
        assert_eq!(
            store.resolve(by_hash(query)).await.err().unwrap().0,
            code::PERSISTED_QUERY_NOT_FOUND
        );
        store
            .learn(&cache, chrono::Utc::now(), "a", resolved.learn.unwrap())
            .await;
        assert_eq!(
            store.resolve(by_hash(query)).await.unwrap().operation["query"],
            json!(query)
        );
        let mut wrong = by_hash(query);
        wrong["query"] = json!("{ me { id } }");
        assert_eq!(store.resolve(wrong).await.err().unwrap().0, code::BAD_REQUEST);
        let mut version = by_hash(query);
        version["extensions"]["persistedQuery"]["version"] = json!(2);
        assert_eq!(store.resolve(version).await.err().unwrap().0, code::BAD_REQUEST);
    }

    #[tokio::test]
    async fn long_texts_run_unlearned() {
        let (_, store) = store(20, 1 << 20, 10);
        assert!(store.resolve(full("{ __typename }")).await.unwrap().learn.is_some());
        assert!(
            store
                .resolve(full("{ a: __typename b: __typename }"))
                .await
                .unwrap()
                .learn
                .is_none()
        );
    }

    #[tokio::test]
    async fn learning_is_limited_per_caller_and_the_store_by_bytes() {
        let (cache, store) = store(1000, 4_000, 30);
        let now = chrono::Utc::now();
        for i in 0..100 {
            let query = format!("{{ a{i}: __typename {} }}", " ".repeat(200));
            let learn = store.resolve(full(&query)).await.unwrap().learn.unwrap();
            store.learn(&cache, now, "flood", learn).await;
        }
        let weight = store.weight().await;
        assert!(weight <= 4_000, "{weight}");
        assert!(weight > 2_000, "{weight}");
        // Another caller still teaches.
        let query = "{ b: __typename }";
        let learn = store.resolve(full(query)).await.unwrap().learn.unwrap();
        store.learn(&cache, now, "other", learn).await;
        assert!(store.resolve(by_hash(query)).await.is_ok());
    }
}
