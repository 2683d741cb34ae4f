//! Sign-up, sign-in, sessions, and `me`.
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{organization, user};
use sea_orm::EntityTrait;

use super::{
    api_key::ApiKey,
    context::ContextExt,
    id::{self, NodeKind},
    member::User,
    organization::Organization,
};
use crate::{
    auth::{Action, Principal, Role, Scope},
    error::{AppError, AppResult},
    service::{
        self,
        auth::{SessionTokens, SignIn, SignUp},
        response::submit::Client,
    },
};

/// A refresh token to trade.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The latest refresh token of the session (each works once).
    pub refresh_token: String,
}

/// What `signOut` did.
#[derive(SimpleObject)]
pub struct SignOutPayload {
    /// True: the session has ended.
    pub signed_out: bool,
}

/// A signed-in session: send `accessToken` as `Authorization: Bearer <accessToken>`; before it
/// expires, trade `refreshToken` for a new pair with `refreshSession`.
pub struct Session(SessionTokens);

/// A signed-in session: send `accessToken` as `Authorization: Bearer <accessToken>`; before it
/// expires, trade `refreshToken` for a new pair with `refreshSession`.
#[Object]
impl Session {
    /// Short-lived JWT (HS256) for the `Authorization: Bearer` header.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }
    /// Always `Bearer`.
    async fn token_type(&self) -> &str {
        "Bearer"
    }
    /// When the access token expires (RFC 3339).
    async fn access_token_expires_at(&self) -> DateTime<Utc> {
        self.0.access_token_expires_at
    }
    /// Opaque token for `refreshSession`. It works once: each refresh returns a new one, and
    /// presenting a used one again ends the whole session.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }
    /// When the session ends at the latest (RFC 3339).
    async fn refresh_token_expires_at(&self) -> DateTime<Utc> {
        self.0.refresh_token_expires_at
    }
    /// The signed-in user.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<User> {
        let found = user::Entity::find_by_id(self.0.user_id)
            .one(ctx.state()?.db.conn())
            .await?;
        found.map(User).ok_or_else(|| AppError::not_found("user"))
    }
    /// The organization the session is for.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        let found = organization::Entity::find_by_id(self.0.organization_id)
            .one(ctx.state()?.db.conn())
            .await?;
        found
            .map(Organization)
            .ok_or_else(|| AppError::not_found("organization"))
    }
    /// The user's role in that organization.
    async fn role(&self) -> Role {
        self.0.role
    }
}

/// What kind of caller `me` describes.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ViewerKind {
    /// A staff member signed in with an access token.
    Member,
    /// A partner system using an API key.
    ApiKey,
}

/// The caller: a signed-in member or an API key.
pub struct Viewer(Principal);

/// The caller: a signed-in member or an API key.
#[Object]
impl Viewer {
    /// Member or API key.
    async fn kind(&self) -> ViewerKind {
        match self.0 {
            Principal::Member { .. } => ViewerKind::Member,
            Principal::ApiKey { .. } => ViewerKind::ApiKey,
        }
    }
    /// The signed-in user; null for an API key.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        let Principal::Member { user_id, .. } = self.0 else {
            return Ok(None);
        };
        Ok(user::Entity::find_by_id(user_id)
            .one(ctx.state()?.db.conn())
            .await?
            .map(User))
    }
    /// The API key; null for a member.
    async fn api_key(&self, ctx: &Context<'_>) -> AppResult<Option<ApiKey>> {
        let Principal::ApiKey { key_id, .. } = self.0 else {
            return Ok(None);
        };
        let tenant = self.0.authorize(Action::ReadOrganization)?;
        Ok(Some(ApiKey(
            service::api_key::get(ctx.state()?.db.conn(), tenant, key_id).await?,
        )))
    }
    /// The organization the caller acts in.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        let tenant = self.0.authorize(Action::ReadOrganization)?;
        Ok(Organization(ctx.organization(tenant).await?))
    }
    /// The member's role, read from the database on every request; null for an API key.
    async fn role(&self) -> Option<Role> {
        match self.0 {
            Principal::Member { role, .. } => Some(role),
            Principal::ApiKey { .. } => None,
        }
    }
    /// The API key's scopes; empty for a member (members' rights follow from their role).
    async fn scopes(&self) -> Vec<Scope> {
        match &self.0 {
            Principal::Member { .. } => Vec::new(),
            Principal::ApiKey { scopes, .. } => scopes.clone(),
        }
    }
}

