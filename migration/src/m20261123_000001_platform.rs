//! Organizations, staff accounts, sessions and API keys.
//!
//! Every tenant-owned table carries `organization_id` and its indexes start with it, so tenancy
//! is checkable in SQL and the tables can be distributed by tenant.
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
                    .table("organizations")
                    .col(pk_uuid("id"))
                    .col(string_len("name", 200))
                    .col(string_len("time_zone", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(pk_uuid("id"))
                    .col(string_len("email", 254))
                    .col(string_len("name", 200))
                    .col(string_null("password_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ux_users_email", "users", &["email"], true))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("memberships")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("user_id"))
                    .col(string_len("role", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_memberships_organization",
                        ("memberships", "organization_id"),
                        "organizations",
                    ))
                    .foreign_key(&mut fk("fk_memberships_user", ("memberships", "user_id"), "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_memberships_org_user",
                "memberships",
                &["organization_id", "user_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ux_memberships_org_id",
                "memberships",
                &["organization_id", "id"],
                true,
            ))
            .await?;
        manager
            .create_index(index("ix_memberships_user", "memberships", &["user_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("invitations")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("user_id"))
                    .col(string_len("token_hash", 64))
                    .col(uuid_null("invited_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("accepted_at"))
                    .foreign_key(&mut fk(
                        "fk_invitations_organization",
                        ("invitations", "organization_id"),
                        "organizations",
                    ))
                    .foreign_key(&mut fk("fk_invitations_user", ("invitations", "user_id"), "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ux_invitations_token", "invitations", &["token_hash"], true))
            .await?;
        manager
            .create_index(index(
                "ix_invitations_org_user",
                "invitations",
                &["organization_id", "user_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut fk(
                        "fk_sessions_organization",
                        ("sessions", "organization_id"),
                        "organizations",
                    ))
                    .foreign_key(&mut fk("fk_sessions_user", ("sessions", "user_id"), "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_sessions_org_user",
                "sessions",
                &["organization_id", "user_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("refresh_tokens")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("session_id"))
                    .col(string_len("token_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut fk(
                        "fk_refresh_tokens_organization",
                        ("refresh_tokens", "organization_id"),
                        "organizations",
                    ))
                    .foreign_key(&mut fk(
                        "fk_refresh_tokens_session",
                        ("refresh_tokens", "session_id"),
                        "sessions",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ux_refresh_tokens_hash", "refresh_tokens", &["token_hash"], true))
            .await?;
        manager
            .create_index(index(
                "ix_refresh_tokens_org_session",
                "refresh_tokens",
                &["organization_id", "session_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(string_len("name", 200))
                    .col(string_len("prefix", 32))
                    .col(string_len("secret_hash", 64))
                    .col(text("scopes"))
                    .col(integer("rate_limit_per_minute"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut fk(
                        "fk_api_keys_organization",
                        ("api_keys", "organization_id"),
                        "organizations",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ux_api_keys_prefix", "api_keys", &["prefix"], true))
            .await?;
        manager
            .create_index(index(
                "ux_api_keys_org_id",
                "api_keys",
                &["organization_id", "id"],
                true,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "api_keys",
            "refresh_tokens",
            "sessions",
            "invitations",
            "memberships",
            "users",
            "organizations",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
