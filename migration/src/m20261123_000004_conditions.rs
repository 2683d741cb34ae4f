//! Conditions (branching logic) stored with each form version: show-if and require-if on
//! questions; show-if, skips, end and disqualify rules on sections. Each condition is kept as
//! its canonical text, which parses back to the same tree.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in ["show_if", "require_if"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("form_questions")
                        .add_column(text_null(column))
                        .take(),
                )
                .await?;
        }
        for column in ["show_if", "end_if", "disqualify_if"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("form_sections")
                        .add_column(text_null(column))
                        .take(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("form_sections")
                    .add_column(text("skips").default("[]"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["show_if", "require_if"] {
            manager
                .alter_table(Table::alter().table("form_questions").drop_column(column).take())
                .await?;
        }
        for column in ["show_if", "end_if", "disqualify_if", "skips"] {
            manager
                .alter_table(Table::alter().table("form_sections").drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}
