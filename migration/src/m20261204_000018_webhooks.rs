//! Events and webhooks.
//!
//! - `outbox_events`: what happened (a response completed, a form published…), written in the
//!   transaction of the change with the body partners receive; `fanned_out` turns true once a
//!   dispatcher has made a delivery of it for every endpoint subscribed at that moment.
//! - `webhook_endpoints`: where an organization wants events, which ones, and the secret that
//!   signs them (the previous secret also signs until `previous_secret_until`, after a rotation).
//! - `webhook_deliveries`: one event to one endpoint: pending until delivered or given up,
//!   attempted with backoff, held by one dispatcher at a time (`locked_until`).
//! - `webhook_attempts`: the log, one row per attempt (status, latency, response excerpt).
//!
//! Every table is keyed by organization first (ready to be sharded by it). The partial indexes
//! hold only the rows dispatchers look for: events not fanned out, deliveries pending.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbox_events")
                    .col(uuid("organization_id"))
                    .col(uuid("id"))
                    .col(string_len("event_type", 40))
                    .col(uuid("subject_id"))
                    .col(text("body"))
                    .col(boolean("fanned_out"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("organization_id").col("id"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_endpoints")
                    .col(uuid("organization_id"))
                    .col(uuid("id"))
                    .col(text("url"))
                    .col(string_len_null("description", 200))
                    .col(text("events"))
                    .col(boolean("enabled"))
                    .col(text_null("disabled_reason"))
                    .col(text("secret"))
                    .col(text_null("previous_secret"))
                    .col(timestamp_with_time_zone_null("previous_secret_until"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("organization_id").col("id"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(uuid("organization_id"))
                    .col(uuid("id"))
                    .col(uuid("endpoint_id"))
                    .col(uuid("event_id"))
                    .col(string_len("event_type", 40))
                    .col(uuid("subject_id"))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(integer_null("last_status"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("organization_id").col("id"))
                    .take(),
            )
            .await?;
        // One delivery per event and endpoint: a fan-out run twice makes no second one.
        manager
            .create_index(index(
                "ux_webhook_deliveries_event",
                "webhook_deliveries",
                &["organization_id", "endpoint_id", "event_id"],
                true,
            ))
            .await?;
        // An endpoint's deliveries newest first, and the ordering check per subject.
        manager
            .create_index(index(
                "ix_webhook_deliveries_subject",
                "webhook_deliveries",
                &["organization_id", "endpoint_id", "subject_id", "event_id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_attempts")
                    .col(uuid("organization_id"))
                    .col(uuid("id"))
                    .col(uuid("delivery_id"))
                    .col(integer("attempt"))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .col(integer_null("status_code"))
                    .col(integer("latency_ms"))
                    .col(text_null("response_excerpt"))
                    .col(text_null("error"))
                    .primary_key(Index::create().col("organization_id").col("id"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_webhook_attempts_delivery",
                "webhook_attempts",
                &["organization_id", "delivery_id", "attempt"],
                false,
            ))
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "CREATE INDEX ix_outbox_events_pending ON outbox_events (created_at) WHERE fanned_out = false",
        )
        .await?;
        conn.execute_unprepared(
            "CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_endpoints",
            "outbox_events",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
