//! Tallies: the counts reports read instead of the responses themselves, kept per local day,
//! month and in all, so that a report costs the same at a thousand or a million responses.
//! Answers get their text normalised for search (open-text lists); reports are saved
//! definitions (forms, metrics, a date range) that staff and partners call by id.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tallies")
                    .col(uuid("form_id"))
                    .col(small_integer("grain"))
                    .col(date("day"))
                    .col(string_len("subject", 64))
                    .col(string_len("measure", 16))
                    .col(string_len("value", 64))
                    .col(small_integer("slot"))
                    .col(big_integer("count"))
                    .primary_key(
                        Index::create()
                            .col("form_id")
                            .col("grain")
                            .col("day")
                            .col("subject")
                            .col("measure")
                            .col("value")
                            .col("slot"),
                    )
                    .foreign_key(&mut fk("fk_tallies_form", ("tallies", "form_id"), "forms"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("reports")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(string_len("name", 200))
                    .col(text("definition"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_reports_organization",
                        ("reports", "organization_id"),
                        "organizations",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(crate::helpers::index(
                "ux_reports_org_id",
                "reports",
                &["organization_id", "id"],
                true,
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("answers")
                    .add_column(text_null("search_text"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("answers").drop_column("search_text").take())
            .await?;
        for table in ["reports", "tallies"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
