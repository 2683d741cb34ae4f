//! Members of an organization: list, invite, change role, remove. The last owner stays.
use chrono::Duration;
use entity::{invitation, membership, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{
    auth::{self, SessionSettings, SessionTokens},
    now,
    page::{self, Page, PageRequest},
    validate,
};
use crate::{
    auth::{Principal, Role, Tenant, password, token},
    db::Db,
    error::{AppError, AppResult},
};

/// How long an invitation token stays valid.
pub const INVITATION_LIFETIME_DAYS: i64 = 7;

/// A membership with its user.
#[derive(Debug, Clone)]
pub struct Member {
    pub membership: membership::Model,
    pub user: user::Model,
}

impl Member {
    pub fn role(&self) -> AppResult<Role> {
        auth::parse_role(&self.membership.role)
    }
}

fn scoped(tenant: Tenant) -> sea_orm::Select<membership::Entity> {
    membership::Entity::find().filter(membership::Column::OrganizationId.eq(tenant.organization_id))
}

async fn with_users(conn: &impl ConnectionTrait, memberships: Vec<membership::Model>) -> AppResult<Vec<Member>> {
    let ids: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    memberships
        .into_iter()
        .map(|membership| {
            let user = users
                .iter()
                .find(|u| u.id == membership.user_id)
                .cloned()
                .ok_or_else(|| AppError::Internal(format!("membership {} without user", membership.id)))?;
            Ok(Member { membership, user })
        })
        .collect()
}

/// One page of the organization's members, oldest first (two queries whatever the page size).
pub async fn list(conn: &impl ConnectionTrait, tenant: Tenant, request: PageRequest) -> AppResult<Page<Member>> {
    let page = page::fetch(
        conn,
        scoped(tenant),
        page::Order::by_id(membership::Column::Id),
        request,
    )
    .await?;
    let members = with_users(conn, page.rows().cloned().collect()).await?;
    Ok(page.with_items(members))
}

/// A member by membership id, within the tenant.
pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<Member> {
    let membership = scoped(tenant)
        .filter(membership::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    Ok(with_users(conn, vec![membership]).await?.remove(0))
}

/// A user, if they are a member of the tenant.
pub async fn get_user(conn: &impl ConnectionTrait, tenant: Tenant, user_id: Uuid) -> AppResult<user::Model> {
    let membership = scoped(tenant)
        .filter(membership::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    Ok(with_users(conn, vec![membership]).await?.remove(0).user)
}

/// The caller's role; members only.
fn actor_role(actor: &Principal) -> AppResult<Role> {
    match actor {
        Principal::Member { role, .. } => Ok(*role),
        Principal::ApiKey { .. } => Err(AppError::Forbidden("API keys may not manage members".to_owned())),
    }
}

/// Only owners make or unmake owners.
fn check_may_assign(actor: Role, from: Option<Role>, to: Role) -> AppResult<()> {
    if (to == Role::Owner || from == Some(Role::Owner)) && actor != Role::Owner {
        return Err(AppError::Forbidden(
            "only an owner may grant or take the OWNER role".to_owned(),
        ));
    }
    Ok(())
}

/// The result of an invitation: the member, and a token to send when the user has no account yet.
#[derive(Debug)]
pub struct Invited {
    pub member: Member,
    pub invitation_token: Option<String>,
}

pub async fn invite(
    db: &Db,
    tenant: Tenant,
    actor: &Principal,
    email: &str,
    name: Option<&str>,
    role: Role,
) -> AppResult<Invited> {
    check_may_assign(actor_role(actor)?, None, role)?;
    let email = validate::email(email, "input.email")?;
    let name = match name {
        Some(name) => validate::name(name, "input.name")?,
        None => email.split('@').next().unwrap_or_default().to_owned(),
    };
    let at = now();
    let txn = db.begin_write().await?;
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?;
    let (user, invitation_token) = match existing {
        Some(user) => {
            if scoped(tenant)
                .filter(membership::Column::UserId.eq(user.id))
                .one(&txn)
                .await?
                .is_some()
            {
                return Err(AppError::conflict("input.email", "this person is already a member"));
            }
            let needs_password = user.password_hash.is_none();
            (user, needs_password)
        }
        None => {
            let user = user::ActiveModel {
                id: Set(Uuid::now_v7()),
                email: Set(email),
                name: Set(name),
                password_hash: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
            }
            .insert(&txn)
            .await?;
            (user, true)
        }
    };
    let membership = membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(tenant.organization_id),
        user_id: Set(user.id),
        role: Set(role.as_str().to_owned()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let invitation_token = if invitation_token {
        let token = token::random_token(32);
        let invited_by = match actor {
            Principal::Member { user_id, .. } => Some(*user_id),
            Principal::ApiKey { .. } => None,
        };
        invitation::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(tenant.organization_id),
            user_id: Set(user.id),
            token_hash: Set(token::sha256_hex(&token)),
            invited_by: Set(invited_by),
            created_at: Set(at),
            expires_at: Set(at + Duration::days(INVITATION_LIFETIME_DAYS)),
            accepted_at: Set(None),
        }
        .insert(&txn)
        .await?;
        Some(token)
    } else {
        None
    };
    txn.commit().await?;
    Ok(Invited {
        member: Member { membership, user },
        invitation_token,
    })
}

/// Sets the invited user's password and name and signs them in.
pub async fn accept_invitation(
    db: &Db,
    settings: &SessionSettings,
    invitation_token: &str,
    password_text: String,
    name: Option<&str>,
) -> AppResult<SessionTokens> {
    password::check_policy(&password_text, "input.password")?;
    let name = name.map(|n| validate::name(n, "input.name")).transpose()?;
    let invalid = || AppError::bad_input("input.token", "invalid or expired invitation");
    let at = now();
    let stored = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token::sha256_hex(invitation_token)))
        .one(db.conn())
        .await?
        .ok_or_else(invalid)?;
    if stored.accepted_at.is_some() || stored.expires_at <= at {
        return Err(invalid());
    }
    let password_hash = password::hash(password_text).await?;
    let txn = db.begin_write().await?;
    let accepted = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, sea_orm::prelude::Expr::value(at))
        .filter(invitation::Column::Id.eq(stored.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if accepted.rows_affected == 0 {
        return Err(invalid());
    }
    let membership = scoped(Tenant::trusted(stored.organization_id))
        .filter(membership::Column::UserId.eq(stored.user_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("input.token", "the invitation was withdrawn"))?;
    let user = user::Entity::find_by_id(stored.user_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    if user.password_hash.is_some() {
        // The account was activated through another invitation: never overwrite a password.
        return Err(AppError::bad_input(
            "input.token",
            "this account already has a password; sign in instead",
        ));
    }
    let mut user = user.into_active_model();
    user.password_hash = Set(Some(password_hash));
    if let Some(name) = name {
        user.name = Set(name);
    }
    user.updated_at = Set(at);
    user.update(&txn).await?;
    let role = auth::parse_role(&membership.role)?;
    let tokens = auth::start_session(&txn, settings, stored.user_id, stored.organization_id, role, at).await?;
    txn.commit().await?;
    Ok(tokens)
}

async fn count_owners(conn: &impl ConnectionTrait, tenant: Tenant) -> AppResult<u64> {
    Ok(scoped(tenant)
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(conn)
        .await?)
}

pub async fn change_role(db: &Db, tenant: Tenant, actor: &Principal, member_id: Uuid, role: Role) -> AppResult<Member> {
    let actor = actor_role(actor)?;
    let txn = db.begin_write().await?;
    let member = get(&txn, tenant, member_id).await?;
    let current = member.role()?;
    check_may_assign(actor, Some(current), role)?;
    if current == Role::Owner && role != Role::Owner && count_owners(&txn, tenant).await? <= 1 {
        return Err(AppError::conflict(
            "input.role",
            "the last owner cannot give up the OWNER role; make another owner first",
        ));
    }
    let mut model = member.membership.into_active_model();
    model.role = Set(role.as_str().to_owned());
    model.updated_at = Set(now());
    let membership = model.update(&txn).await?;
    txn.commit().await?;
    Ok(Member {
        membership,
        user: member.user,
    })
}

/// Removes a member and ends their sessions in this organization.
pub async fn remove(db: &Db, tenant: Tenant, actor: &Principal, member_id: Uuid) -> AppResult<Member> {
    let actor = actor_role(actor)?;
    let txn = db.begin_write().await?;
    let member = get(&txn, tenant, member_id).await?;
    let current = member.role()?;
    if current == Role::Owner {
        if actor != Role::Owner {
            return Err(AppError::Forbidden("only an owner may remove an owner".to_owned()));
        }
        if count_owners(&txn, tenant).await? <= 1 {
            return Err(AppError::conflict("memberId", "the last owner cannot be removed"));
        }
    }
    membership::Entity::delete_by_id(member.membership.id)
        .exec(&txn)
        .await?;
    auth::revoke_user_sessions(&txn, tenant.organization_id, member.user.id).await?;
    txn.commit().await?;
    Ok(member)
}
