//! Webhook endpoints and their deliveries (Standard Webhooks). An organization's endpoints each
//! name a URL, the event types they receive and a secret that signs every delivery (shown once;
//! after a rotation the previous secret also signs for [`ROTATION_OVERLAP`]). Events come from
//! the outbox (`super::event`); dispatchers on every instance deliver them at least once
//! ([`dispatch`]). A delivery can be replayed, and every failed one since a time at once; a
//! ping checks an endpoint.
pub mod destination;
pub mod dispatch;
pub mod sign;

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    event::{self, Event, EventType},
    page::{self, Page, PageRequest},
    validate,
};
use crate::{
    auth::Tenant,
    db::Db,
    error::{AppError, AppResult},
};
pub use destination::Allowed;

/// How long the secret before a rotation keeps signing deliveries.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// Endpoints an organization may have.
pub const MAX_ENDPOINTS: u64 = 20;

/// Where a delivery stands.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or for an earlier event of the same subject).
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: every retry failed, or the endpoint answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "PENDING",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Failed => "FAILED",
        }
    }

    pub fn parse(text: &str) -> AppResult<DeliveryStatus> {
        match text {
            "PENDING" => Ok(DeliveryStatus::Pending),
            "DELIVERED" => Ok(DeliveryStatus::Delivered),
            "FAILED" => Ok(DeliveryStatus::Failed),
            other => Err(AppError::Internal(format!("unknown delivery status {other}"))),
        }
    }
}

/// What the server's settings say about webhooks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settings {
    pub allowed: Allowed,
    /// Only https URLs (production).
    pub https_only: bool,
}

/// An endpoint as its owners see it (never the secret).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<EventType>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation also signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    fn of(row: webhook_endpoint::Model) -> Endpoint {
        Endpoint {
            id: row.id,
            events: events_of(&row.events),
            url: row.url,
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            previous_secret_until: row.previous_secret_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The event types stored as `events`.
pub fn events_of(text: &str) -> Vec<EventType> {
    text.split_whitespace().filter_map(EventType::parse).collect()
}

/// Whether `endpoint` receives `event_type` (pings aside).
pub fn receives(endpoint: &webhook_endpoint::Model, event_type: EventType) -> bool {
    events_of(&endpoint.events).contains(&event_type)
}

/// [`receives`] as a condition on `webhook_endpoints`: `events` names the type among its
/// space-separated names (no name is a part of another's between spaces).
pub fn receives_where(event_type: EventType) -> sea_orm::Condition {
    use sea_orm::ColumnTrait;
    let [name, first, last, between] = receives_patterns(event_type);
    let events = webhook_endpoint::Column::Events;
    sea_orm::Condition::any()
        .add(events.eq(name))
        .add(events.like(first))
        .add(events.like(last))
        .add(events.like(between))
}

/// What `events` is equal to when the type is its only name, then `LIKE` when the type is the
/// first, last, or a middle one of several.
pub fn receives_patterns(event_type: EventType) -> [String; 4] {
    let name = event_type.as_str();
    [
        name.to_owned(),
        format!("{name} %"),
        format!("% {name}"),
        format!("% {name} %"),
    ]
}

/// Changes to an endpoint; `None` keeps what is there.
#[derive(Debug, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
}

fn events_text(events: &[EventType]) -> AppResult<String> {
    let mut names: Vec<&str> = events
        .iter()
        .filter(|e| **e != EventType::WebhookPing)
        .map(|e| e.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return Err(AppError::bad_input(
            "input.events",
            "give at least one event type (pings reach every endpoint anyway)",
        ));
    }
    Ok(names.join(" "))
}

fn description_of(text: Option<String>) -> AppResult<Option<String>> {
    match text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(t) => Ok(Some(validate::name(&t, "input.description")?)),
        None => Ok(None),
    }
}

