//! Report counts off the write path.
//!
//! `pending_counts`: one small row per response whose counts are not in the tallies yet,
//! written by the transaction that stores the response instead of the tallies' shared rows.
//! A fold adds a batch of them to the tallies and deletes them in one transaction; reports
//! read the tallies plus these responses aggregated on the fly. `changes` counts the changes
//! the row stands for in the form's freshness stamp (the fold moves them into the tallies).
//! Keyed by organization first (ready to be sharded by it); the index serves the reads and
//! the fold, both per form.
//!
//! Also: a response completed after it was started had its local completion day left unset,
//! so filtered reports and series missed it; the forms with such responses get a rebuild of
//! their counts, which sets every response's day (a durable job, run by the server).
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("pending_counts")
                    .col(uuid("organization_id"))
                    .col(uuid("response_id"))
                    .col(uuid("form_id"))
                    .col(integer("changes"))
                    .primary_key(Index::create().col("organization_id").col("response_id"))
                    .foreign_key(&mut fk(
                        "fk_pending_counts_form",
                        ("pending_counts", "form_id"),
                        "forms",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_pending_counts_form",
                "pending_counts",
                &["form_id", "response_id"],
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
                 SELECT DISTINCT organization_id, 'REBUILD_COUNTS', form_id, '{{}}', 1, 0, {now}, {now}, {now} FROM responses \
                 WHERE completed_at IS NOT NULL AND completed_day IS NULL \
                 ON CONFLICT (organization_id, kind, target_id) DO NOTHING"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("pending_counts").to_owned())
            .await
    }
}
