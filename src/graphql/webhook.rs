//! Webhooks: endpoints that receive events (Standard Webhooks signatures), their deliveries
//! and delivery log, replays and pings. ADMIN and above, or an API key with `webhooks:write`.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

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
        event::EventType,
        webhook::{Attempt, Delivery, DeliveryStatus, Endpoint, EndpointInput},
    },
};

/// Managing webhooks: ADMIN and above, or an API key with `webhooks:write`.
pub const MANAGE: Action = Action::Scoped(Scope::WebhooksWrite, Role::Admin);

/// Where the organization's events are delivered: each delivery is a POST of the event's JSON
/// body (`{ id, type, timestamp, schemaVersion, data }`) with the Standard Webhooks headers
/// `webhook-id` (the event's id: the same on every retry and replay), `webhook-timestamp`
/// (Unix seconds) and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
/// `id.timestamp.body` under the secret's key; two signatures while a rotated secret still
/// signs). A 2xx answer delivers; 410 Gone disables the endpoint; anything else is retried
/// after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (with up to a fifth more at random),
/// then the delivery fails and can be replayed.
pub struct WebhookEndpoint(pub Endpoint);

/// Where the organization's events are delivered (see the type's description above).
#[Object]
impl WebhookEndpoint {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::WebhookEndpoint, self.0.id)
    }
    /// The URL deliveries are POSTed to.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// What the endpoint is for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The event types it receives.
    async fn events(&self) -> Vec<EventType> {
        self.0.events.clone()
    }
    /// Whether events are delivered to it.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Why the server disabled it (e.g. it answered 410 Gone); null when enabled or disabled
    /// by a member.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Until when the secret before the last rotation also signs deliveries (RFC 3339).
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_until
    }
    /// When it was created (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed (RFC 3339).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Its deliveries, newest first.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<DeliveryStatus>,
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
    ) -> AppResult<WebhookDeliveryConnection> {
        let tenant = ctx.authorize(MANAGE)?;
        let page = service::webhook::deliveries(
            ctx.state()?.db.conn(),
            tenant,
            self.0.id,
            status,
            page_request(ctx, first, after, last, before)?,
        )
        .await?;
        Ok(WebhookDeliveryConnection::from_page(page.map(WebhookDelivery)))
    }
}

/// One event sent to one endpoint, with its attempts.
pub struct WebhookDelivery(pub Delivery);

/// One event sent to one endpoint, with its attempts.
#[Object]
impl WebhookDelivery {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::WebhookDelivery, self.0.id)
    }
    /// The event's id: the `webhook-id` header and the body's `id`.
    async fn event_id(&self) -> String {
        self.0.event_id.to_string()
    }
    /// The event's type.
    async fn event_type(&self) -> Option<EventType> {
        self.0.event_type
    }
    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status
    }
    /// Attempts made (since the last replay).
    async fn attempt_count(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due, while pending (RFC 3339).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }
    /// The HTTP status of the last attempt, if the endpoint answered.
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status
    }
    /// Why the last attempt failed without an answer (timeout, refused destination…).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the endpoint accepted it (RFC 3339).
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// When it was made (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The delivery log: its attempts, oldest first (the last 50).
    async fn attempts(&self, ctx: &Context<'_>) -> AppResult<Vec<WebhookAttempt>> {
        let tenant = ctx.authorize(MANAGE)?;
        Ok(service::webhook::attempts(ctx.state()?.db.conn(), tenant, self.0.id)
            .await?
            .into_iter()
            .map(WebhookAttempt)
            .collect())
    }
}

/// One attempt of a delivery.
pub struct WebhookAttempt(Attempt);

