//! Idempotency keys: every write of the submission API carries a client-generated key. The same
//! key with the same payload gets the original outcome and writes nothing; the same key with
//! another payload is refused (IDEMPOTENCY_KEY_REUSED). The primary key on (scope, key)
//! decides, not a check-then-insert: the claim is the first write of the transaction, so a
//! concurrent duplicate waits for the first to commit (PostgreSQL's unique index; SQLite's single
//! writer) and then finds its outcome.
use entity::idempotency_key;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult, code};

/// Longest idempotency key.
pub const MAX_KEY_CHARS: usize = 200;
/// How long a key is remembered: a retry within this time gets the original outcome.
pub const RETENTION_DAYS: i64 = 7;

/// Checks a client's key: 1–200 characters without control characters or spaces.
pub fn check_key(key: &str, field: &str) -> AppResult<()> {
    let valid = !key.is_empty()
        && key.chars().count() <= MAX_KEY_CHARS
        && !key.chars().any(|c| c.is_control() || c.is_whitespace());
    if valid {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            format!("1–{MAX_KEY_CHARS} characters without spaces, e.g. a UUID the client generates per write"),
        ))
    }
}

/// A request's fingerprint: SHA-256 of the operation's name and its input.
pub fn fingerprint<T: Serialize>(operation: &str, input: &T) -> String {
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(input).unwrap_or_default());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn refused_reuse() -> AppError {
    AppError::refused(
        code::IDEMPOTENCY_KEY_REUSED,
        Some("input.idempotencyKey"),
        "this idempotency key was used for another request: use a new key for a new write",
    )
}

fn outcome<T: DeserializeOwned>(row: idempotency_key::Model, hash: &str) -> AppResult<T> {
    if row.request_hash != hash {
        return Err(refused_reuse());
    }
    serde_json::from_str(&row.result).map_err(|e| AppError::internal("stored idempotent outcome", e))
}

/// The outcome of an earlier request under this key, if there was one (a read, before any
/// write: retries are answered without taking the write lock).
pub async fn earlier<T: DeserializeOwned>(
    conn: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    hash: &str,
) -> AppResult<Option<T>> {
    let row = idempotency_key::Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(conn)
        .await?;
    row.map(|row| outcome(row, hash)).transpose()
}

/// Claims the key inside the write transaction, storing `result` as its outcome. `None`: the
/// key is this request's, go on writing. `Some`: an earlier request under the key committed
/// first; its outcome is returned (same payload) or the request refused (another payload), and
/// the caller must write nothing.
pub async fn claim<T: Serialize + DeserializeOwned>(
    txn: &impl ConnectionTrait,
    at: chrono::DateTime<chrono::Utc>,
    organization_id: Uuid,
    scope: &str,
    key: &str,
    hash: &str,
    result: &T,
) -> AppResult<Option<T>> {
    let row = key_row(at, organization_id, (scope, key, hash), result)?;
    let inserted = idempotency_key::Entity::insert(row)
        .on_conflict(on_conflict())
        .exec_without_returning(txn)
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    let row = idempotency_key::Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal("a conflicting idempotency key vanished".to_owned()))?;
    outcome(row, hash).map(Some)
}

/// The row that claims `key` in `scope` for a request with fingerprint `hash`, its outcome
/// `result`.
pub fn key_row<T: Serialize>(
    at: chrono::DateTime<chrono::Utc>,
    organization_id: Uuid,
    (scope, key, hash): (&str, &str, &str),
    result: &T,
) -> AppResult<idempotency_key::ActiveModel> {
    Ok(idempotency_key::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        organization_id: Set(organization_id),
        request_hash: Set(hash.to_owned()),
        result: Set(serde_json::to_string(result).map_err(|e| AppError::internal("idempotent outcome", e))?),
        created_at: Set(at),
    })
}

/// A claim that finds the key taken leaves the earlier one: the first to commit wins.
fn on_conflict() -> OnConflict {
    OnConflict::columns([idempotency_key::Column::Scope, idempotency_key::Column::Key])
        .do_nothing()
        .to_owned()
}

/// Replaces the stored outcome of a claimed key (when the write went otherwise than planned).
pub async fn settle<T: Serialize>(txn: &impl ConnectionTrait, scope: &str, key: &str, result: &T) -> AppResult<()> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Result,
            sea_orm::sea_query::Expr::value(
                serde_json::to_string(result).map_err(|e| AppError::internal("idempotent outcome", e))?,
            ),
        )
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(txn)
        .await?;
    Ok(())
}

/// Forgets keys claimed before `before`; returns how many.
pub async fn purge(conn: &impl ConnectionTrait, before: chrono::DateTime<chrono::Utc>) -> AppResult<u64> {
    let deleted = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(before))
        .exec(conn)
        .await?;
    Ok(deleted.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_fingerprints() {
        assert!(check_key("0196f8a2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "k").is_ok());
        for bad in ["", "has space", "tab\tkey", &"k".repeat(201)] {
            assert!(check_key(bad, "k").is_err(), "{bad:?}");
        }
        let a = fingerprint("submit", &serde_json::json!({ "nps": 9 }));
        assert_eq!(a, fingerprint("submit", &serde_json::json!({ "nps": 9 })));
        assert_ne!(a, fingerprint("submit", &serde_json::json!({ "nps": 8 })));
        assert_ne!(a, fingerprint("start", &serde_json::json!({ "nps": 9 })));
        assert_eq!(a.len(), 64);
    }
}
