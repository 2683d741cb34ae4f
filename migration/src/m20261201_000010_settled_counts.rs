//! Faster periods and filtered reports.
//!
//! - Every published form gets its daily settling of past counts (the job `SETTLE_COUNTS`):
//!   the counts of past days, spread over slots while they were being written, are folded into
//!   one row each, so a period reads a row per count instead of one per slot.
//! - `ix_responses_form_started`: the responses of a form started in a period, which reports
//!   over a filter read with those finished in it.
//! - `ix_tallies_form_subject`: the counts of a few questions over many days (a series of
//!   NPS) without reading every question's rows of those days, nor the many times to complete
//!   of each day when they are not asked for. Counts change in place (the
//!   column is not indexed), so the index grows only with new rows.
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "ix_responses_form_started",
                "responses",
                &["form_id", "started_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_tallies_form_subject",
                "tallies",
                &["form_id", "grain", "subject", "measure", "day"],
                false,
            ))
            .await?;
        let now = match manager.get_database_backend() {
            DbBackend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')",
            _ => "now()",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO jobs (organization_id, kind, target_id, payload, generation, attempts, run_at, created_at, updated_at) \
                 SELECT organization_id, 'SETTLE_COUNTS', id, '{{}}', 1, 0, {now}, {now}, {now} FROM forms \
                 WHERE published_at IS NOT NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM jobs WHERE kind = 'SETTLE_COUNTS'")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_tallies_form_subject")
                    .table("tallies")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_responses_form_started")
                    .table("responses")
                    .to_owned(),
            )
            .await
    }
}
