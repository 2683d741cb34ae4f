//! The respondent attribute catalogue: declared names and types per organization.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("respondent_attributes")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(string_len("name", 64))
                    .col(string_len("data_type", 16))
                    .col(string_len("label", 200))
                    .col(text("description"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("retired_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_respondent_attributes_organization")
                            .from("respondent_attributes", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_respondent_attributes_org_name")
                    .table("respondent_attributes")
                    .col("organization_id")
                    .col("name")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_respondent_attributes_org_id")
                    .table("respondent_attributes")
                    .col("organization_id")
                    .col("id")
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("respondent_attributes").if_exists().take())
            .await
    }
}
