//! Automatic persisted queries (Apollo's protocol): a client sends
//! `extensions.persistedQuery { version: 1, sha256Hash }` without the query text; an unknown
//! hash gets PERSISTED_QUERY_NOT_FOUND, and the client retries once with the text, which is
//! checked against the hash and kept in the shared cache (Redis when configured), so every
//! instance knows it afterwards. Without Redis, each instance learns queries on its own.
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{cache::Cache, error::code};

/// How long a persisted query is kept after it was last sent in full.
pub const TTL: Duration = Duration::from_secs(7 * 24 * 3600);

fn cache_key(hash: &str) -> String {
    format!("apq:{hash}")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The operation with its query text: as sent, learned, or found by its hash. An error is a
/// code and a message for the client.
pub async fn resolve(cache: &Cache, mut operation: Value) -> Result<Value, (&'static str, String)> {
    let Some(persisted) = operation.pointer("/extensions/persistedQuery").cloned() else {
        return Ok(operation);
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
            cache.set(&cache_key(&hash), query.as_bytes(), TTL).await;
            Ok(operation)
        }
        _ => {
            let text = cache
                .get(&cache_key(&hash))
                .await
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or((code::PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound".to_owned()))?;
            operation["query"] = Value::String(text);
            Ok(operation)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn unknown_then_learned_then_found() {
        let cache = Cache::memory("t:");
        let query = "{ __typename }";
        let hash = sha256_hex(query);
        let by_hash = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
        assert_eq!(
            resolve(&cache, by_hash.clone()).await.unwrap_err().0,
            code::PERSISTED_QUERY_NOT_FOUND
        );
        let mut full = by_hash.clone();
        full["query"] = json!(query);
        assert!(resolve(&cache, full).await.is_ok());
        assert_eq!(resolve(&cache, by_hash).await.unwrap()["query"], json!(query));
        let wrong = json!({ "query": "{ me { id } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
        assert_eq!(resolve(&cache, wrong).await.unwrap_err().0, code::BAD_REQUEST);
        let version = json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": hash } } });
        assert_eq!(resolve(&cache, version).await.unwrap_err().0, code::BAD_REQUEST);
    }
}
