//! Respondents: the customers an organization knows, unique by their external (CRM) id, with
//! typed attribute values in their own rows so that filters are SQL over indexed columns.
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
                    .table("respondents")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(string_len_null("external_id", 200))
                    .col(string_len_null("email", 320))
                    .col(string_len_null("phone", 32))
                    .col(string_len_null("name", 200))
                    .col(string_len_null("locale", 35))
                    .col(boolean("opted_out"))
                    .col(text("search_text"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_respondents_organization",
                        ("respondents", "organization_id"),
                        "organizations",
                    ))
                    .take(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_respondents_org_external_id",
                &["organization_id", "external_id"][..],
                true,
            ),
            ("ux_respondents_org_id", &["organization_id", "id"][..], true),
            ("ix_respondents_org_email", &["organization_id", "email"][..], false),
        ] {
            manager.create_index(index(name, "respondents", cols, unique)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("respondent_attribute_values")
                    .col(uuid("respondent_id"))
                    .col(uuid("organization_id"))
                    .col(string_len("name", 64))
                    .col(string_len_null("text_value", 1000))
                    .col(double_null("number_value"))
                    .col(boolean_null("bool_value"))
                    .col(date_null("date_value"))
                    .primary_key(Index::create().col("respondent_id").col("name"))
                    .foreign_key(&mut fk(
                        "fk_respondent_attribute_values_respondent",
                        ("respondent_attribute_values", "respondent_id"),
                        "respondents",
                    ))
                    .take(),
            )
            .await?;
        let table = "respondent_attribute_values";
        for (name, column) in [
            ("ix_respondent_attribute_values_text", "text_value"),
            ("ix_respondent_attribute_values_number", "number_value"),
            ("ix_respondent_attribute_values_bool", "bool_value"),
            ("ix_respondent_attribute_values_date", "date_value"),
        ] {
            manager
                .create_index(index(name, table, &["organization_id", "name", column], false))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["respondent_attribute_values", "respondents"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