/// One attempt of a delivery.
#[Object]
impl WebhookAttempt {
    /// 1 for the first attempt (from 1 again after a replay).
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// When it was made (RFC 3339); also its `webhook-timestamp`.
    async fn attempted_at(&self) -> DateTime<Utc> {
        self.0.attempted_at
    }
    /// The HTTP status the endpoint answered with, if it answered.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// Milliseconds until the endpoint's answer (or the failure).
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    /// The start of the endpoint's answer (at most 1,000 characters).
    async fn response_excerpt(&self) -> Option<&str> {
        self.0.response_excerpt.as_deref()
    }
    /// Why it failed without an answer (timeout, connection refused, destination not allowed…).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

connection!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "webhook delivery"
);

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The organization's webhook endpoints, oldest first (at most 20 exist). ADMIN and above,
    /// or an API key with `webhooks:write`.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> AppResult<Vec<WebhookEndpoint>> {
        let tenant = ctx.authorize(MANAGE)?;
        Ok(service::webhook::list(ctx.state()?.db.conn(), tenant)
            .await?
            .into_iter()
            .map(WebhookEndpoint)
            .collect())
    }
}

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// The URL to POST events to: https (http only outside production), not an address of
    /// the server's own network unless the server's settings allow it
    /// (`DESTINATION_NOT_ALLOWED`).
    pub url: String,
    /// The event types to receive; at least one.
    pub events: Vec<EventType>,
    /// What it is for (at most 200 characters).
    pub description: Option<String>,
    /// Whether to deliver at once (default true).
    pub enabled: Option<bool>,
}

/// Changes to a webhook endpoint; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint.
    pub id: ID,
    /// A new URL (the same rules as at creation).
    pub url: Option<String>,
    /// The event types to receive from now on; at least one.
    pub events: Option<Vec<EventType>>,
    /// What it is for; empty text clears it.
    pub description: Option<String>,
    /// Disable, or enable again (pending deliveries then resume).
    pub enabled: Option<bool>,
}

/// An endpoint with its secret, shown only this once.
#[derive(SimpleObject)]
pub struct WebhookSecretPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 key that signs deliveries (as the Standard Webhooks libraries
    /// expect it). Shown only this once.
    pub secret: String,
}

/// What `updateWebhookEndpoint` did.
#[derive(SimpleObject)]
pub struct UpdateWebhookEndpointPayload {
    /// The endpoint as it is now.
    pub endpoint: WebhookEndpoint,
}

/// What `deleteWebhookEndpoint` did.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    /// The deleted endpoint's ID.
    pub deleted_webhook_endpoint_id: ID,
}

/// A delivery that will be attempted (again).
#[derive(SimpleObject)]
pub struct WebhookDeliveryPayload {
    /// The delivery, pending.
    pub delivery: WebhookDelivery,
}

/// Failed deliveries of an endpoint to send again.
#[derive(InputObject)]
pub struct ReplayFailedWebhookDeliveriesInput {
    /// The endpoint.
    pub endpoint_id: ID,
    /// Deliveries made at or after this time (RFC 3339).
    pub since: DateTime<Utc>,
}

/// What `replayFailedWebhookDeliveries` did.
#[derive(SimpleObject)]
pub struct ReplayFailedWebhookDeliveriesPayload {
    /// How many failed deliveries are pending again.
    pub count: u64,
}

