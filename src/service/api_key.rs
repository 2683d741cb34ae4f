//! Partners' API keys: shown once, stored as SHA-256, found by prefix, rate limited per key.
use chrono::{DateTime, Duration, Utc};
use entity::api_key;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set, prelude::Expr,
};
use uuid::Uuid;

use super::{
    now,
    page::{self, Page, PageRequest},
    validate,
};
use crate::{
    auth::{Principal, Scope, Tenant, token},
    error::{AppError, AppResult},
    service::rate_limit::Quota,
};

/// Every key starts with this, so leaked keys are easy to recognise and scan for.
pub const KEY_PREFIX: &str = "nzk_";
/// Requests per minute a key gets unless created with another limit, and the bounds.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: i32 = 600;
pub const MAX_RATE_LIMIT_PER_MINUTE: i32 = 100_000;
/// `last_used_at` is written at most this often per key.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// A new key's settings.
#[derive(Debug)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub rate_limit_per_minute: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn scopes_of(model: &api_key::Model) -> Vec<Scope> {
    model.scopes.split_whitespace().filter_map(Scope::parse).collect()
}

fn scoped(tenant: Tenant) -> sea_orm::Select<api_key::Entity> {
    api_key::Entity::find().filter(api_key::Column::OrganizationId.eq(tenant.organization_id))
}

/// Creates a key; returns it with the full secret, which is never shown again.
pub async fn create(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    created_by: Option<Uuid>,
    input: NewApiKey,
) -> AppResult<(api_key::Model, String)> {
    let name = validate::name(&input.name, "input.name")?;
    if input.scopes.is_empty() {
        return Err(AppError::bad_input("input.scopes", "give at least one scope"));
    }
    let limit = input.rate_limit_per_minute.unwrap_or(DEFAULT_RATE_LIMIT_PER_MINUTE);
    if !(1..=MAX_RATE_LIMIT_PER_MINUTE).contains(&limit) {
        return Err(AppError::bad_input(
            "input.rateLimitPerMinute",
            format!("must be between 1 and {MAX_RATE_LIMIT_PER_MINUTE}"),
        ));
    }
    let at = now();
    if input.expires_at.is_some_and(|e| e <= at) {
        return Err(AppError::bad_input("input.expiresAt", "must be in the future"));
    }
    let mut scopes: Vec<&str> = input.scopes.iter().map(|s| s.as_str()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let prefix = token::sha256_hex(&token::random_token(16))[..12].to_owned();
    let secret = token::random_token(32);
    let full = format!("{KEY_PREFIX}{prefix}_{secret}");
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(tenant.organization_id),
        name: Set(name),
        prefix: Set(prefix),
        secret_hash: Set(token::sha256_hex(&secret)),
        scopes: Set(scopes.join(" ")),
        rate_limit_per_minute: Set(limit),
        created_by: Set(created_by),
        created_at: Set(at),
        expires_at: Set(input.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok((model, full))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    request: PageRequest,
) -> AppResult<Page<api_key::Model>> {
    page::fetch(conn, scoped(tenant), page::Order::by_id(api_key::Column::Id), request).await
}

pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<api_key::Model> {
    scoped(tenant)
        .filter(api_key::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("API key"))
}

/// Revokes a key; it stops working at its next request. Revoking twice is harmless.
pub async fn revoke(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<api_key::Model> {
    let key = get(conn, tenant, id).await?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut model: api_key::ActiveModel = key.into();
    model.revoked_at = Set(Some(now()));
    Ok(model.update(conn).await?)
}

/// Whether `raw` looks like an API key (rather than an access token).
pub fn is_api_key(raw: &str) -> bool {
    raw.starts_with(KEY_PREFIX)
}

/// Checks a presented key and notes its use; returns the key's caller and the limit its
/// requests are charged against (by the HTTP layer, once it knows what a request does).
pub async fn authenticate(conn: &impl ConnectionTrait, raw: &str) -> AppResult<(Principal, Quota)> {
    let invalid = || AppError::Unauthenticated("invalid API key".to_owned());
    let (prefix, secret) = raw
        .strip_prefix(KEY_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .ok_or_else(invalid)?;
    let key = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    if !token::constant_time_eq(&key.secret_hash, &token::sha256_hex(secret)) {
        return Err(invalid());
    }
    let at = now();
    if key.revoked_at.is_some() {
        return Err(AppError::Unauthenticated("this API key was revoked".to_owned()));
    }
    if key.expires_at.is_some_and(|e| e <= at) {
        return Err(AppError::Unauthenticated("this API key has expired".to_owned()));
    }

    let quota = Quota {
        subject: format!("apikey:{}", key.id),
        per_minute: key.rate_limit_per_minute.max(1) as u64,
    };
    if key
        .last_used_at
        .is_none_or(|t| t <= at - Duration::seconds(LAST_USED_RESOLUTION_SECS))
    {
        // Conditional, so that many instances and requests write at most once a minute.
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(at))
            .filter(api_key::Column::Id.eq(key.id))
            .filter(
                Condition::any()
                    .add(api_key::Column::LastUsedAt.is_null())
                    .add(api_key::Column::LastUsedAt.lte(at - Duration::seconds(LAST_USED_RESOLUTION_SECS))),
            )
            .exec(conn)
            .await?;
    }
    let principal = Principal::ApiKey {
        key_id: key.id,
        organization_id: key.organization_id,
        scopes: scopes_of(&key),
    };
    Ok((principal, quota))
}
