//! The caller's organization.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::organization;

use super::{
    context::ContextExt,
    id::{self, NodeKind},
    member::MemberConnection,
    pagination::page_complexity,
};
use crate::{
    auth::Action,
    error::AppResult,
    service::{self, organization::OrganizationChanges},
};

/// A business using the product. Everything else belongs to exactly one organization.
#[derive(Clone)]
pub struct Organization(pub organization::Model);

/// A business using the product. Everything else belongs to exactly one organization.
#[Object]
impl Organization {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::Organization, self.0.id)
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// IANA time zone (e.g. `Asia/Tehran`) in which reports count days, weeks and months.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    /// When the organization signed up (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its settings last changed (RFC 3339).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Members, oldest first. Needs a signed-in member (any role).
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
        super::member::list_members(ctx, super::pagination::page_request(ctx, first, after, last, before)?).await
    }
}

/// Changes to the organization; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// New display name (1–200 characters).
    pub name: Option<String>,
    /// New IANA time zone, e.g. `Asia/Tehran` or `UTC`.
    pub time_zone: Option<String>,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// The caller's organization. Any member or API key.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Organization> {
        let tenant = ctx.authorize(Action::ReadOrganization)?;
        Ok(Organization(ctx.organization(tenant).await?))
    }
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Renames the organization or changes its time zone. Needs ADMIN or OWNER. A new time
    /// zone changes which local day every response falls on: reports' counts by day and month
    /// are rebuilt from the stored responses by a durable background job per form (a restart
    /// resumes it); until a form's rebuild is done its reports by period use the old zone.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateOrganizationInput,
    ) -> AppResult<UpdateOrganizationPayload> {
        let tenant = ctx.authorize(Action::ManageOrganization)?;
        let changes = OrganizationChanges {
            name: input.name,
            time_zone: input.time_zone,
        };
        let state = ctx.state()?;
        let after = service::organization::update(&state.db, &state.clock, tenant, changes).await?;
        state.jobs.wake();
        Ok(UpdateOrganizationPayload {
            organization: Organization(after),
        })
    }
}

/// What `updateOrganization` did.
#[derive(SimpleObject)]
pub struct UpdateOrganizationPayload {
    /// The organization as it is now.
    pub organization: Organization,
}
