//! Sign-up, sign-in, refresh-token rotation, sign-out, and resolving an access token to a
//! principal (membership and session read from the database on every request).
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entity::{membership, organization, refresh_token, session, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, prelude::Expr,
};
use uuid::Uuid;

use super::{now, validate};
use crate::{
    auth::{JwtKeys, Principal, Role, password, token},
    cache::Cache,
    db::Db,
    error::{AppError, AppResult},
};

/// What a successful sign-up, sign-in, refresh or invitation acceptance hands back.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub role: Role,
}

/// What sessions are signed with and how long they last.
#[derive(Clone)]
pub struct SessionSettings {
    pub keys: JwtKeys,
    pub session_lifetime: Duration,
}

/// A new organization with its first owner.
#[derive(Debug)]
pub struct SignUp {
    pub organization_name: String,
    pub time_zone: Option<String>,
    pub name: String,
    pub email: String,
    pub password: String,
}

/// The message for every failed sign-in: it never says which of the two was wrong.
const BAD_CREDENTIALS: &str = "invalid email or password";

fn conflict_on_unique(err: sea_orm::DbErr, field: &str, message: &str) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(field, message),
        _ => err.into(),
    }
}

pub async fn sign_up(db: &Db, settings: &SessionSettings, input: SignUp) -> AppResult<SessionTokens> {
    let organization_name = validate::name(&input.organization_name, "input.organizationName")?;
    let time_zone = match input.time_zone.as_deref() {
        Some(tz) => validate::time_zone(tz, "input.timeZone")?,
        None => "UTC".to_owned(),
    };
    let name = validate::name(&input.name, "input.name")?;
    let email = validate::email(&input.email, "input.email")?;
    password::check_policy(&input.password, "input.password")?;
    let password_hash = password::hash(input.password).await?;

    const TAKEN: &str = "an account with this email already exists; sign in instead";
    let txn = db.begin_write().await?;
    if user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict("input.email", TAKEN));
    }
    let at = now();
    let org = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(organization_name),
        time_zone: Set(time_zone),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        name: Set(name),
        password_hash: Set(Some(password_hash)),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "input.email", TAKEN))?;
    membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        user_id: Set(user.id),
        role: Set(Role::Owner.as_str().to_owned()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let tokens = start_session(&txn, settings, user.id, org.id, Role::Owner, at).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// Failed sign-ins counted in one window, against password guessing. Guessing stays bounded
/// while the owner of an account still gets in:
/// - one client address: at most [`SIGN_IN_FAILURES_PER_ADDRESS`] failures (any emails);
/// - one email from one address: at most [`SIGN_IN_FAILURES_PER_PAIR`];
/// - one email from every address together: past [`SIGN_IN_FAILURES_PER_EMAIL`] the account is
///   under attack: an address that already failed on it in this window is refused at once, and
///   every other attempt on it is answered [`SIGN_IN_SLOWDOWN`] later. An address that has not
///   been failing still signs in with the right password, so no one can lock an owner out.
pub const SIGN_IN_FAILURES_PER_ADDRESS: u64 = 50;
pub const SIGN_IN_FAILURES_PER_PAIR: u64 = 5;
pub const SIGN_IN_FAILURES_PER_EMAIL: u64 = 20;
pub const SIGN_IN_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(1);
/// Length of the window.
pub const SIGN_IN_WINDOW_SECS: i64 = 15 * 60;

/// Where one sign-in attempt stands against the limits.
struct Throttle {
    window: u64,
    keys: [String; 3],
    slow: bool,
}

impl Throttle {
    /// RATE_LIMITED when the address, or the address on this email, is over its allowance.
    /// Counted whether or not the account exists, so the limits reveal nothing either.
    async fn check(cache: &Cache, now: DateTime<Utc>, email: &str, address: Option<IpAddr>) -> AppResult<Throttle> {
        let at = now.timestamp();
        let window = at.div_euclid(SIGN_IN_WINDOW_SECS) as u64;
        let address = address.map_or("unknown".to_owned(), |a| a.to_string());
        let keys = [
            format!("signin:address:{address}"),
            format!("signin:pair:{}", token::sha256_hex(&format!("{email}\n{address}"))),
            format!("signin:email:{}", token::sha256_hex(email)),
        ];
        let (by_address, by_pair, by_email) = tokio::join!(
            cache.window_count(&keys[0], window),
            cache.window_count(&keys[1], window),
            cache.window_count(&keys[2], window),
        );
        let under_attack = by_email >= SIGN_IN_FAILURES_PER_EMAIL;
        if by_address >= SIGN_IN_FAILURES_PER_ADDRESS
            || by_pair >= SIGN_IN_FAILURES_PER_PAIR
            || (under_attack && by_pair > 0)
        {
            let retry_after_secs = (SIGN_IN_WINDOW_SECS - at.rem_euclid(SIGN_IN_WINDOW_SECS)) as u64;
            return Err(AppError::RateLimited { retry_after_secs });
        }
        Ok(Throttle {
            window,
            keys,
            slow: under_attack,
        })
    }

    async fn failed(&self, cache: &Cache) {
        let window_len = std::time::Duration::from_secs(SIGN_IN_WINDOW_SECS as u64);
        for key in &self.keys {
            cache.incr_window(key, self.window, window_len, 1).await;
        }
    }

    /// The right password from this address: its past failures on this email are forgiven.
    async fn succeeded(&self, cache: &Cache) {
        cache.reset_window(&self.keys[1], self.window).await;
    }
}

/// Who is signing in, and from where.
#[derive(Debug)]
pub struct SignIn {
    pub email: String,
    pub password: String,
    pub organization_id: Option<Uuid>,
    /// The client's address, for throttling.
    pub address: Option<IpAddr>,
}

/// Signs a user in to one organization (the given one, or their oldest membership);
/// `at` is the time throttling windows are read at.
pub async fn sign_in(
    db: &Db,
    cache: &Cache,
    at: DateTime<Utc>,
    settings: &SessionSettings,
    attempt: SignIn,
) -> AppResult<SessionTokens> {
    let email = attempt.email.trim().to_lowercase();
    let throttle = Throttle::check(cache, at, &email, attempt.address).await?;
    if throttle.slow {
        tokio::time::sleep(SIGN_IN_SLOWDOWN).await;
    }
    let user = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(db.conn())
        .await?;
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let valid = password::verify(attempt.password, stored_hash).await?;
    let user = match (valid, user) {
        (true, Some(user)) => user,
        _ => {
            throttle.failed(cache).await;
            return Err(AppError::Unauthenticated(BAD_CREDENTIALS.to_owned()));
        }
    };
    throttle.succeeded(cache).await;
    let mut memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .order_by_asc(membership::Column::CreatedAt);
    if let Some(org) = attempt.organization_id {
        memberships = memberships.filter(membership::Column::OrganizationId.eq(org));
    }
    let membership = memberships
        .one(db.conn())
        .await?
        .ok_or_else(|| AppError::Forbidden("you are not a member of this organization".to_owned()))?;
    let role = parse_role(&membership.role)?;
    let txn = db.begin_write().await?;
    let tokens = start_session(&txn, settings, user.id, membership.organization_id, role, now()).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// Opens a session and issues its first tokens.
pub(crate) async fn start_session(
    conn: &impl ConnectionTrait,
    settings: &SessionSettings,
    user_id: Uuid,
    organization_id: Uuid,
    role: Role,
    at: DateTime<Utc>,
) -> AppResult<SessionTokens> {
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        created_at: Set(at),
        expires_at: Set(at + settings.session_lifetime),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    issue_tokens(conn, settings, &session, role, at).await
}

async fn issue_tokens(
    conn: &impl ConnectionTrait,
    settings: &SessionSettings,
    session: &session::Model,
    role: Role,
    at: DateTime<Utc>,
) -> AppResult<SessionTokens> {
    let refresh = token::random_token(32);
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(session.organization_id),
        session_id: Set(session.id),
        token_hash: Set(token::sha256_hex(&refresh)),
        created_at: Set(at),
        expires_at: Set(session.expires_at),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    let (access_token, access_token_expires_at) =
        settings
            .keys
            .issue(session.user_id, session.organization_id, session.id, at)?;
    Ok(SessionTokens {
        access_token,
        access_token_expires_at,
        refresh_token: refresh,
        refresh_token_expires_at: session.expires_at,
        user_id: session.user_id,
        organization_id: session.organization_id,
        role,
    })
}

/// Trades a refresh token for new tokens. Each refresh token works once: presenting a used
/// one again means it was stolen or replayed, and the whole session is revoked.
pub async fn refresh(db: &Db, settings: &SessionSettings, refresh_text: &str) -> AppResult<SessionTokens> {
    let invalid = || AppError::Unauthenticated("invalid or expired refresh token".to_owned());
    let at = now();
    let txn = db.begin_write().await?;
    let Some(stored) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token::sha256_hex(refresh_text)))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    let session = session::Entity::find_by_id(stored.session_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    if session.revoked_at.is_some() || stored.expires_at <= at {
        return Err(invalid());
    }
    // Mark used only if still unused: of two concurrent uses, exactly one wins.
    let marked = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(at))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected == 0 {
        revoke_session(&txn, session.id, at).await?;
        txn.commit().await?;
        tracing::warn!(session_id = %session.id, "refresh token reused; session revoked");
        return Err(invalid());
    }
    let membership = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(session.organization_id))
        .filter(membership::Column::UserId.eq(session.user_id))
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    let role = parse_role(&membership.role)?;
    let tokens = issue_tokens(&txn, settings, &session, role, at).await?;
    txn.commit().await?;
    Ok(tokens)
}