/// A new organization and its first owner.
#[derive(InputObject)]
pub struct SignUpInput {
    /// The organization's name (1–200 characters).
    pub organization_name: String,
    /// IANA time zone for reports, e.g. `Asia/Tehran`; default `UTC`.
    pub time_zone: Option<String>,
    /// The owner's display name.
    pub name: String,
    /// The owner's email; it is also the sign-in name.
    pub email: String,
    /// At least 10 characters.
    pub password: String,
}

/// Credentials.
#[derive(InputObject)]
pub struct SignInInput {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// Which organization to sign in to, for people who belong to several; default: the one
    /// they joined first.
    pub organization_id: Option<ID>,
}

/// Setting a password for an invitation.
#[derive(InputObject)]
pub struct AcceptInvitationInput {
    /// The token from `inviteMember`.
    pub token: String,
    /// The new password, at least 10 characters.
    pub password: String,
    /// The display name to use instead of the one given at invitation.
    pub name: Option<String>,
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The caller: user or API key, organization, role or scopes.
    async fn me(&self, ctx: &Context<'_>) -> AppResult<Viewer> {
        Ok(Viewer(ctx.principal()?.clone()))
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates an organization with the caller as its owner, and signs them in.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization and its owner.")] input: SignUpInput,
    ) -> AppResult<Session> {
        let state = ctx.state()?;
        let sign_up = SignUp {
            organization_name: input.organization_name,
            time_zone: input.time_zone,
            name: input.name,
            email: input.email,
            password: input.password,
        };
        Ok(Session(
            service::auth::sign_up(&state.db, &state.sessions, sign_up).await?,
        ))
    }

    /// Signs in. A wrong email and a wrong password get the same UNAUTHENTICATED error. Failed
    /// attempts are limited per client address (50 in 15 minutes), per email and address (5),
    /// and past 20 failures on one email from all addresses, addresses that failed on it are
    /// refused and the others answered a second later; refusals are RATE_LIMITED with
    /// `retryAfter`. The right password from an address that has not been failing signs in.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Email, password and optionally the organization.")] input: SignInInput,
    ) -> AppResult<Session> {
        let state = ctx.state()?;
        let organization_id = input
            .organization_id
            .as_ref()
            .map(|id| id::decode(id, NodeKind::Organization, "input.organizationId"))
            .transpose()?;
        let attempt = SignIn {
            email: input.email,
            password: input.password,
            organization_id,
            address: ctx.data::<Client>().ok().and_then(|c| c.address),
        };
        Ok(Session(
            service::auth::sign_in(&state.db, &state.cache, state.clock.now(), &state.sessions, attempt).await?,
        ))
    }

    /// Trades a refresh token for a new access token and refresh token.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's latest refresh token.")] input: RefreshSessionInput,
    ) -> AppResult<Session> {
        let state = ctx.state()?;
        Ok(Session(
            service::auth::refresh(&state.db, &state.sessions, &input.refresh_token).await?,
        ))
    }

    /// Ends the caller's session: its access and refresh tokens stop working at once. Takes no
    /// input: it acts on the session of the token that calls it.
    async fn sign_out(&self, ctx: &Context<'_>) -> AppResult<SignOutPayload> {
        match ctx.principal()? {
            Principal::Member { session_id, .. } => {
                service::auth::sign_out(ctx.state()?.db.conn(), *session_id).await?;
                Ok(SignOutPayload { signed_out: true })
            }
            Principal::ApiKey { .. } => Err(AppError::Forbidden(
                "API keys have no session; revoke the key instead".to_owned(),
            )),
        }
    }

    /// Sets a password for an invitation and signs the new member in.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation token and the new password.")] input: AcceptInvitationInput,
    ) -> AppResult<Session> {
        let state = ctx.state()?;
        let tokens = service::member::accept_invitation(
            &state.db,
            &state.sessions,
            &input.token,
            input.password,
            input.name.as_deref(),
        )
        .await?;
        Ok(Session(tokens))
    }
}
