//! Attribute snapshots found by value and completion day.
//!
//! - `response_attributes.completed_day`: the local day the response was finished on, copied
//!   from the response when the snapshot is taken (at completion) and moved with it when the
//!   organization's time zone changes. A filter such as `plan = "pro"` completed in the last 90
//!   days then reads the snapshots of that value and those days from one index range, instead
//!   of checking the snapshot of every response the form finished in the period.
//! - `ix_response_attributes_form_value` (form, name, text value, day, response) replaces
//!   `ix_response_attributes_form_name` (form, name, response), which no query needs once the
//!   primary key serves lookups by response: the response id last, so the range alone answers
//!   which responses a text value selects.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("response_attributes")
                    .add_column(date_null("completed_day"))
                    .take(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                r#"UPDATE "response_attributes" SET "completed_day" = (SELECT "r"."completed_day" FROM "responses" "r" WHERE "r"."id" = "response_attributes"."response_id")"#,
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_response_attributes_form_name")
                    .table("response_attributes")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_response_attributes_form_value",
                "response_attributes",
                &["form_id", "name", "text_value", "completed_day", "response_id"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_response_attributes_form_value")
                    .table("response_attributes")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_response_attributes_form_name",
                "response_attributes",
                &["form_id", "name", "response_id"],
                false,
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("response_attributes")
                    .drop_column("completed_day")
                    .take(),
            )
            .await
    }
}
