//! The respondent attribute catalogue.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::respondent_attribute;

use super::{
    context::ContextExt,
    id::{self, NodeKind},
    pagination::{connection, page_complexity, page_request},
};
use crate::{
    auth::{Action, Role, Scope},
    error::AppResult,
    service::{
        self,
        attribute::{AttributeType, NewAttribute},
    },
};

/// Reading the catalogue: any member, or an API key with `respondents:read`.
pub const READ: Action = Action::Scoped(Scope::RespondentsRead, Role::Analyst);
/// Changing it: EDITOR and above, or an API key with `respondents:write`.
pub const WRITE: Action = Action::Scoped(Scope::RespondentsWrite, Role::Editor);

/// A declared respondent attribute (see the GraphQL type's description).
#[derive(Clone)]
pub struct RespondentAttribute(pub respondent_attribute::Model);

/// A fact the organization keeps about its respondents (plan, segment, customer since…), with
/// a type. Respondents' attributes, conditions and report filters are checked against it.
#[Object]
impl RespondentAttribute {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::RespondentAttribute, self.0.id)
    }
    /// Stable machine name used in conditions, filters and imports (e.g. `customer_since`).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The type of its values; fixed once created.
    async fn r#type(&self) -> AppResult<AttributeType> {
        service::attribute::type_of(&self.0)
    }
    /// Human-readable label for staff screens.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// What the attribute means and where its values come from.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// When it was declared (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its label or description last changed (RFC 3339).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When it was retired (RFC 3339); retired attributes keep their data but take no new use.
    async fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.0.retired_at
    }
}

/// A new attribute.
#[derive(InputObject)]
pub struct CreateRespondentAttributeInput {
    /// Machine name: a lower-case letter, then lower-case letters, digits or `_`; at most 64.
    /// Unique in the organization, for good (also after retirement).
    pub name: String,
    /// The type of its values.
    pub r#type: AttributeType,
    /// Label for staff screens (1–200 characters).
    pub label: String,
    /// What it means (at most 2000 characters).
    pub description: Option<String>,
}

/// Changes to an attribute's label or description; name and type never change.
#[derive(InputObject)]
pub struct UpdateRespondentAttributeInput {
    /// The attribute's ID.
    pub id: ID,
    /// New label.
    pub label: Option<String>,
    /// New description.
    pub description: Option<String>,
}

#[derive(Default)]
pub struct AttributeQuery;

#[Object]
impl AttributeQuery {
    /// The organization's attribute catalogue, oldest first. Any member, or an API key with
    /// `respondents:read`.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn respondent_attributes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Also list retired attributes (default false).")] include_retired: Option<bool>,
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
    ) -> AppResult<RespondentAttributeConnection> {
        let tenant = ctx.authorize(READ)?;
        let request = page_request(ctx, first, after, last, before)?;
        let page = service::attribute::list(
            ctx.state()?.db.conn(),
            tenant,
            include_retired.unwrap_or(false),
            request,
        )
        .await?;
        Ok(RespondentAttributeConnection::from_page(page.map(RespondentAttribute)))
    }
}

#[derive(Default)]
pub struct AttributeMutation;

#[Object]
impl AttributeMutation {
    /// Declares an attribute. EDITOR and above, or an API key with `respondents:write`.
    async fn create_respondent_attribute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name, type, label and description.")] input: CreateRespondentAttributeInput,
    ) -> AppResult<RespondentAttributePayload> {
        let tenant = ctx.authorize(WRITE)?;
        let new = NewAttribute {
            name: input.name,
            data_type: input.r#type,
            label: input.label,
            description: input.description,
        };
        let attribute = service::attribute::create(ctx.state()?.db.conn(), tenant, new).await?;
        Ok(RespondentAttributePayload::of(attribute))
    }

    /// Changes an attribute's label or description. EDITOR and above, or `respondents:write`.
    async fn update_respondent_attribute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The attribute and its new texts.")] input: UpdateRespondentAttributeInput,
    ) -> AppResult<RespondentAttributePayload> {
        let tenant = ctx.authorize(WRITE)?;
        let uuid = id::decode(&input.id, NodeKind::RespondentAttribute, "input.id")?;
        let conn = ctx.state()?.db.conn();
        let updated = service::attribute::update(conn, tenant, uuid, input.label, input.description).await?;
        Ok(RespondentAttributePayload::of(updated))
    }

    /// Retires an attribute: it stays known, but is no longer offered for new use. Idempotent.
    /// EDITOR and above, or `respondents:write`.
    async fn retire_respondent_attribute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The attribute to retire.")] input: RetireRespondentAttributeInput,
    ) -> AppResult<RespondentAttributePayload> {
        let tenant = ctx.authorize(WRITE)?;
        let uuid = id::decode(&input.id, NodeKind::RespondentAttribute, "input.id")?;
        let retired = service::attribute::retire(ctx.state()?.db.conn(), tenant, uuid).await?;
        Ok(RespondentAttributePayload::of(retired))
    }
}

connection!(
    RespondentAttributeConnection,
    RespondentAttributeEdge,
    RespondentAttribute,
    "respondent attribute"
);

id::id_input!(RetireRespondentAttributeInput, "An attribute to retire.", "attribute");

/// What a change to the attribute catalogue did.
#[derive(SimpleObject)]
pub struct RespondentAttributePayload {
    /// The attribute as it is now.
    pub attribute: RespondentAttribute,
}

impl RespondentAttributePayload {
    fn of(model: entity::respondent_attribute::Model) -> Self {
        RespondentAttributePayload {
            attribute: RespondentAttribute(model),
        }
    }
}
