//! Times to complete and total scores counted by segment.
//!
//! The segments of a text or boolean attribute's values now count each response's time to
//! complete and total score as well (tenure segments still do not), so a filtered report or a
//! breakdown asking for them reads the folded counts. Counts folded before lack them: every
//! form's segments are emptied, its finished responses marked as not folded, and a fold job
//! enqueued; until it has run, reports count the responses not folded yet from the responses
//! themselves, exactly as before.
//!
//! - `ix_segment_tallies_read` replaces `ix_segment_tallies_segment`: the measure before the
//!   day, so that a read of a few measures over a range of days (a filtered report of 90 days,
//!   a series of months) reads only their rows, not every time to complete of every day; the
//!   count in the index as before.
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

const COLUMNS: &str =
    r#""organization_id", "form_id", "dimension", "grain", "segment", "subject", "measure", "day", "value""#;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let (folded, unfolded, now) = match backend {
            DbBackend::Sqlite => ("1", "0", "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"),
            _ => ("true", "false", "now()"),
        };
        let conn = manager.get_connection();
        conn.execute_unprepared("DELETE FROM segment_tallies").await?;
        conn.execute_unprepared(r#"DROP INDEX IF EXISTS "ix_segment_tallies_segment""#)
            .await?;
        conn.execute_unprepared(&match backend {
            DbBackend::Sqlite => {
                format!(r#"CREATE INDEX "ix_segment_tallies_read" ON "segment_tallies" ({COLUMNS}, "count")"#)
            }
            _ => {
                format!(r#"CREATE INDEX "ix_segment_tallies_read" ON "segment_tallies" ({COLUMNS}) INCLUDE ("count")"#)
            }
        })
        .await?;
        conn.execute_unprepared(&format!(
            "UPDATE responses SET segmented = {unfolded} WHERE segmented = {folded}"
        ))
        .await?;
        conn.execute_unprepared(&format!(
            "INSERT INTO jobs (organization_id, kind, target_id, payload, generation, attempts, run_at, created_at, updated_at) \
             SELECT organization_id, 'FOLD_SEGMENTS', id, '{{}}', 1, 0, {now}, {now}, {now} FROM forms \
             WHERE EXISTS (SELECT 1 FROM responses WHERE responses.form_id = forms.id) \
             ON CONFLICT DO NOTHING"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Counts of times by segment are ignored by code that does not read them.
        let old =
            r#""organization_id", "form_id", "dimension", "grain", "segment", "subject", "day", "measure", "value""#;
        let conn = manager.get_connection();
        conn.execute_unprepared(r#"DROP INDEX IF EXISTS "ix_segment_tallies_read""#)
            .await?;
        conn.execute_unprepared(&match manager.get_database_backend() {
            DbBackend::Sqlite => {
                format!(r#"CREATE INDEX "ix_segment_tallies_segment" ON "segment_tallies" ({old}, "count")"#)
            }
            _ => format!(r#"CREATE INDEX "ix_segment_tallies_segment" ON "segment_tallies" ({old}) INCLUDE ("count")"#),
        })
        .await?;
        Ok(())
    }
}
