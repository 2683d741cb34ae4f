//! Durable background work: a job is a row, written in the transaction that causes it, so work
//! that was asked for is never lost to a crash or a restart.
//!
//! Any instance runs due jobs: a runner claims one at a time by taking a lease on its row (on
//! PostgreSQL the claim skips rows another runner is claiming, `FOR UPDATE SKIP LOCKED`; on
//! SQLite the single writer orders claims), runs it, and deletes the row. A failure is recorded
//! (`last_error`) and retried with exponential backoff and jitter; a runner that dies leaves
//! its lease to expire, and another instance resumes the work. One row per (organization,
//! kind, target): asking again for work that waits merges into it, and asking while it runs
//! raises its generation, so the run in progress does not settle the new request and the work
//! runs once more afterwards. Work on one target therefore never runs twice at once.
use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::job;
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Statement,
    sea_query::{Expr, OnConflict},
};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{clock::Clock, db::Db, error::AppResult};

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Recount a form's tallies and local completion days in its organization's time zone.
    RebuildCounts,
    /// Fold a form's counts of past days into one row each, then again a day later (see
    /// `report::tally::settle`); started when the form is first published.
    SettleCounts,
    /// Fold a form's finished responses into its counts by segment (see
    /// `report::segment::fold`); asked for by a breakdown that read many unfolded ones.
    FoldSegments,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::RebuildCounts, Kind::SettleCounts, Kind::FoldSegments];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RebuildCounts => "REBUILD_COUNTS",
            Kind::SettleCounts => "SETTLE_COUNTS",
            Kind::FoldSegments => "FOLD_SEGMENTS",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// How long a claimed job is held before another runner may take it over.
pub const LEASE: Duration = Duration::from_secs(15 * 60);
/// Longest wait between two attempts of a failing job.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How often an idle runner looks for due jobs enqueued by other instances.
pub const POLL: Duration = Duration::from_secs(1);

/// Asks for `kind` on `target` of `organization_id`, due at `now`, in the caller's
/// transaction. Merges into the same work already waiting or running (see the module).
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    organization_id: Uuid,
    kind: Kind,
    target_id: Uuid,
    payload: serde_json::Value,
) -> AppResult<()> {
    enqueue_at(txn, now, now, organization_id, kind, target_id, payload).await
}

