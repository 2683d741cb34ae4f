//! Counts by segment read from the index alone.
//!
//! - `ix_segment_tallies_segment`: a dimension's rows of a few segments (a filter naming one
//!   attribute's values) over many days, the segment before the subject and the day so they
//!   lie together, and the count in the index (PostgreSQL: `INCLUDE`; SQLite: the last
//!   column) so a read never visits the table, whose rows lie in the order the fold wrote them.
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str =
    r#""organization_id", "form_id", "dimension", "grain", "segment", "subject", "day", "measure", "value""#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Sqlite => {
                format!(r#"CREATE INDEX "ix_segment_tallies_segment" ON "segment_tallies" ({COLUMNS}, "count")"#)
            }
            _ => format!(
                r#"CREATE INDEX "ix_segment_tallies_segment" ON "segment_tallies" ({COLUMNS}) INCLUDE ("count")"#
            ),
        };
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_segment_tallies_segment")
                    .table("segment_tallies")
                    .to_owned(),
            )
            .await
    }
}
