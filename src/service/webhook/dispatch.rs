//! Delivering events: every instance runs a dispatcher, which
//! 1. fans events out of the outbox: one delivery per event and endpoint subscribed to its
//!    type (an event no endpoint wants is dropped at once), in one transaction per batch;
//! 2. claims due deliveries in batches (several in flight), holding each for [`LEASE`] (on PostgreSQL claims skip rows
//!    another dispatcher is claiming; on SQLite the single writer orders them), so two
//!    dispatchers never send one delivery at the same time; a delivery waits while an earlier
//!    event of the same subject (a response…) to the same endpoint is pending, so one
//!    response's events arrive in order;
//! 3. POSTs each with the Standard Webhooks headers (see [`super::sign`]), within the
//!    configured timeout, and logs the attempt. 2xx: delivered. 410 Gone: the endpoint is
//!    disabled and the delivery fails. Anything else (or no answer) is retried after
//!    [`RETRY_AFTER`] with up to a fifth more at random, about 28 hours in all, then fails.
//!
//! A dispatcher that dies holding deliveries leaves them to others when the lease ends: a
//! delivery is sent at least once, and receivers deduplicate by `webhook-id`.
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{outbox_event, webhook_attempt, webhook_delivery, webhook_endpoint};
use futures_util::future::join_all;
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Set, Statement,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::{DeliveryStatus, Settings, destination, receives, sign};
use crate::{
    clock::Clock,
    db::Db,
    error::AppResult,
    service::event::{EventType, Publisher},
};

