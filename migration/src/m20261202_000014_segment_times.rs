//! Times to complete and total scores counted by segment.
//!
//! The segments of a text or boolean attribute's values now count each response's time to
//! complete and total score as well (tenure segments still do not), so a filtered report or a
//! breakdown asking for them reads the folded counts. Counts folded before lack them: every
//! form's segments are emptied, its finished responses marked as not folded, and a fold job
//! enqueued; until it has run, reports count the responses not folded yet from the responses
//! themselves, exactly as before.
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let (folded, unfolded, now) = match manager.get_database_backend() {
            DbBackend::Sqlite => ("1", "0", "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"),
            _ => ("true", "false", "now()"),
        };
        let conn = manager.get_connection();
        conn.execute_unprepared("DELETE FROM segment_tallies").await?;
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

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Counts of times by segment are ignored by code that does not read them.
        Ok(())
    }
}
