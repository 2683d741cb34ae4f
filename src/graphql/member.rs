//! Members and users.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use super::{
    context::ContextExt,
    id::{self, NodeKind},
    organization::Organization,
    pagination::{connection, page_complexity, page_request},
};
use crate::{
    auth::{Action, Role},
    error::AppResult,
    service::page::PageRequest,
    service::{self, member::Member as MemberRecord},
};

/// A staff account. The same person can be a member of several organizations.
#[derive(Clone)]
pub struct User(pub user::Model);

/// A staff account. The same person can be a member of several organizations.
#[Object]
impl User {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::User, self.0.id)
    }
    /// Email address, lower-cased; also the sign-in name.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether the user has set a password (false while an invitation is pending).
    async fn has_password(&self) -> bool {
        self.0.password_hash.is_some()
    }
    /// When the account was created (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A user's membership in the organization, with their role.
#[derive(Clone)]
pub struct Member(pub MemberRecord);

/// A user's membership in the organization, with their role.
#[Object]
impl Member {
    /// Opaque global ID of the membership.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::Member, self.0.membership.id)
    }
    /// The person.
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
    /// What the member may do.
    async fn role(&self) -> AppResult<Role> {
        self.0.role()
    }
    /// When the member joined or was invited (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.membership.created_at
    }
    /// When the role last changed (RFC 3339).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.membership.updated_at
    }
    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        let tenant = ctx.authorize(Action::ReadOrganization)?;
        Ok(Organization(ctx.organization(tenant).await?))
    }
}

pub(super) async fn list_members(ctx: &Context<'_>, request: PageRequest) -> AppResult<MemberConnection> {
    let tenant = ctx.authorize(Action::ReadMembers)?;
    let page = service::member::list(ctx.state()?.db.conn(), tenant, request).await?;
    Ok(MemberConnection::from_page(page.map(Member)))
}

/// Someone to add to the organization.
#[derive(InputObject)]
pub struct InviteMemberInput {
    /// Their email address.
    pub email: String,
    /// Their display name; defaults to the part of the email before `@`.
    pub name: Option<String>,
    /// The role they get. Only an owner may invite an owner.
    pub role: Role,
}

/// The invited member, and the token to send them if they have no account yet.
#[derive(SimpleObject)]
pub struct InviteMemberPayload {
    /// The new member.
    pub member: Member,
    /// Shown once: the invitee passes it to `acceptInvitation` to set a password (valid 7 days).
    /// Null when the person already has an account and can sign in at once.
    pub invitation_token: Option<String>,
}

/// A new role for a member.
#[derive(InputObject)]
pub struct ChangeMemberRoleInput {
    /// The member's ID.
    pub member_id: ID,
    /// The new role. Only an owner may grant or take OWNER; the last owner keeps it.
    pub role: Role,
}

#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// The organization's members, oldest first. Needs a signed-in member (any role).
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn members(
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
    ) -> AppResult<MemberConnection> {
        list_members(ctx, page_request(ctx, first, after, last, before)?).await
    }
}

#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Adds a person to the organization. Needs ADMIN or OWNER.
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who and with which role.")] input: InviteMemberInput,
    ) -> AppResult<InviteMemberPayload> {
        let tenant = ctx.authorize(Action::ManageMembers)?;
        let invited = service::member::invite(
            &ctx.state()?.db,
            tenant,
            ctx.principal()?,
            &input.email,
            input.name.as_deref(),
            input.role,
        )
        .await?;
        Ok(InviteMemberPayload {
            member: Member(invited.member),
            invitation_token: invited.invitation_token,
        })
    }

    /// Changes a member's role. Needs ADMIN or OWNER.
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member and the new role.")] input: ChangeMemberRoleInput,
    ) -> AppResult<ChangeMemberRolePayload> {
        let tenant = ctx.authorize(Action::ManageMembers)?;
        let member_id = id::decode(&input.member_id, NodeKind::Member, "input.memberId")?;
        let member =
            service::member::change_role(&ctx.state()?.db, tenant, ctx.principal()?, member_id, input.role).await?;
        Ok(ChangeMemberRolePayload { member: Member(member) })
    }

    /// Removes a member; their sessions in this organization end at once. Needs ADMIN or OWNER
    /// (OWNER to remove an owner); the last owner cannot be removed.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member to remove.")] input: RemoveMemberInput,
    ) -> AppResult<RemoveMemberPayload> {
        let tenant = ctx.authorize(Action::ManageMembers)?;
        let uuid = id::decode(&input.member_id, NodeKind::Member, "input.memberId")?;
        let removed = service::member::remove(&ctx.state()?.db, tenant, ctx.principal()?, uuid).await?;
        Ok(RemoveMemberPayload {
            removed_member_id: id::encode(NodeKind::Member, removed.membership.id),
        })
    }
}

connection!(MemberConnection, MemberEdge, Member, "member");

/// What `changeMemberRole` did.
#[derive(SimpleObject)]
pub struct ChangeMemberRolePayload {
    /// The member with the new role.
    pub member: Member,
}

/// A member to remove.
#[derive(InputObject)]
pub struct RemoveMemberInput {
    /// The member's ID.
    pub member_id: ID,
}

/// What `removeMember` did.
#[derive(SimpleObject)]
pub struct RemoveMemberPayload {
    /// The removed member's ID.
    pub removed_member_id: ID,
}