/// How long a claimed delivery is held before another dispatcher may take it over.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);
/// The wait after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; eight
/// attempts over about 28 hours.
pub const RETRY_AFTER: [i64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// Deliveries one batch holds.
const BATCH: usize = 32;
/// Batches one dispatcher has in flight at once (each claimed, sent and settled on its own).
const LANES: usize = 4;
/// Events one fan-out reads at once.
const FAN_OUT_BATCH: usize = 200;
/// How much of an endpoint's answer the log keeps.
pub const EXCERPT_CHARS: usize = 1000;
/// How long settled deliveries, their log and their events are kept.
pub const RETENTION_DAYS: i64 = 30;
/// How often an idle dispatcher looks for events and deliveries of other instances.
pub const POLL: Duration = Duration::from_secs(1);

/// A new pending delivery of `event_id` to `endpoint_id`, due at `now`.
pub fn new_delivery(
    organization_id: Uuid,
    endpoint_id: Uuid,
    event_id: Uuid,
    event_type: EventType,
    subject_id: Uuid,
    now: DateTime<Utc>,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        organization_id: Set(organization_id),
        id: Set(Uuid::now_v7()),
        endpoint_id: Set(endpoint_id),
        event_id: Set(event_id),
        event_type: Set(event_type.as_str().to_owned()),
        subject_id: Set(subject_id),
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones; `None` once the
/// schedule is over.
pub fn retry_after(attempts: i32) -> Option<chrono::Duration> {
    let base = *RETRY_AFTER.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let jitter = rand::random_range(0.0..0.2);
    Some(chrono::Duration::milliseconds(
        (base as f64 * (1.0 + jitter) * 1000.0) as i64,
    ))
}

/// How an attempt ended.
#[derive(Debug)]
enum Outcome {
    Delivered,
    Gone,
    Retry,
}

#[derive(Debug, FromQueryResult)]
struct Pending {
    organization_id: Uuid,
    id: Uuid,
    event_type: String,
    subject_id: Uuid,
}

/// Delivers the outbox of one database. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    clock: Clock,
    client: reqwest::Client,
    settings: Settings,
    publisher: Publisher,
}

impl Dispatcher {
    pub fn new(db: Db, clock: Clock, settings: Settings, timeout: Duration, publisher: Publisher) -> AppResult<Self> {
        Ok(Dispatcher {
            client: destination::client(settings.allowed, timeout)?,
            db,
            clock,
            settings,
            publisher,
        })
    }

    /// What the server's settings allow.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Makes the deliveries of events not fanned out yet (a batch at most); how many events.
    pub async fn fan_out(&self) -> AppResult<usize> {
        let backend = self.db.backend();
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let select = format!(
            "SELECT organization_id, id, event_type, subject_id FROM outbox_events \
             WHERE fanned_out = false ORDER BY created_at, id LIMIT {FAN_OUT_BATCH}{lock}"
        );
        // Most looks find nothing: a read first, without taking the writer.
        let waiting = Pending::find_by_statement(Statement::from_string(
            backend,
            "SELECT organization_id, id, event_type, subject_id FROM outbox_events WHERE fanned_out = false LIMIT 1",
        ))
        .one(self.db.conn())
        .await?;
        if waiting.is_none() {
            return Ok(0);
        }
        let now = self.clock.now();
        let txn = self.db.begin_write().await?;
        let events = Pending::find_by_statement(Statement::from_string(backend, select))
            .all(&txn)
            .await?;
        let mut endpoints: std::collections::HashMap<Uuid, Vec<webhook_endpoint::Model>> = Default::default();
        let (mut kept, mut dropped, mut deliveries) = (Vec::new(), Vec::new(), Vec::new());
        for event in &events {
            if let std::collections::hash_map::Entry::Vacant(slot) = endpoints.entry(event.organization_id) {
                let found = webhook_endpoint::Entity::find()
                    .filter(webhook_endpoint::Column::OrganizationId.eq(event.organization_id))
                    .filter(webhook_endpoint::Column::Enabled.eq(true))
                    .all(&txn)
                    .await?;
                slot.insert(found);
            }
            let Some(event_type) = EventType::parse(&event.event_type) else {
                dropped.push((event.organization_id, event.id));
                continue;
            };
            let rows: Vec<_> = endpoints[&event.organization_id]
                .iter()
                .filter(|e| receives(e, event_type))
                .map(|e| new_delivery(event.organization_id, e.id, event.id, event_type, event.subject_id, now))
                .collect();
            if rows.is_empty() {
                dropped.push((event.organization_id, event.id));
                continue;
            }
            deliveries.extend(rows);
            kept.push((event.organization_id, event.id));
        }
        // Every delivery of the batch in a few statements.
        for part in deliveries.chunks(500) {
            webhook_delivery::Entity::insert_many(part.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        webhook_delivery::Column::OrganizationId,
                        webhook_delivery::Column::EndpointId,
                        webhook_delivery::Column::EventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        // By organization and id: the key's order, so each is a seek, not a scan.
        for (organization_id, ids) in by_organization(kept) {
            for part in ids.chunks(500) {
                outbox_event::Entity::update_many()
                    .col_expr(outbox_event::Column::FannedOut, Expr::value(true))
                    .filter(outbox_event::Column::OrganizationId.eq(organization_id))
                    .filter(outbox_event::Column::Id.is_in(part.to_vec()))
                    .exec(&txn)
                    .await?;
            }
        }
        for (organization_id, ids) in by_organization(dropped) {
            for part in ids.chunks(500) {
                outbox_event::Entity::delete_many()
                    .filter(outbox_event::Column::OrganizationId.eq(organization_id))
                    .filter(outbox_event::Column::Id.is_in(part.to_vec()))
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        Ok(events.len())
    }

    /// Claims due deliveries (a batch at most), holding them for [`LEASE`].
    async fn claim(&self) -> AppResult<Vec<webhook_delivery::Model>> {
        let now = self.clock.now();
        let backend = self.db.backend();
        let due = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .one(self.db.conn())
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let until = now + LEASE;
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE OF d SKIP LOCKED"
        } else {
            ""
        };
        let (p, values) = crate::db::lease_binds(backend, until, now);
        let sql = format!(
            r#"UPDATE webhook_deliveries SET locked_until = {until_p}, updated_at = {now_p}
               WHERE (organization_id, id) IN (
                 SELECT d.organization_id, d.id FROM webhook_deliveries d
                 WHERE d.status = 'PENDING' AND d.next_attempt_at <= {due_p}
                   AND (d.locked_until IS NULL OR d.locked_until <= {due_p})
                   AND (d.event_type = 'webhook.ping' OR EXISTS (
                     SELECT 1 FROM webhook_endpoints w
                     WHERE w.organization_id = d.organization_id AND w.id = d.endpoint_id AND w.enabled = true))
                   AND NOT EXISTS (
                     SELECT 1 FROM webhook_deliveries e
                     WHERE e.organization_id = d.organization_id AND e.endpoint_id = d.endpoint_id
                       AND e.subject_id = d.subject_id AND e.status = 'PENDING' AND e.event_id < d.event_id)
                 ORDER BY d.next_attempt_at LIMIT {BATCH}{lock})
               RETURNING *"#,
            until_p = p[0],
            now_p = p[1],
            due_p = p[2],
        );
        let txn = self.db.begin_write().await?;
        let claimed = webhook_delivery::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(claimed)
    }

    /// Sends claimed deliveries at once and records how each went, in one transaction.
    async fn attempt(&self, claimed: Vec<webhook_delivery::Model>) -> AppResult<()> {
        use std::collections::HashMap;
        let conn = self.db.conn();
        let mut events: HashMap<(Uuid, Uuid), outbox_event::Model> = HashMap::new();
        for (organization_id, ids) in by_organization(claimed.iter().map(|d| (d.organization_id, d.event_id)).collect())
        {
            for event in outbox_event::Entity::find()
                .filter(outbox_event::Column::OrganizationId.eq(organization_id))
                .filter(outbox_event::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                events.insert((event.organization_id, event.id), event);
            }
        }
        let mut endpoints: HashMap<(Uuid, Uuid), webhook_endpoint::Model> = HashMap::new();
        for (organization_id, ids) in
            by_organization(claimed.iter().map(|d| (d.organization_id, d.endpoint_id)).collect())
        {
            for endpoint in webhook_endpoint::Entity::find()
                .filter(webhook_endpoint::Column::OrganizationId.eq(organization_id))
                .filter(webhook_endpoint::Column::Id.is_in(ids))
                .all(conn)
                .await?
            {
                endpoints.insert((endpoint.organization_id, endpoint.id), endpoint);
            }
        }
        let at = self.clock.now();
        let sent = join_all(claimed.iter().map(|delivery| {
            let org = delivery.organization_id;
            let event = events.get(&(org, delivery.event_id));
            let endpoint = endpoints.get(&(org, delivery.endpoint_id));
            async move {
                let started = std::time::Instant::now();
                let result = match (event, endpoint) {
                    (Some(event), Some(endpoint)) => self.send(event, endpoint, at).await,
                    (None, _) => (
                        Outcome::Gone,
                        None,
                        None,
                        Some("the event is no longer kept".to_owned()),
                    ),
                    (_, None) => (Outcome::Gone, None, None, Some("the endpoint was deleted".to_owned())),
                };
                (result, started.elapsed().as_millis().min(i32::MAX as u128) as i32)
            }
        }))
        .await;
        let now = self.clock.now();
        let txn = self.db.begin_write().await?;
        let mut log = Vec::with_capacity(claimed.len());
        let attempt_row = |claimed: &webhook_delivery::Model,
                           status: Option<i32>,
                           excerpt: Option<String>,
                           error: Option<String>,
                           latency: i32| webhook_attempt::ActiveModel {
            organization_id: Set(claimed.organization_id),
            id: Set(Uuid::now_v7()),
            delivery_id: Set(claimed.id),
            attempt: Set(claimed.attempts + 1),
            attempted_at: Set(at),
            status_code: Set(status),
            latency_ms: Set(latency),
            response_excerpt: Set(excerpt),
            error: Set(error),
        };
        // Delivered ones (nearly all), settled in one statement per organization, lease and
        // status code, only those whose claim still holds: a dispatcher that outlived its lease
        // leaves the rows to the one that took them over.
        let mut delivered: std::collections::BTreeMap<Settled, Vec<usize>> = Default::default();
        for (i, (claimed, ((outcome, status, _, _), _))) in claimed.iter().zip(&sent).enumerate() {
            if matches!(outcome, Outcome::Delivered) {
                delivered
                    .entry((claimed.organization_id, claimed.locked_until, *status))
                    .or_default()
                    .push(i);
            }
        }
        for ((org, lease, status), rows) in delivered {
            let ids: Vec<Uuid> = rows.iter().map(|i| claimed[*i].id).collect();
            let held: std::collections::HashSet<Uuid> = webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::Status,
                    Expr::value(DeliveryStatus::Delivered.as_str()),
                )
                .col_expr(
                    webhook_delivery::Column::Attempts,
                    sea_orm::sea_query::ExprTrait::add(Expr::col(webhook_delivery::Column::Attempts), 1),
                )
                .col_expr(
                    webhook_delivery::Column::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(webhook_delivery::Column::LastStatus, Expr::value(status))
                .col_expr(webhook_delivery::Column::LastError, Expr::value(Option::<String>::None))
                .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(Some(now)))
                .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
                .filter(webhook_delivery::Column::OrganizationId.eq(org))
                .filter(webhook_delivery::Column::Id.is_in(ids))
                .filter(webhook_delivery::Column::LockedUntil.eq(lease))
                .exec_with_returning(&txn)
                .await?
                .into_iter()
                .map(|d| d.id)
                .collect();
            for i in rows {
                let (claimed, ((_, status, excerpt, error), latency)) = (&claimed[i], &sent[i]);
                if held.contains(&claimed.id) {
                    log.push(attempt_row(claimed, *status, excerpt.clone(), error.clone(), *latency));
                }
            }
        }
        for (claimed, ((outcome, status, excerpt, error), latency)) in claimed.into_iter().zip(sent) {
            if matches!(outcome, Outcome::Delivered) {
                continue;
            }
            let org = claimed.organization_id;
            let attempts = claimed.attempts + 1;
            let (status_text, next_at, delivered_at) = match (&outcome, retry_after(attempts)) {
                (Outcome::Delivered, _) => (DeliveryStatus::Delivered, claimed.next_attempt_at, Some(now)),
                (Outcome::Retry, Some(wait)) => (DeliveryStatus::Pending, now + wait, None),
                (Outcome::Gone | Outcome::Retry, _) => (DeliveryStatus::Failed, claimed.next_attempt_at, None),
            };
            // Only while the claim holds: a dispatcher that outlived its lease leaves the row
            // to the one that took it over.
            let held = webhook_delivery::Entity::update_many()
                .col_expr(webhook_delivery::Column::Status, Expr::value(status_text.as_str()))
                .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next_at))
                .col_expr(
                    webhook_delivery::Column::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(webhook_delivery::Column::LastStatus, Expr::value(status))
                .col_expr(webhook_delivery::Column::LastError, Expr::value(error.clone()))
                .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(delivered_at))
                .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
                .filter(webhook_delivery::Column::OrganizationId.eq(org))
                .filter(webhook_delivery::Column::Id.eq(claimed.id))
                .filter(webhook_delivery::Column::LockedUntil.eq(claimed.locked_until))
                .exec(&txn)
                .await?;
            if held.rows_affected == 0 {
                continue;
            }
            log.push(attempt_row(&claimed, status, excerpt, error, latency));
            if matches!(outcome, Outcome::Gone) && status == Some(410) {
                webhook_endpoint::Entity::update_many()
                    .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
                    .col_expr(
                        webhook_endpoint::Column::DisabledReason,
                        Expr::value("the endpoint answered 410 Gone"),
                    )
                    .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
                    .filter(webhook_endpoint::Column::OrganizationId.eq(org))
                    .filter(webhook_endpoint::Column::Id.eq(claimed.endpoint_id))
                    .exec(&txn)
                    .await?;
            }
        }
        if !log.is_empty() {
            webhook_attempt::Entity::insert_many(log)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// POSTs `event` to `endpoint`: how it ended, the HTTP status, the answer's start, the error.
    async fn send(
        &self,
        event: &outbox_event::Model,
        endpoint: &webhook_endpoint::Model,
        at: DateTime<Utc>,
    ) -> (Outcome, Option<i32>, Option<String>, Option<String>) {
        let mut secrets = vec![endpoint.secret.as_str()];
        if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_until)
            && until > at
        {
            secrets.push(previous);
        }
        let id = event.id.to_string();
        let timestamp = at.timestamp();
        let signature = sign::header(&secrets, &id, timestamp, event.body.as_bytes());
        // The URL was checked when it was set; the settings may have changed since.
        if let Err(err) = destination::check_url(&endpoint.url, self.settings.allowed, false, "url") {
            let why = match err {
                crate::error::AppError::Refused { message, .. } => message,
                _ => "the URL is not valid".to_owned(),
            };
            return (
                Outcome::Retry,
                None,
                None,
                Some(format!("destination not allowed: {why}")),
            );
        }
        let sent = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(event.body.clone())
            .send()
            .await;
        match sent {
            Ok(mut answer) => {
                let status = answer.status().as_u16();
                let mut bytes = Vec::new();
                while bytes.len() < EXCERPT_CHARS * 4 {
                    match answer.chunk().await {
                        Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                let text: String = String::from_utf8_lossy(&bytes).chars().take(EXCERPT_CHARS).collect();
                let excerpt = (!text.is_empty()).then_some(text);
                let outcome = match status {
                    200..=299 => Outcome::Delivered,
                    410 => Outcome::Gone,
                    _ => Outcome::Retry,
                };
                (outcome, Some(i32::from(status)), excerpt, None)
            }
            Err(err) => (Outcome::Retry, None, None, Some(describe(&err))),
        }
    }

    /// Fans out and sends everything due until nothing is; how many attempts were made.
    pub async fn run_due(&self) -> AppResult<usize> {
        let mut made = 0;
        loop {
            while self.fan_out().await? == FAN_OUT_BATCH {}
            let mut round = 0;
            for lane in join_all((0..LANES).map(|_| self.lane())).await {
                round += lane?;
            }
            if round == 0 {
                return Ok(made);
            }
            made += round;
        }
    }

    /// Claims a batch and sends it; how many deliveries it held.
    async fn lane(&self) -> AppResult<usize> {
        let claimed = self.claim().await?;
        let held = claimed.len();
        if held > 0
            && let Err(err) = self.attempt(claimed).await
        {
            // The claims lapse with their lease; the deliveries are attempted again.
            tracing::warn!(error = ?err, "could not record webhook attempts");
        }
        Ok(held)
    }

    /// Delivers for as long as the process lives: at once when this instance commits events,
    /// else every [`POLL`]. Database errors are logged and retried at the next turn.
    pub async fn runner(self) {
        let publisher = self.publisher.clone();
        loop {
            let woken = publisher.notified();
            if let Err(err) = self.run_due().await {
                tracing::warn!(error = ?err, "could not deliver webhooks");
            }
            let _ = tokio::time::timeout(POLL, woken).await;
        }
    }
}

/// Forgets deliveries settled before `before` with their log, and events no delivery needs
/// any more (hourly housekeeping); how many deliveries.
pub async fn purge(conn: &impl sea_orm::ConnectionTrait, before: DateTime<Utc>) -> AppResult<u64> {
    let backend = conn.get_database_backend();
    let p = if backend == DbBackend::Postgres { "$1" } else { "?" };
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "DELETE FROM webhook_attempts WHERE (organization_id, delivery_id) IN (
               SELECT organization_id, id FROM webhook_deliveries WHERE status <> 'PENDING' AND updated_at < {p})"
        ),
        [before.into()],
    ))
    .await?;
    let deliveries = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!("DELETE FROM webhook_deliveries WHERE status <> 'PENDING' AND updated_at < {p}"),
            [before.into()],
        ))
        .await?;
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "DELETE FROM outbox_events WHERE fanned_out = true AND created_at < {p} AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries d
               WHERE d.organization_id = outbox_events.organization_id AND d.event_id = outbox_events.id)"
        ),
        [before.into()],
    ))
    .await?;
    Ok(deliveries.rows_affected())
}

