//! Durable background jobs, through the counts rebuild a new time zone causes: the job is a row
//! written with the change, so it survives the instance that caused it; a runner that dies
//! holding one leaves it to another after its lease; a failing job is retried with backoff;
//! asking again while it runs makes it run once more. Time moves by the clock, not by sleeping.
use chrono::{Duration, Utc};
use chrono_tz::Tz;
use nazar::{
    error::{AppError, AppResult},
    service::job::{Handler, Work},
};
use serde_json::json;

use crate::{
    collect::{answer, publish_document, result, submit},
    helpers::{Session, TestApp, start, test_config},
    reports::{REPORT, REPORT_FORM},
};

const SET_ZONE: &str =
    "mutation($zone: String!) { updateOrganization(input: { timeZone: $zone }) { organization { timeZone } } }";

async fn set_zone(app: &TestApp, owner: &Session, zone: &str) {
    let body = app
        .gql(Some(&owner.access_token), SET_ZONE, json!({ "zone": zone }))
        .await;
    assert_eq!(
        body["data"]["updateOrganization"]["organization"]["timeZone"], zone,
        "{body}"
    );
}

async fn jobs_left(app: &TestApp) -> i64 {
    crate::collect::count_rows(app, "SELECT COUNT(*) FROM jobs").await
}

/// How many of the form's responses completed on `day` (a local day of the counts' zone).
async fn completed_on(app: &TestApp, owner: &Session, form_id: &str, day: chrono::NaiveDate) -> u64 {
    let body = app
        .gql(
            Some(&owner.access_token),
            REPORT,
            json!({ "id": form_id, "period": { "from": day.to_string(), "to": day.to_string() } }),
        )
        .await;
    body["data"]["formReport"]["responses"]["completed"]
        .as_u64()
        .unwrap_or_else(|| panic!("{body}"))
}

/// A form with one response completed at 22:00 UTC two days ago: in Tehran (UTC+03:30) that is
/// the next local day, in Los Angeles the same day.
async fn late_response(app: &TestApp, owner: &Session) -> (String, chrono::DateTime<Utc>) {
    let form = publish_document(app, owner, REPORT_FORM, json!({})).await;
    let at = (Utc::now() - Duration::days(2))
        .date_naive()
        .and_hms_opt(22, 0, 0)
        .unwrap()
        .and_utc();
    let body = submit(
        app,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 9 })), answer("age", json!({ "number": 30 }))],
                "startedAt": (at - Duration::minutes(3)).to_rfc3339(), "completedAt": at.to_rfc3339() }),
    )
    .await;
    result(&body, "submitResponse");
    (form.form_id, at)
}

fn day_in(at: chrono::DateTime<Utc>, zone: &str) -> chrono::NaiveDate {
    at.with_timezone(&zone.parse::<Tz>().unwrap()).date_naive()
}

#[tokio::test]
async fn a_rebuild_asked_for_by_an_instance_that_stops_is_done_by_the_next() {
    let (mut config, dir) = test_config().await;
    config.run_jobs = false;
    let mut first = start(config.clone(), dir).await;
    let owner = first.sign_up().await;
    let (form, at) = late_response(&first, &owner).await;
    let la = "America/Los_Angeles";
    assert_eq!(completed_on(&first, &owner, &form, day_in(at, "Asia/Tehran")).await, 1);
    set_zone(&first, &owner, la).await;
    // The instance that took the change runs no jobs, and stops: the work is a row.
    assert_eq!(jobs_left(&first).await, 1);
    first.stop().await;

    // Another instance on the same database runs it.
    config.run_jobs = true;
    let second = start(config, None).await;
    second.run_jobs().await;
    assert_eq!(jobs_left(&second).await, 0);
    assert_eq!(completed_on(&second, &owner, &form, day_in(at, la)).await, 1);
    assert_eq!(completed_on(&second, &owner, &form, day_in(at, "Asia/Tehran")).await, 0);
    drop(first);
}

#[tokio::test]
async fn a_job_held_by_a_runner_that_died_is_taken_over_after_its_lease() {
    let (mut config, dir) = test_config().await;
    config.run_jobs = false;
    let app = start(config, dir).await;
    let owner = app.sign_up().await;
    let (form, at) = late_response(&app, &owner).await;
    set_zone(&app, &owner, "UTC").await;
    let work = Work { db: app.db.clone() };
    // A runner claims the job and dies before settling it.
    let held = app.jobs.claim().await.unwrap().expect("a due job");
    assert_eq!(held.kind, "REBUILD_COUNTS");
    assert_eq!(app.jobs.run_due(&work).await.unwrap(), 0, "held by its lease");
    app.clock.advance(Duration::minutes(14));
    assert_eq!(app.jobs.run_due(&work).await.unwrap(), 0, "still held");
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.jobs.run_due(&work).await.unwrap(), 1, "taken over");
    assert_eq!(jobs_left(&app).await, 0);
    assert_eq!(completed_on(&app, &owner, &form, day_in(at, "UTC")).await, 1);
    // The dead runner's late settlement finds nothing to undo.
    app.jobs.settle(&held, Ok(())).await.unwrap();
    assert_eq!(jobs_left(&app).await, 0);
}

struct Failing;

impl Handler for Failing {
    fn run<'a>(&'a self, _job: &'a entity::job::Model) -> futures_util::future::BoxFuture<'a, AppResult<()>> {
        Box::pin(async { Err(AppError::Internal("the disk is full".into())) })
    }
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_and_a_new_request_runs_it_again() {
    let (mut config, dir) = test_config().await;
    config.run_jobs = false;
    let app = start(config, dir).await;
    let owner = app.sign_up().await;
    let (form, at) = late_response(&app, &owner).await;
    set_zone(&app, &owner, "UTC").await;
    assert_eq!(app.jobs.run_due(&Failing).await.unwrap(), 1);
    let row = || async {
        use sea_orm::EntityTrait;
        entity::job::Entity::find().one(app.db.conn()).await.unwrap().unwrap()
    };
    let failed = row().await;
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.as_deref().unwrap().contains("the disk is full"));
    assert!(failed.locked_until.is_none());
    let wait = failed.run_at - app.clock.now();
    assert!(
        wait >= Duration::seconds(2) && wait <= Duration::milliseconds(2500),
        "{wait}"
    );
    // Not before its time; then again, waiting twice as long after the second failure.
    assert_eq!(app.jobs.run_due(&Failing).await.unwrap(), 0);
    app.clock.advance(Duration::seconds(3));
    assert_eq!(app.jobs.run_due(&Failing).await.unwrap(), 1);
    let again = row().await;
    assert_eq!(again.attempts, 2);
    assert!(again.run_at - app.clock.now() >= Duration::seconds(4));

    // Asked for again while it runs: the run that started before does not settle the new
    // request, which runs once more.
    app.clock.advance(Duration::seconds(10));
    let claimed = app.jobs.claim().await.unwrap().expect("due again");
    set_zone(&app, &owner, "America/Los_Angeles").await;
    app.jobs.settle(&claimed, Ok(())).await.unwrap();
    assert_eq!(jobs_left(&app).await, 1, "the newer request waits");
    let work = Work { db: app.db.clone() };
    assert_eq!(app.jobs.run_due(&work).await.unwrap(), 1);
    assert_eq!(jobs_left(&app).await, 0);
    let la = day_in(at, "America/Los_Angeles");
    assert_eq!(completed_on(&app, &owner, &form, la).await, 1);
}
