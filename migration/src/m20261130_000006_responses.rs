//! Responses and their typed answers, the idempotency keys of public writes, the counters that
//! enforce response quotas, and the public identifier by which respondents reach a form.
//!
//! Answers are rows with typed columns (number, text, date, boolean) and a child row per chosen
//! option, never one JSON blob, so filters and reports are SQL over indexed columns. The form
//! and completion time are copied into answer rows so those indexes serve reports directly.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("forms")
                    .add_column(string_len_null("public_id", 32))
                    .take(),
            )
            .await?;
        // Forms created before this migration get a random public identifier.
        let backfill = match manager.get_database_backend() {
            DbBackend::Sqlite => "UPDATE forms SET public_id = lower(hex(randomblob(8))) WHERE public_id IS NULL",
            _ => "UPDATE forms SET public_id = substr(md5(random()::text || id::text), 1, 16) WHERE public_id IS NULL",
        };
        manager.get_connection().execute_unprepared(backfill).await?;
        manager
            .create_index(index("ux_forms_public_id", "forms", &["public_id"], true))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("responses")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("form_id"))
                    .col(uuid("version_id"))
                    .col(uuid_null("respondent_id"))
                    .col(string_len("status", 16))
                    .col(string_len("channel", 16))
                    .col(string_len_null("locale", 35))
                    .col(string_len_null("user_agent", 500))
                    .col(string_len_null("device_id", 200))
                    .col(string_len_null("limit_key", 250))
                    .col(uuid_null("interviewer_id"))
                    .col(uuid_null("api_key_id"))
                    .col(string_len_null("ip_hash", 64))
                    .col(double_null("latitude"))
                    .col(double_null("longitude"))
                    .col(double_null("total_score"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(integer_null("duration_seconds"))
                    .foreign_key(&mut fk("fk_responses_form", ("responses", "form_id"), "forms"))
                    .take(),
            )
            .await?;
        for (name, cols, unique) in [
            ("ux_responses_org_id", &["organization_id", "id"][..], true),
            // One response per respondent or device, when the form asks for it.
            ("ux_responses_form_limit", &["form_id", "limit_key"][..], true),
            (
                "ix_responses_form_status_completed",
                &["form_id", "status", "completed_at"][..],
                false,
            ),
            ("ix_responses_respondent", &["respondent_id"][..], false),
        ] {
            manager.create_index(index(name, "responses", cols, unique)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("answers")
                    .col(uuid("response_id"))
                    .col(string_len("question_key", 64))
                    .col(uuid("organization_id"))
                    .col(uuid("form_id"))
                    .col(string_len("kind", 32))
                    .col(double_null("number_value"))
                    .col(text_null("text_value"))
                    .col(date_null("date_value"))
                    .col(boolean_null("bool_value"))
                    .col(double_null("score"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .primary_key(Index::create().col("response_id").col("question_key"))
                    .foreign_key(&mut fk("fk_answers_response", ("answers", "response_id"), "responses"))
                    .take(),
            )
            .await?;
        for (name, cols) in [
            (
                "ix_answers_form_key_number",
                &["form_id", "question_key", "number_value"][..],
            ),
            (
                "ix_answers_form_key_date",
                &["form_id", "question_key", "date_value"][..],
            ),
            (
                "ix_answers_form_key_completed",
                &["form_id", "question_key", "completed_at"][..],
            ),
        ] {
            manager.create_index(index(name, "answers", cols, false)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("answer_choices")
                    .col(uuid("response_id"))
                    .col(string_len("question_key", 64))
                    .col(string_len("value", 64))
                    .col(uuid("organization_id"))
                    .col(uuid("form_id"))
                    .col(double_null("score"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .primary_key(Index::create().col("response_id").col("question_key").col("value"))
                    .foreign_key(&mut fk(
                        "fk_answer_choices_response",
                        ("answer_choices", "response_id"),
                        "responses",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_answer_choices_form_key_value",
                "answer_choices",
                &["form_id", "question_key", "value", "completed_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(string_len("scope", 80))
                    .col(string_len("key", 200))
                    .col(uuid("organization_id"))
                    .col(string_len("request_hash", 64))
                    .col(text("result"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("scope").col("key"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_idempotency_keys_created",
                "idempotency_keys",
                &["created_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("form_counters")
                    .col(pk_uuid("form_id"))
                    .col(big_integer("completed"))
                    .foreign_key(&mut fk("fk_form_counters_form", ("form_counters", "form_id"), "forms"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "form_counters",
            "idempotency_keys",
            "answer_choices",
            "answers",
            "responses",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        manager
            .drop_index(Index::drop().name("ux_forms_public_id").table("forms").to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table("forms").drop_column("public_id").take())
            .await
    }
}
