//! Breakdowns by segment without scanning every response.
//!
//! - `segment_tallies`: a form's counts split by a respondent segment: each value an attribute
//!   had at completion (text and boolean attributes) and each whole month of tenure (date
//!   attributes), by day, month and all time like the tallies. Written by the fold of finished
//!   responses (the job `FOLD_SEGMENTS`), never on the write path.
//! - `responses.segmented`: whether a finished response is folded in; the partial index
//!   `ix_responses_form_unsegmented` finds the few that are not, which reports read from the
//!   responses themselves. Every form's responses start unfolded: a fold job is enqueued for
//!   each form that has any.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .alter_table(
                Table::alter()
                    .table("responses")
                    .add_column(boolean("segmented").default(false))
                    .take(),
            )
            .await?;
        let unfolded = match backend {
            DbBackend::Sqlite => "\"segmented\" = 0",
            _ => "\"segmented\" = false",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX \"ix_responses_form_unsegmented\" ON \"responses\" (\"form_id\", \"status\", \"completed_day\") WHERE {unfolded}"
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("segment_tallies")
                    .col(uuid("organization_id"))
                    .col(uuid("form_id"))
                    .col(string_len("dimension", 80))
                    .col(small_integer("grain"))
                    .col(date("day"))
                    .col(string_len("subject", 64))
                    .col(string_len("measure", 16))
                    .col(text("value"))
                    .col(text("segment"))
                    .col(big_integer("count"))
                    .primary_key(
                        Index::create()
                            .col("organization_id")
                            .col("form_id")
                            .col("dimension")
                            .col("grain")
                            .col("subject")
                            .col("day")
                            .col("measure")
                            .col("value")
                            .col("segment"),
                    )
                    .take(),
            )
            .await?;
        let now = match backend {
            DbBackend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')",
            _ => "now()",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO jobs (organization_id, kind, target_id, payload, generation, attempts, run_at, created_at, updated_at) \
                 SELECT organization_id, 'FOLD_SEGMENTS', id, '{{}}', 1, 0, {now}, {now}, {now} FROM forms \
                 WHERE EXISTS (SELECT 1 FROM responses WHERE responses.form_id = forms.id) \
                 ON CONFLICT DO NOTHING"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM jobs WHERE kind = 'FOLD_SEGMENTS'")
            .await?;
        manager
            .drop_table(Table::drop().table("segment_tallies").if_exists().take())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_responses_form_unsegmented")
                    .table("responses")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table("responses").drop_column("segmented").take())
            .await
    }
}
