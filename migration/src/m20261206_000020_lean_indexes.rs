//! Indexes that hold only the rows their queries look for: each entry is written by every
//! submission and stored for every response, whether or not a query ever finds it.
//!
//! - `ix_answers_form_key_number`, `ix_answers_form_key_date`: the numbers and the dates of a
//!   form's answers, for filters that compare them (a comparison implies a value, so both
//!   backends use the partial index); text, choice and yes/no answers have no entry.
//! - `ix_responses_respondent`: a respondent's responses (erasure, a respondent's history);
//!   anonymous responses have no entry.
//! - `ux_responses_form_limit`: one response per respondent or device where the form limits
//!   them; the conflict target of such an insert names the same predicate. Responses without
//!   a limit key have no entry.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, table, columns, unique, the predicate of the partial index.
const LEAN: [(&str, &str, &str, bool, &str); 4] = [
    (
        "ix_answers_form_key_number",
        "answers",
        "\"form_id\", \"question_key\", \"number_value\"",
        false,
        "\"number_value\" IS NOT NULL",
    ),
    (
        "ix_answers_form_key_date",
        "answers",
        "\"form_id\", \"question_key\", \"date_value\"",
        false,
        "\"date_value\" IS NOT NULL",
    ),
    (
        "ix_responses_respondent",
        "responses",
        "\"respondent_id\"",
        false,
        "\"respondent_id\" IS NOT NULL",
    ),
    (
        "ux_responses_form_limit",
        "responses",
        "\"form_id\", \"limit_key\"",
        true,
        "\"limit_key\" IS NOT NULL",
    ),
];

async fn rebuild(manager: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for (name, table, columns, unique, predicate) in LEAN {
        let unique = if unique { "UNIQUE " } else { "" };
        let predicate = if partial {
            format!(" WHERE {predicate}")
        } else {
            String::new()
        };
        // One call, so one connection of a SQLite pool runs both (another could still read
        // the schema from before the drop).
        db.execute_unprepared(&format!(
            "DROP INDEX IF EXISTS \"{name}\"; CREATE {unique}INDEX \"{name}\" ON \"{table}\" ({columns}){predicate}"
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, false).await
    }
}
