//! Lists of forms and responses sorted by last change (a dashboard's "recently changed", a
//! partner's incremental sync by `updatedSince`): an index per list on the time and the id
//! that breaks ties, so a page is an index range whatever the list's length.
use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "idx_forms_updated",
                "forms",
                &["organization_id", "updated_at", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_responses_updated",
                "responses",
                &["form_id", "updated_at", "id"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [("idx_responses_updated", "responses"), ("idx_forms_updated", "forms")] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