async fn revoke_session(conn: &impl ConnectionTrait, session_id: Uuid, at: DateTime<Utc>) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(at))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends a session: its refresh tokens and access tokens stop working at once.
pub async fn sign_out(conn: &impl ConnectionTrait, session_id: Uuid) -> AppResult<()> {
    revoke_session(conn, session_id, now()).await
}

/// Ends every session of a user in an organization (after removal from it).
pub async fn revoke_user_sessions(conn: &impl ConnectionTrait, organization_id: Uuid, user_id: Uuid) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now()))
        .filter(session::Column::OrganizationId.eq(organization_id))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// A session's revocation and expiry, and the member's role if still a member.
type SessionRole = (Option<DateTime<Utc>>, DateTime<Utc>, Option<String>);

/// Resolves an access token to a member, reading membership and session from the database so
/// that removal, a lowered role or a sign-out take effect at the next request: one statement
/// (the session, with the member's role beside it), as every request of a member runs it.
pub async fn authenticate(conn: &impl ConnectionTrait, keys: &JwtKeys, access_token: &str) -> AppResult<Principal> {
    use sea_orm::{
        QuerySelect,
        sea_query::{ExprTrait, Query},
    };
    let claims = keys.verify(access_token)?;
    let ended = || AppError::Unauthenticated("session ended; sign in again".to_owned());
    let role = Query::select()
        .column(membership::Column::Role)
        .from(membership::Entity)
        .and_where(Expr::col((membership::Entity, membership::Column::OrganizationId)).eq(claims.org))
        .and_where(Expr::col((membership::Entity, membership::Column::UserId)).eq(claims.sub))
        .limit(1)
        .to_owned();
    let found: Option<SessionRole> = session::Entity::find_by_id(claims.sid)
        .select_only()
        .column(session::Column::RevokedAt)
        .column(session::Column::ExpiresAt)
        .column_as(
            Expr::SubQuery(
                None,
                Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(role)),
            ),
            "role",
        )
        .filter(session::Column::OrganizationId.eq(claims.org))
        .filter(session::Column::UserId.eq(claims.sub))
        .into_tuple()
        .one(conn)
        .await?;
    let (revoked_at, expires_at, role) = found.ok_or_else(ended)?;
    if revoked_at.is_some() || expires_at <= now() {
        return Err(ended());
    }
    let role = role.ok_or_else(|| AppError::Unauthenticated("no longer a member of this organization".to_owned()))?;
    Ok(Principal::Member {
        user_id: claims.sub,
        organization_id: claims.org,
        role: parse_role(&role)?,
        session_id: claims.sid,
    })
}

pub(crate) fn parse_role(stored: &str) -> AppResult<Role> {
    Role::parse(stored).ok_or_else(|| AppError::Internal(format!("unknown stored role {stored}")))
}