/// What went wrong with a request, in words for the delivery log (no internal detail).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "the endpoint did not answer in time".to_owned()
    } else if err.is_connect() {
        "could not connect to the endpoint".to_owned()
    } else if err.is_redirect() {
        "the endpoint redirected where webhooks may not go".to_owned()
    } else {
        "the request failed".to_owned()
    };
    // The source chain names refused destinations ("destination not allowed: …").
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        let message = inner.to_string();
        if message.starts_with("destination not allowed") || message.contains("redirects") {
            text = message;
            break;
        }
        source = inner.source();
    }
    text
}

/// Deliveries settled by one statement: their organization, the lease they were claimed
/// under, the status code they were answered with.
type Settled = (Uuid, Option<DateTime<Utc>>, Option<i32>);

/// Ids grouped by their organization (each group once, ids deduplicated), so a statement reads
/// rows by their key: organization first.
fn by_organization(pairs: Vec<(Uuid, Uuid)>) -> std::collections::BTreeMap<Uuid, Vec<Uuid>> {
    let mut out: std::collections::BTreeMap<Uuid, Vec<Uuid>> = std::collections::BTreeMap::new();
    for (organization_id, id) in pairs {
        out.entry(organization_id).or_default().push(id);
    }
    for ids in out.values_mut() {
        ids.sort_unstable();
        ids.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        assert!(retry_after(0).is_none());
        for (i, base) in RETRY_AFTER.iter().enumerate() {
            let wait = retry_after(i as i32 + 1).unwrap().num_milliseconds() as f64 / 1000.0;
            assert!(
                wait >= *base as f64 && wait <= *base as f64 * 1.2 + 0.001,
                "{i}: {wait}"
            );
        }
        assert!(retry_after(RETRY_AFTER.len() as i32 + 1).is_none());
        let total: i64 = RETRY_AFTER.iter().sum();
        assert!((24 * 3600..=30 * 3600).contains(&total), "about a day: {total} s");
    }
}