id::id_input!(WebhookEndpointIdInput, "A webhook endpoint.", "endpoint");
id::id_input!(WebhookDeliveryIdInput, "A webhook delivery.", "delivery");

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Creates a webhook endpoint; its secret is in the answer, shown only this once. ADMIN
    /// and above, or an API key with `webhooks:write`.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The URL, events and description.")] input: CreateWebhookEndpointInput,
    ) -> AppResult<WebhookSecretPayload> {
        let tenant = ctx.authorize(MANAGE)?;
        let state = ctx.state()?;
        let new = EndpointInput {
            url: Some(input.url),
            description: input.description,
            events: Some(input.events),
            enabled: input.enabled,
        };
        let (endpoint, secret) = service::webhook::create(
            state.db.conn(),
            state.webhooks.settings(),
            state.clock.now(),
            tenant,
            new,
        )
        .await?;
        Ok(WebhookSecretPayload {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Changes a webhook endpoint. ADMIN and above, or an API key with `webhooks:write`.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and what changes.")] input: UpdateWebhookEndpointInput,
    ) -> AppResult<UpdateWebhookEndpointPayload> {
        let tenant = ctx.authorize(MANAGE)?;
        let state = ctx.state()?;
        let uuid = id::decode(&input.id, NodeKind::WebhookEndpoint, "input.id")?;
        let change = EndpointInput {
            url: input.url,
            description: input.description,
            events: input.events,
            enabled: input.enabled,
        };
        let endpoint = service::webhook::update(
            state.db.conn(),
            state.webhooks.settings(),
            state.clock.now(),
            tenant,
            uuid,
            change,
        )
        .await?;
        Ok(UpdateWebhookEndpointPayload {
            endpoint: WebhookEndpoint(endpoint),
        })
    }

    /// Deletes a webhook endpoint with its deliveries. ADMIN and above, or an API key with
    /// `webhooks:write`.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to delete.")] input: WebhookEndpointIdInput,
    ) -> AppResult<DeleteWebhookEndpointPayload> {
        let tenant = ctx.authorize(MANAGE)?;
        let uuid = id::decode(&input.id, NodeKind::WebhookEndpoint, "input.id")?;
        service::webhook::delete(&ctx.state()?.db, tenant, uuid).await?;
        Ok(DeleteWebhookEndpointPayload {
            deleted_webhook_endpoint_id: input.id,
        })
    }

    /// Gives an endpoint a new secret, shown only this once; the previous one keeps signing
    /// for 24 hours beside it, so receivers can switch without losing deliveries. ADMIN and
    /// above, or an API key with `webhooks:write`.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: WebhookEndpointIdInput,
    ) -> AppResult<WebhookSecretPayload> {
        let tenant = ctx.authorize(MANAGE)?;
        let state = ctx.state()?;
        let uuid = id::decode(&input.id, NodeKind::WebhookEndpoint, "input.id")?;
        let (endpoint, secret) =
            service::webhook::rotate_secret(state.db.conn(), state.clock.now(), tenant, uuid).await?;
        Ok(WebhookSecretPayload {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Sends a `webhook.ping` event to an endpoint (enabled or not), to check that it
    /// receives and verifies deliveries. ADMIN and above, or an API key with `webhooks:write`.
    async fn ping_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: WebhookEndpointIdInput,
    ) -> AppResult<WebhookDeliveryPayload> {
        let tenant = ctx.authorize(MANAGE)?;
        let state = ctx.state()?;
        let uuid = id::decode(&input.id, NodeKind::WebhookEndpoint, "input.id")?;
        let delivery = service::webhook::ping(&state.db, state.clock.now(), tenant, uuid).await?;
        state.events.wake();
        Ok(WebhookDeliveryPayload {
            delivery: WebhookDelivery(delivery),
        })
    }

    /// Sends a delivered or failed delivery again, from a fresh retry schedule, with the same
    /// `webhook-id`. ADMIN and above, or an API key with `webhooks:write`.
    async fn replay_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] input: WebhookDeliveryIdInput,
    ) -> AppResult<WebhookDeliveryPayload> {
        let tenant = ctx.authorize(MANAGE)?;
        let state = ctx.state()?;
        let uuid = id::decode(&input.id, NodeKind::WebhookDelivery, "input.id")?;
        let delivery = service::webhook::replay(&state.db, state.clock.now(), tenant, uuid).await?;
        state.events.wake();
        Ok(WebhookDeliveryPayload {
            delivery: WebhookDelivery(delivery),
        })
    }

    /// Sends every failed delivery of an endpoint made since a time again (e.g. after the
    /// receiver was down). ADMIN and above, or an API key with `webhooks:write`.
    async fn replay_failed_webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and since when.")] input: ReplayFailedWebhookDeliveriesInput,
    ) -> AppResult<ReplayFailedWebhookDeliveriesPayload> {
        let tenant = ctx.authorize(MANAGE)?;
        let state = ctx.state()?;
        let uuid = id::decode(&input.endpoint_id, NodeKind::WebhookEndpoint, "input.endpointId")?;
        let count = service::webhook::replay_failed(&state.db, state.clock.now(), tenant, uuid, input.since).await?;
        state.events.wake();
        Ok(ReplayFailedWebhookDeliveriesPayload { count })
    }
}
