//! Times to complete kept by bin, with their sums, and their exact seconds apart.
//!
//! A time to complete was counted once per second value in each day, month and all time: a
//! busy form's 90-day period read about 10,000 rows of them among 12,000. Now (see the
//! server's `report::times`) each is counted by bin (`DURATION_BIN`, the bin's lower bound as
//! the value: 8 bins per doubling), by sums (`DURATION_SUM`: the seconds, and their squares in
//! two 32-bit parts), and exactly (`DURATION`) in grains of their own (3, 4, 5 for all time,
//! months and days), under their bin as the subject, read only for the bins a median lies in.
//!
//! This rewrites the counts already kept, in one transaction. The bin is computed here in SQL
//! as the server computes it (the value with all but its 4 leading bits cleared, itself below
//! 16). On PostgreSQL the subject index also carries the value and the count, so the exact
//! seconds of a bin are read from the index alone (SQLite's already does).
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The lower bound of the bin of `v` (an integer expression), as `report::times::bin`.
fn bin(v: &str) -> String {
    let mut sql = format!("CASE WHEN {v} < 16 THEN {v}");
    for k in 4..=40u32 {
        sql.push_str(&format!(
            " WHEN {v} < {} THEN {v} - {v} % {}",
            1u64 << (k + 1),
            1u64 << (k - 3)
        ));
    }
    sql.push_str(&format!(" ELSE {v} END"));
    sql
}

/// The old exact rows (grains 0 to 2) with their seconds `v` and bin `lower`.
fn exact_rows(backend: DbBackend) -> String {
    let integer = match backend {
        DbBackend::Postgres => "BIGINT",
        _ => "INTEGER",
    };
    format!(
        r#"(SELECT "form_id", "grain", "day", "value", "slot", "count", "v", {lower} AS "lower" FROM
        (SELECT "form_id", "grain", "day", "value", "slot", "count", CAST("value" AS {integer}) AS "v"
         FROM "tallies" WHERE "measure" = 'DURATION' AND "grain" < 3) AS "d") AS "b""#,
        lower = bin(r#""v""#)
    )
}

const COLUMNS: &str = r#""form_id", "grain", "day", "subject", "measure", "value", "slot", "count""#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        let rows = exact_rows(backend);
        let sum = |amount: &str, value: &str| {
            format!(
                r#"INSERT INTO "tallies" ({COLUMNS}) SELECT "form_id", "grain", "day", '', 'DURATION_SUM', '{value}', "slot",
                CAST(SUM("count" * ({amount})) AS BIGINT) FROM {rows} GROUP BY "form_id", "grain", "day", "slot""#
            )
        };
        let mut statements = vec![
            format!(
                r#"INSERT INTO "tallies" ({COLUMNS}) SELECT "form_id", "grain" + 3, "day", CAST("lower" AS TEXT), 'DURATION', "value", 0,
                CAST(SUM("count") AS BIGINT) FROM {rows} GROUP BY "form_id", "grain", "day", "lower", "value""#
            ),
            format!(
                r#"INSERT INTO "tallies" ({COLUMNS}) SELECT "form_id", "grain", "day", '', 'DURATION_BIN', CAST("lower" AS TEXT), "slot",
                CAST(SUM("count") AS BIGINT) FROM {rows} GROUP BY "form_id", "grain", "day", "lower", "slot""#
            ),
            sum(r#""v""#, "1"),
            sum(r#"("v" * "v") / 4294967296"#, "2h"),
            sum(r#"("v" * "v") % 4294967296"#, "2l"),
            r#"DELETE FROM "tallies" WHERE "measure" = 'DURATION' AND "grain" < 3"#.to_owned(),
        ];
        if backend == DbBackend::Postgres {
            statements.push(r#"DROP INDEX IF EXISTS "ix_tallies_form_subject""#.to_owned());
            statements.push(
                r#"CREATE INDEX "ix_tallies_form_subject" ON "tallies" ("form_id", "grain", "subject", "measure", "day") INCLUDE ("value", "count")"#
                    .to_owned(),
            );
        }
        for statement in statements {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        let mut statements = vec![
            format!(
                r#"INSERT INTO "tallies" ({COLUMNS}) SELECT "form_id", "grain" - 3, "day", '', 'DURATION', "value", 0,
                CAST(SUM("count") AS BIGINT) FROM "tallies" WHERE "grain" >= 3 GROUP BY "form_id", "grain", "day", "value""#
            ),
            r#"DELETE FROM "tallies" WHERE "grain" >= 3 OR "measure" IN ('DURATION_BIN', 'DURATION_SUM')"#.to_owned(),
        ];
        if backend == DbBackend::Postgres {
            statements.push(r#"DROP INDEX IF EXISTS "ix_tallies_form_subject""#.to_owned());
            statements.push(
                r#"CREATE INDEX "ix_tallies_form_subject" ON "tallies" ("form_id", "grain", "subject", "measure", "day")"#
                    .to_owned(),
            );
        }
        for statement in statements {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
