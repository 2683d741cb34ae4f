//! Partners' API keys.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_key;

use super::{
    context::ContextExt,
    id::{self, NodeKind},
    pagination::{connection, page_complexity, page_request},
};
use crate::{
    auth::{Action, Principal, Scope},
    error::AppResult,
    service::{
        self,
        api_key::{KEY_PREFIX, NewApiKey},
    },
};

/// A key a partner system (CRM, BI tool, automation) calls the API with:
/// `Authorization: Bearer <secret>`. Each key is limited to `rateLimitPerMinute` requests per
/// minute (fixed one-minute windows); past it requests get HTTP 429 with `RATE_LIMITED` and a
/// `Retry-After` header. Every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and
/// `RateLimit-Reset` headers.
#[derive(Clone)]
pub struct ApiKey(pub api_key::Model);

/// A key a partner system (CRM, BI tool, automation) calls the API with:
/// `Authorization: Bearer <secret>`. Each key is limited to `rateLimitPerMinute` requests per
/// minute (fixed one-minute windows); past it requests get HTTP 429 with `RATE_LIMITED` and a
/// `Retry-After` header. Every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and
/// `RateLimit-Reset` headers.
#[Object]
impl ApiKey {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::ApiKey, self.0.id)
    }
    /// What the key is for, e.g. "HubSpot sync".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The key's public beginning (e.g. `nzk_3f9a1c2b7d4e`), to recognise it in logs and lists.
    async fn prefix(&self) -> String {
        format!("{KEY_PREFIX}{}", self.0.prefix)
    }
    /// What the key may do.
    async fn scopes(&self) -> Vec<Scope> {
        service::api_key::scopes_of(&self.0)
    }
    /// Requests per minute the key may make.
    async fn rate_limit_per_minute(&self) -> i32 {
        self.0.rate_limit_per_minute
    }
    /// When the key was created (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the key stops working by itself, if ever (RFC 3339).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When the key was last used, to the minute (RFC 3339).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When the key was revoked (RFC 3339).
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// Whether the key works now: not revoked and not expired.
    async fn active(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let now = ctx.state()?.clock.now();
        Ok(self.0.revoked_at.is_none() && self.0.expires_at.is_none_or(|e| e > now))
    }
}

/// A new API key.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// What the key is for (1–200 characters).
    pub name: String,
    /// What it may do; at least one scope.
    pub scopes: Vec<Scope>,
    /// Requests per minute, 1 to 100000 (default 600).
    pub rate_limit_per_minute: Option<i32>,
    /// When it stops working by itself (RFC 3339); never when omitted.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created key and its secret.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The key.
    pub api_key: ApiKey,
    /// The full secret to send as `Authorization: Bearer <secret>`. Shown only this once: only
    /// its hash is kept.
    pub secret: String,
}

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The organization's API keys, oldest first, revoked ones included. Needs ADMIN or OWNER.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first this many items (1 to 100; default 20 unless `last` is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Only items after this cursor (`pageInfo.endCursor` of the page before).")] after: Option<
            String,
        >,
        #[graphql(desc = "The last this many items (1 to 100): pages backward.")] last: Option<i32>,
        #[graphql(desc = "Only items before this cursor (`pageInfo.startCursor` of the page after).")] before: Option<
            String,
        >,
    ) -> AppResult<ApiKeyConnection> {
        let tenant = ctx.authorize(Action::ManageApiKeys)?;
        let page = service::api_key::list(
            ctx.state()?.db.conn(),
            tenant,
            page_request(ctx, first, after, last, before)?,
        )
        .await?;
        Ok(ApiKeyConnection::from_page(page.map(ApiKey)))
    }
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates an API key for a partner. Needs ADMIN or OWNER.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's name, scopes and limits.")] input: CreateApiKeyInput,
    ) -> AppResult<CreateApiKeyPayload> {
        let tenant = ctx.authorize(Action::ManageApiKeys)?;
        let created_by = match ctx.principal()? {
            Principal::Member { user_id, .. } => Some(*user_id),
            Principal::ApiKey { .. } => None,
        };
        let new = NewApiKey {
            name: input.name,
            scopes: input.scopes,
            rate_limit_per_minute: input.rate_limit_per_minute,
            expires_at: input.expires_at,
        };
        let (key, secret) = service::api_key::create(ctx.state()?.db.conn(), tenant, created_by, new).await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKey(key),
            secret,
        })
    }

    /// Revokes an API key: its next request is refused. Needs ADMIN or OWNER.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key to revoke.")] input: RevokeApiKeyInput,
    ) -> AppResult<RevokeApiKeyPayload> {
        let tenant = ctx.authorize(Action::ManageApiKeys)?;
        let uuid = id::decode(&input.id, NodeKind::ApiKey, "input.id")?;
        let key = service::api_key::revoke(ctx.state()?.db.conn(), tenant, uuid).await?;
        Ok(RevokeApiKeyPayload { api_key: ApiKey(key) })
    }
}

connection!(ApiKeyConnection, ApiKeyEdge, ApiKey, "API key");

id::id_input!(RevokeApiKeyInput, "An API key to revoke.", "key");

/// What `revokeApiKey` did.
#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    /// The key, revoked.
    pub api_key: ApiKey,
}