async fn endpoint_row(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id((tenant.organization_id, id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("webhook endpoint"))
}

/// Creates an endpoint; returns it with its secret, which is not shown again.
pub async fn create(
    conn: &impl ConnectionTrait,
    settings: Settings,
    now: DateTime<Utc>,
    tenant: Tenant,
    input: EndpointInput,
) -> AppResult<(Endpoint, String)> {
    let url = input
        .url
        .ok_or_else(|| AppError::bad_input("input.url", "give the URL to deliver to"))?;
    let url = destination::check_url(&url, settings.allowed, settings.https_only, "input.url")?;
    let events = events_text(input.events.as_deref().unwrap_or_default())?;
    let count = {
        use sea_orm::PaginatorTrait;
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::OrganizationId.eq(tenant.organization_id))
            .count(conn)
            .await?
    };
    if count >= MAX_ENDPOINTS {
        return Err(AppError::conflict(
            "input.url",
            format!("an organization has at most {MAX_ENDPOINTS} webhook endpoints"),
        ));
    }
    let secret = sign::new_secret();
    let row = webhook_endpoint::ActiveModel {
        organization_id: Set(tenant.organization_id),
        id: Set(Uuid::now_v7()),
        url: Set(url),
        description: Set(description_of(input.description)?),
        events: Set(events),
        enabled: Set(input.enabled.unwrap_or(true)),
        disabled_reason: Set(None),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok((Endpoint::of(row), secret))
}

/// Changes an endpoint. Enabling it again clears why it was disabled.
pub async fn update(
    conn: &impl ConnectionTrait,
    settings: Settings,
    now: DateTime<Utc>,
    tenant: Tenant,
    id: Uuid,
    input: EndpointInput,
) -> AppResult<Endpoint> {
    let row = endpoint_row(conn, tenant, id).await?;
    let mut model = row.into_active_model();
    if let Some(url) = input.url {
        model.url = Set(destination::check_url(
            &url,
            settings.allowed,
            settings.https_only,
            "input.url",
        )?);
    }
    if let Some(events) = input.events {
        model.events = Set(events_text(&events)?);
    }
    if input.description.is_some() {
        model.description = Set(description_of(input.description)?);
    }
    if let Some(enabled) = input.enabled {
        model.enabled = Set(enabled);
        if enabled {
            model.disabled_reason = Set(None);
        }
    }
    model.updated_at = Set(now);
    Ok(Endpoint::of(model.update(conn).await?))
}

/// Deletes an endpoint with its deliveries and their log.
pub async fn delete(db: &Db, tenant: Tenant, id: Uuid) -> AppResult<()> {
    let txn = db.begin_write().await?;
    endpoint_row(&txn, tenant, id).await?;
    let deliveries = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::OrganizationId.eq(tenant.organization_id))
        .filter(webhook_delivery::Column::EndpointId.eq(id));
    for part in deliveries.all(&txn).await?.chunks(500) {
        webhook_attempt::Entity::delete_many()
            .filter(webhook_attempt::Column::OrganizationId.eq(tenant.organization_id))
            .filter(webhook_attempt::Column::DeliveryId.is_in(part.iter().map(|d| d.id)))
            .exec(&txn)
            .await?;
    }
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::OrganizationId.eq(tenant.organization_id))
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .exec(&txn)
        .await?;
    webhook_endpoint::Entity::delete_by_id((tenant.organization_id, id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A new secret; the one before keeps signing for [`ROTATION_OVERLAP`] (a secret rotated
/// within that time is dropped at once: at most two sign).
pub async fn rotate_secret(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    tenant: Tenant,
    id: Uuid,
) -> AppResult<(Endpoint, String)> {
    let row = endpoint_row(conn, tenant, id).await?;
    let secret = sign::new_secret();
    let mut model = row.clone().into_active_model();
    model.previous_secret = Set(Some(row.secret));
    model.previous_secret_until = Set(Some(now + ROTATION_OVERLAP));
    model.secret = Set(secret.clone());
    model.updated_at = Set(now);
    Ok((Endpoint::of(model.update(conn).await?), secret))
}

pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<Endpoint> {
    Ok(Endpoint::of(endpoint_row(conn, tenant, id).await?))
}

/// The organization's endpoints, oldest first.
pub async fn list(conn: &impl ConnectionTrait, tenant: Tenant) -> AppResult<Vec<Endpoint>> {
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.eq(tenant.organization_id))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Endpoint::of)
        .collect())
}

/// A delivery as its endpoint's owners see it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: Option<EventType>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Delivery {
    fn of(row: webhook_delivery::Model) -> AppResult<Delivery> {
        let status = DeliveryStatus::parse(&row.status)?;
        Ok(Delivery {
            id: row.id,
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            event_type: EventType::parse(&row.event_type),
            status,
            attempts: row.attempts,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(row.next_attempt_at),
            last_status: row.last_status,
            last_error: row.last_error,
            delivered_at: row.delivered_at,
            created_at: row.created_at,
        })
    }
}

