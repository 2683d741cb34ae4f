//! Forms and their versions. A version's sections, questions and options are rows of their
//! own; `uid` columns are the stable identities that every version of a form shares, `key` and
//! `value` the stable names that answers, conditions and reports use.
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
                    .table("forms")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(string_len("status", 16))
                    .col(string_len_null("touchpoint", 100))
                    .col(text("title"))
                    .col(string_len("default_locale", 16))
                    .col(text("search_text"))
                    .col(text("settings"))
                    .col(uuid_null("draft_version_id"))
                    .col(uuid_null("published_version_id"))
                    .col(integer("latest_version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(timestamp_with_time_zone_null("archived_at"))
                    .foreign_key(&mut fk(
                        "fk_forms_organization",
                        ("forms", "organization_id"),
                        "organizations",
                    ))
                    .take(),
            )
            .await?;
        for (name, cols, unique) in [
            ("ux_forms_org_id", &["organization_id", "id"][..], true),
            ("ix_forms_org_status", &["organization_id", "status", "id"][..], false),
            (
                "ix_forms_org_touchpoint",
                &["organization_id", "touchpoint", "id"][..],
                false,
            ),
        ] {
            manager.create_index(index(name, "forms", cols, unique)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("form_versions")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("form_id"))
                    .col(integer("number"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(string_len("default_locale", 16))
                    .col(text("locales"))
                    .col(text("title"))
                    .col(text("description"))
                    .col(text("welcome"))
                    .col(text("thank_you"))
                    .col(text("theme"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("fk_form_versions_form", ("form_versions", "form_id"), "forms"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_form_versions_form_number",
                "form_versions",
                &["form_id", "number"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("form_sections")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("version_id"))
                    .col(uuid("uid"))
                    .col(integer("position"))
                    .col(text("title"))
                    .col(text("description"))
                    .foreign_key(&mut fk(
                        "fk_form_sections_version",
                        ("form_sections", "version_id"),
                        "form_versions",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_form_sections_version_uid",
                "form_sections",
                &["version_id", "uid"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_form_sections_org_uid",
                "form_sections",
                &["organization_id", "uid"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("form_questions")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("version_id"))
                    .col(uuid("section_uid"))
                    .col(uuid("uid"))
                    .col(integer("position"))
                    .col(string_len("key", 64))
                    .col(string_len("kind", 32))
                    .col(boolean("required"))
                    .col(string_len_null("metric", 16))
                    .col(text("title"))
                    .col(text("description"))
                    .col(text("rules"))
                    .foreign_key(&mut fk(
                        "fk_form_questions_version",
                        ("form_questions", "version_id"),
                        "form_versions",
                    ))
                    .take(),
            )
            .await?;
        for (name, cols) in [
            ("ux_form_questions_version_uid", &["version_id", "uid"][..]),
            ("ux_form_questions_version_key", &["version_id", "key"][..]),
        ] {
            manager.create_index(index(name, "form_questions", cols, true)).await?;
        }
        manager
            .create_index(index(
                "ix_form_questions_org_uid",
                "form_questions",
                &["organization_id", "uid"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("question_options")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("version_id"))
                    .col(uuid("question_uid"))
                    .col(integer("position"))
                    .col(string_len("value", 64))
                    .col(text("label"))
                    .col(double_null("score"))
                    .foreign_key(&mut fk(
                        "fk_question_options_version",
                        ("question_options", "version_id"),
                        "form_versions",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_question_options_version_question_value",
                "question_options",
                &["version_id", "question_uid", "value"],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "question_options",
            "form_questions",
            "form_sections",
            "form_versions",
            "forms",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