/// [`enqueue`], due at `run_at` (the work waiting or running is asked for again, due then).
pub async fn enqueue_at(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
    organization_id: Uuid,
    kind: Kind,
    target_id: Uuid,
    payload: serde_json::Value,
) -> AppResult<()> {
    let merge = OnConflict::columns([job::Column::OrganizationId, job::Column::Kind, job::Column::TargetId])
        .value(job::Column::Generation, Expr::cust(r#""jobs"."generation" + 1"#))
        .value(job::Column::Attempts, Expr::value(0))
        .value(job::Column::RunAt, Expr::value(run_at))
        .value(job::Column::Payload, Expr::cust(r#""excluded"."payload""#))
        .value(job::Column::UpdatedAt, Expr::value(now))
        .to_owned();
    insert(txn, now, run_at, organization_id, kind, target_id, payload, merge).await
}

/// Asks for `kind` on `target` due at `run_at` unless the same work already waits or runs
/// (then that stays as it is), in the caller's transaction.
pub async fn ensure(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
    organization_id: Uuid,
    kind: Kind,
    target_id: Uuid,
) -> AppResult<()> {
    let keep = OnConflict::columns([job::Column::OrganizationId, job::Column::Kind, job::Column::TargetId])
        .do_nothing()
        .to_owned();
    insert(
        txn,
        now,
        run_at,
        organization_id,
        kind,
        target_id,
        serde_json::json!({}),
        keep,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
    organization_id: Uuid,
    kind: Kind,
    target_id: Uuid,
    payload: serde_json::Value,
    on_conflict: OnConflict,
) -> AppResult<()> {
    let row = job::ActiveModel {
        organization_id: sea_orm::Set(organization_id),
        kind: sea_orm::Set(kind.as_str().to_owned()),
        target_id: sea_orm::Set(target_id),
        payload: sea_orm::Set(payload.to_string()),
        generation: sea_orm::Set(1),
        attempts: sea_orm::Set(0),
        run_at: sea_orm::Set(run_at),
        locked_until: sea_orm::Set(None),
        last_error: sea_orm::Set(None),
        created_at: sea_orm::Set(now),
        updated_at: sea_orm::Set(now),
    };
    job::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A job's pause before attempt `attempts + 1`: 2^attempts seconds up to [`MAX_BACKOFF`],
/// with up to a quarter more at random so failing jobs of many instances spread out.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let base = 2f64.powi(attempts.clamp(0, 30)).min(MAX_BACKOFF.as_secs_f64());
    let jitter = base * rand::random_range(0.0..0.25);
    chrono::Duration::milliseconds(((base + jitter) * 1000.0) as i64)
}

/// The work a runner knows how to do.
pub trait Handler: Send + Sync {
    /// Runs `job`; an error is recorded on the job, which is retried later.
    fn run<'a>(&'a self, job: &'a job::Model) -> futures_util::future::BoxFuture<'a, AppResult<()>>;
}

/// The jobs of one database: claims, runs and settles them; wakes runners of this instance
/// when work is enqueued here.
#[derive(Clone)]
pub struct Jobs {
    db: Db,
    clock: Clock,
    /// Signalled after a job is enqueued in this instance (runners look at once).
    wake: Arc<Notify>,
    /// Signalled after a job is settled (done or failed) in this instance.
    settled: Arc<Notify>,
}

impl Jobs {
    pub fn new(db: Db, clock: Clock) -> Self {
        Jobs {
            db,
            clock,
            wake: Arc::new(Notify::new()),
            settled: Arc::new(Notify::new()),
        }
    }

    /// Tells this instance's runner that jobs were enqueued (after the transaction committed).
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Claims the next due job, if any, holding it for [`LEASE`].
    pub async fn claim(&self) -> AppResult<Option<job::Model>> {
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let backend = self.db.backend();
        let skip = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let (p, values) = crate::db::lease_binds(backend, until, now);
        let sql = format!(
            r#"UPDATE "jobs" SET "locked_until" = {until_p}, "attempts" = "attempts" + 1, "updated_at" = {now_p}
               WHERE ("organization_id", "kind", "target_id") = (
                 SELECT "organization_id", "kind", "target_id" FROM "jobs"
                 WHERE "run_at" <= {due_p} AND ("locked_until" IS NULL OR "locked_until" <= {due_p})
                 ORDER BY "run_at" LIMIT 1{skip})
               RETURNING *"#,
            until_p = p[0],
            now_p = p[1],
            due_p = p[2],
        );
        // Most looks find nothing: a read, without taking the writer.
        {
            use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
            let due = job::Entity::find()
                .filter(job::Column::RunAt.lte(now))
                .filter(
                    sea_orm::Condition::any()
                        .add(job::Column::LockedUntil.is_null())
                        .add(job::Column::LockedUntil.lte(now)),
                )
                .count(self.db.conn())
                .await?;
            if due == 0 {
                return Ok(None);
            }
        }
        let txn = self.db.begin_write().await?;
        let claimed = job::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
            .one(&txn)
            .await?;
        txn.commit().await?;
        Ok(claimed)
    }

    /// Settles a claimed job after its run: deleted when done (unless asked for again since
    /// the claim: then released to run once more), or released for a later attempt.
    pub async fn settle(&self, claimed: &job::Model, outcome: AppResult<()>) -> AppResult<()> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let now = self.clock.now();
        let this = || {
            sea_orm::Condition::all()
                .add(job::Column::OrganizationId.eq(claimed.organization_id))
                .add(job::Column::Kind.eq(claimed.kind.clone()))
                .add(job::Column::TargetId.eq(claimed.target_id))
        };
        let txn = self.db.begin_write().await?;
        match outcome {
            Ok(()) => {
                let deleted = job::Entity::delete_many()
                    .filter(this())
                    .filter(job::Column::Generation.eq(claimed.generation))
                    .exec(&txn)
                    .await?;
                if deleted.rows_affected == 0 {
                    job::Entity::update_many()
                        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
                        .col_expr(job::Column::Attempts, Expr::value(0))
                        .col_expr(job::Column::UpdatedAt, Expr::value(now))
                        .filter(this())
                        .exec(&txn)
                        .await?;
                }
            }
            Err(err) => {
                tracing::warn!(kind = %claimed.kind, target = %claimed.target_id, attempts = claimed.attempts, error = ?err, "a job failed; it will be retried");
                let message: String = format!("{err:?}").chars().take(2000).collect();
                job::Entity::update_many()
                    .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
                    .col_expr(job::Column::LastError, Expr::value(message))
                    .col_expr(job::Column::RunAt, Expr::value(now + backoff(claimed.attempts)))
                    .col_expr(job::Column::UpdatedAt, Expr::value(now))
                    .filter(this())
                    .filter(job::Column::Generation.eq(claimed.generation))
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        self.settled.notify_waiters();
        Ok(())
    }

    /// Claims and runs due jobs until none is left to claim; how many ran.
    pub async fn run_due(&self, handler: &dyn Handler) -> AppResult<usize> {
        let mut ran = 0;
        while let Some(claimed) = self.claim().await? {
            let outcome = handler.run(&claimed).await;
            self.settle(&claimed, outcome).await?;
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs due jobs until none is due, waiting for those other runners of this instance hold
    /// (at most `patience`). For tests and tools: the background runner needs no waiting.
    pub async fn run_until_idle(&self, handler: &dyn Handler, patience: Duration) -> AppResult<usize> {
        use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
        let deadline = tokio::time::Instant::now() + patience;
        let mut ran = 0;
        loop {
            let settled = self.settled.notified();
            ran += self.run_due(handler).await?;
            let due = job::Entity::find()
                .filter(job::Column::RunAt.lte(self.clock.now()))
                .count(self.db.conn())
                .await?;
            if due == 0 {
                return Ok(ran);
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return Ok(ran);
            }
        }
    }

    /// Runs due jobs for as long as the process lives: at once when woken, else every
    /// [`POLL`]. Errors of the database are logged and retried at the next turn.
    pub async fn runner(self, handler: Arc<dyn Handler>) {
        loop {
            let woken = self.wake.notified();
            if let Err(err) = self.run_due(handler.as_ref()).await {
                tracing::warn!(error = ?err, "could not run background jobs");
            }
            let _ = tokio::time::timeout(POLL, woken).await;
        }
    }
}

/// The work this server does in the background.
pub struct Work {
    pub db: Db,
    pub clock: Clock,
}

impl Handler for Work {
    fn run<'a>(&'a self, job: &'a job::Model) -> futures_util::future::BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            match Kind::parse(&job.kind) {
                Some(Kind::RebuildCounts) => {
                    super::report::rebuild_form(&self.db, job.organization_id, job.target_id).await
                }
                Some(Kind::SettleCounts) => {
                    super::report::settle_form(&self.db, self.clock.now(), job.organization_id, job.target_id).await
                }
                Some(Kind::FoldSegments) => {
                    super::report::fold_form(&self.db, job.organization_id, job.target_id).await
                }
                None => Err(crate::error::AppError::Internal(format!(
                    "unknown job kind {}",
                    job.kind
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_with_jitter() {
        for attempts in 0..40 {
            let base = 2f64.powi(attempts.min(30)).min(3600.0);
            let got = backoff(attempts).num_milliseconds() as f64 / 1000.0;
            assert!(got >= base && got <= base * 1.25 + 0.001, "{attempts}: {got}");
        }
        assert_eq!(Kind::parse("REBUILD_COUNTS"), Some(Kind::RebuildCounts));
        assert_eq!(Kind::parse("rebuild"), None);
    }
}
