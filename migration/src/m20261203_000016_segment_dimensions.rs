//! A bound on the segments of one attribute.
//!
//! `segment_dimensions`: per form and attribute whose values are counted by segment, the values
//! folded so far, or that it has too many (`overflowed`). An attribute with more distinct
//! values than a fold admits (a customer's name or email, say) would add a form's counts again
//! for nearly every response; once past the bound, its segments are deleted and no fold counts
//! it again: breakdowns and filters by it read the responses, exactly as before it was folded.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("segment_dimensions")
                    .col(uuid("organization_id"))
                    .col(uuid("form_id"))
                    .col(string_len("dimension", 80))
                    .col(text("segments"))
                    .col(boolean("overflowed"))
                    .primary_key(Index::create().col("organization_id").col("form_id").col("dimension"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("segment_dimensions").if_exists().take())
            .await
    }
}
