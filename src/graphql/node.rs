//! `node(id:)`: any object by its global ID, for Relay clients.
use async_graphql::{Context, ID, Interface, Object};

use super::{
    api_key::ApiKey,
    attribute::{self, RespondentAttribute},
    context::ContextExt,
    form::{self, Form, FormVersion, Question, Section},
    id::{self, NodeKind},
    member::{Member, User},
    organization::Organization,
    report::{self, Report},
    respondent::{self, Respondent},
    response::{self, Response},
    webhook::{self, WebhookDelivery, WebhookEndpoint},
};
use crate::{
    auth::Action,
    error::{AppError, AppResult},
    service,
};

/// NOT_FOUND becomes null; every other error stays an error.
fn found<T>(result: AppResult<T>) -> AppResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// An object with a global ID that `node(id:)` finds again.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global ID."))]
pub enum Node {
    Organization(Organization),
    User(User),
    Member(Member),
    ApiKey(ApiKey),
    RespondentAttribute(RespondentAttribute),
    Form(Form),
    FormVersion(FormVersion),
    Section(Section),
    Question(Question),
    Respondent(Respondent),
    Response(Response),
    Report(Report),
    WebhookEndpoint(WebhookEndpoint),
    WebhookDelivery(WebhookDelivery),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global ID, if it exists in the caller's organization and the caller
    /// may see it; null otherwise.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID from any `id` field.")] id: ID,
    ) -> AppResult<Option<Node>> {
        let decoded = id::decode_any(&id, "id")?;
        let (kind, uuid) = (decoded.kind, decoded.id);
        let conn = ctx.state()?.db.conn();
        let found = match kind {
            NodeKind::Organization => {
                let tenant = ctx.authorize(Action::ReadOrganization)?;
                if tenant.organization_id == uuid {
                    Some(Node::Organization(Organization(ctx.organization(tenant).await?)))
                } else {
                    None
                }
            }
            NodeKind::User => {
                let tenant = ctx.authorize(Action::ReadMembers)?;
                found(service::member::get_user(conn, tenant, uuid).await)?.map(|u| Node::User(User(u)))
            }
            NodeKind::Member => {
                let tenant = ctx.authorize(Action::ReadMembers)?;
                found(service::member::get(conn, tenant, uuid).await)?.map(|m| Node::Member(Member(m)))
            }
            NodeKind::ApiKey => {
                let tenant = ctx.authorize(Action::ManageApiKeys)?;
                found(service::api_key::get(conn, tenant, uuid).await)?.map(|k| Node::ApiKey(ApiKey(k)))
            }
            NodeKind::RespondentAttribute => {
                let tenant = ctx.authorize(attribute::READ)?;
                let attribute = found(service::attribute::get(conn, tenant, uuid).await)?;
                attribute.map(|a| Node::RespondentAttribute(RespondentAttribute(a)))
            }
            NodeKind::Form => {
                let tenant = ctx.authorize(form::READ)?;
                found(service::form::get(conn, tenant, uuid).await)?.map(|f| Node::Form(Form::new(f)))
            }
            NodeKind::FormVersion => {
                let tenant = ctx.authorize(form::READ)?;
                found(service::form::version(conn, tenant, uuid).await)?.map(|v| Node::FormVersion(FormVersion::new(v)))
            }
            NodeKind::Respondent => {
                let tenant = ctx.authorize(respondent::READ)?;
                found(service::respondent::get(conn, tenant, uuid).await)?.map(|r| Node::Respondent(Respondent(r)))
            }
            NodeKind::Response => {
                let tenant = ctx.authorize(response::READ)?;
                response::find(ctx, tenant, uuid).await?.map(Node::Response)
            }
            NodeKind::Report => {
                let tenant = ctx.authorize(report::READ)?;
                found(service::report::get(conn, tenant, uuid).await)?.map(|r| Node::Report(Report(r)))
            }
            NodeKind::WebhookEndpoint => {
                let tenant = ctx.authorize(webhook::MANAGE)?;
                found(service::webhook::get(conn, tenant, uuid).await)?
                    .map(|e| Node::WebhookEndpoint(WebhookEndpoint(e)))
            }
            NodeKind::WebhookDelivery => {
                let tenant = ctx.authorize(webhook::MANAGE)?;
                found(service::webhook::delivery(conn, tenant, uuid).await)?
                    .map(|d| Node::WebhookDelivery(WebhookDelivery(d)))
            }
            NodeKind::Section | NodeKind::Question => {
                let tenant = ctx.authorize(form::READ)?;
                let Some(version) = decoded.version else {
                    return Ok(None);
                };
                let Some(row) = found(service::form::version(conn, tenant, version).await)? else {
                    return Ok(None);
                };
                let def = FormVersion::new(row).def(ctx).await?;
                if kind == NodeKind::Section {
                    def.find_section(uuid)
                        .map(|index| Node::Section(Section { def, version, index }))
                } else {
                    def.find_question(uuid).map(|(section, index)| {
                        Node::Question(Question {
                            def,
                            version,
                            section,
                            index,
                        })
                    })
                }
            }
        };
        Ok(found)
    }
}
