//! The respondent attribute catalogue: declared names and types per organization.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

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
                    .foreign_key(&mut fk(
                        "fk_respondent_attributes_organization",
                        ("respondent_attributes", "organization_id"),
                        "organizations",
                    ))
                    .take(),
            )
            .await?;
        let table = "respondent_attributes";
        manager
            .create_index(index(
                "ux_respondent_attributes_org_name",
                table,
                &["organization_id", "name"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ux_respondent_attributes_org_id",
                table,
                &["organization_id", "id"],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("respondent_attributes").if_exists().take())
            .await
    }
}
