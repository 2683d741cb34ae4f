//! Analytics over the stored responses, and durable background work.
//!
//! - `responses.completed_day`: the local day (in the organization's time zone) a response was
//!   completed or disqualified on, so filtered reports and series group by a column on SQLite
//!   and PostgreSQL alike; rewritten by the counts rebuild when the zone changes.
//! - `response_attributes`: the respondent's attribute values as they were when the response
//!   was completed, typed like the catalogue, so "NPS by plan" stays true after a plan changes.
//! - `jobs`: background work enqueued in the transaction that causes it, claimed by one
//!   instance at a time (a lease), retried with backoff, resumed after a restart. One row per
//!   (organization, kind, target): a second request for the same work while the first waits
//!   merges into it. Every form gets a counts rebuild here: reports now also count each
//!   response's outcome on the day it started (the cohort a completion rate is read from),
//!   and every stored response gets its local completion day.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("responses")
                    .add_column(date_null("completed_day"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_responses_form_status_day",
                "responses",
                &["form_id", "status", "completed_day"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("response_attributes")
                    .col(uuid("organization_id"))
                    .col(uuid("response_id"))
                    .col(string_len("name", 64))
                    .col(uuid("form_id"))
                    .col(text_null("text_value"))
                    .col(double_null("number_value"))
                    .col(boolean_null("bool_value"))
                    .col(date_null("date_value"))
                    .primary_key(Index::create().col("organization_id").col("response_id").col("name"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_response_attributes_form_name",
                "response_attributes",
                &["form_id", "name", "response_id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("jobs")
                    .col(uuid("organization_id"))
                    .col(string_len("kind", 32))
                    .col(uuid("target_id"))
                    .col(text("payload"))
                    .col(integer("generation"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("run_at"))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("organization_id").col("kind").col("target_id"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ix_jobs_run_at", "jobs", &["run_at"], false))
            .await?;
        let now = match manager.get_database_backend() {
            DbBackend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')",
            _ => "now()",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO jobs (organization_id, kind, target_id, payload, generation, attempts, run_at, created_at, updated_at) \
                 SELECT organization_id, 'REBUILD_COUNTS', id, '{{}}', 1, 0, {now}, {now}, {now} FROM forms"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("jobs").to_owned()).await?;
        manager
            .drop_table(Table::drop().table("response_attributes").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_responses_form_status_day")
                    .table("responses")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table("responses").drop_column("completed_day").take())
            .await
    }
}