/// A delivery by id.
pub async fn delivery(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<Delivery> {
    let row = webhook_delivery::Entity::find_by_id((tenant.organization_id, id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("webhook delivery"))?;
    Delivery::of(row)
}

/// An endpoint's deliveries, newest first, of one status if given.
pub async fn deliveries(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    request: PageRequest,
) -> AppResult<Page<Delivery>> {
    let mut select = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::OrganizationId.eq(tenant.organization_id))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id));
    if let Some(status) = status {
        select = select.filter(webhook_delivery::Column::Status.eq(status.as_str()));
    }
    let order = page::Order {
        by: None,
        id: webhook_delivery::Column::Id,
        descending: true,
    };
    let page = page::fetch(conn, select, order, request).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for (cursor, row) in page.items {
        items.push((cursor, Delivery::of(row)?));
    }
    Ok(Page {
        items,
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        total_count: page.total_count,
    })
}

/// One attempt of a delivery, from the log.
pub type Attempt = webhook_attempt::Model;

/// A delivery's attempts, oldest first (at most the last 50).
pub async fn attempts(conn: &impl ConnectionTrait, tenant: Tenant, delivery_id: Uuid) -> AppResult<Vec<Attempt>> {
    use sea_orm::QuerySelect;
    let mut rows = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::OrganizationId.eq(tenant.organization_id))
        .filter(webhook_attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_desc(webhook_attempt::Column::AttemptedAt)
        .order_by_desc(webhook_attempt::Column::Id)
        .limit(50)
        .all(conn)
        .await?;
    rows.reverse();
    Ok(rows)
}

/// Sends a delivery again from a fresh schedule (the same `webhook-id`: receivers that keep
/// ids see a repeat, not a new event).
pub async fn replay(db: &Db, now: DateTime<Utc>, tenant: Tenant, id: Uuid) -> AppResult<Delivery> {
    let txn = db.begin_write().await?;
    let row = webhook_delivery::Entity::find_by_id((tenant.organization_id, id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("webhook delivery"))?;
    if row.status == DeliveryStatus::Pending.as_str() {
        txn.rollback().await?;
        return Err(AppError::conflict("input.id", "this delivery is still pending"));
    }
    let mut model = row.into_active_model();
    model.status = Set(DeliveryStatus::Pending.as_str().to_owned());
    model.attempts = Set(0);
    model.next_attempt_at = Set(now);
    model.locked_until = Set(None);
    model.updated_at = Set(now);
    let row = model.update(&txn).await?;
    txn.commit().await?;
    Delivery::of(row)
}

/// Sends every failed delivery of an endpoint created at or after `since` again; how many.
pub async fn replay_failed(
    db: &Db,
    now: DateTime<Utc>,
    tenant: Tenant,
    endpoint_id: Uuid,
    since: DateTime<Utc>,
) -> AppResult<u64> {
    let txn = db.begin_write().await?;
    endpoint_row(&txn, tenant, endpoint_id).await?;
    let done = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending.as_str()),
        )
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::OrganizationId.eq(tenant.organization_id))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Failed.as_str()))
        .filter(webhook_delivery::Column::CreatedAt.gte(since))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(done.rows_affected)
}

/// Sends a `webhook.ping` to one endpoint (enabled or not: a ping checks it before enabling).
pub async fn ping(db: &Db, now: DateTime<Utc>, tenant: Tenant, endpoint_id: Uuid) -> AppResult<Delivery> {
    let txn = db.begin_write().await?;
    let endpoint = endpoint_row(&txn, tenant, endpoint_id).await?;
    let data = json!({ "endpointId": crate::ids::global(crate::ids::NodeKind::WebhookEndpoint, endpoint.id) });
    let event = Event::new(now, tenant.organization_id, EventType::WebhookPing, endpoint.id, data);
    let event_id = event::record_as(&txn, event, true).await?;
    let row = dispatch::new_delivery(
        tenant.organization_id,
        endpoint.id,
        event_id,
        EventType::WebhookPing,
        endpoint.id,
        now,
    )
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Delivery::of(row)
}
