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

/// Rebuilds waiting (a published form also has its daily settling of past counts, due later).
async fn jobs_left(app: &TestApp) -> i64 {
    crate::collect::count_rows(app, "SELECT COUNT(*) FROM jobs WHERE kind = 'REBUILD_COUNTS'").await
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
    let work = Work {
        db: app.db.clone(),
        clock: app.clock.clone(),
    };
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
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::job::Entity::find()
            .filter(entity::job::Column::Kind.eq("REBUILD_COUNTS"))
            .one(app.db.conn())
            .await
            .unwrap()
            .unwrap()
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
    let work = Work {
        db: app.db.clone(),
        clock: app.clock.clone(),
    };
    assert_eq!(app.jobs.run_due(&work).await.unwrap(), 1);
    assert_eq!(jobs_left(&app).await, 0);
    let la = day_in(at, "America/Los_Angeles");
    assert_eq!(completed_on(&app, &owner, &form, la).await, 1);
}

/// The form's tally rows of days before `today` (and months before its month) outside slot 0.
async fn spread_rows(app: &TestApp, form_id: uuid::Uuid, today: chrono::NaiveDate) -> i64 {
    let form = match app.db.backend() {
        sea_orm::DbBackend::Postgres => format!("'{form_id}'"),
        _ => format!("X'{}'", form_id.simple()),
    };
    let month = today.format("%Y-%m-01");
    crate::collect::count_rows(
        app,
        &format!(
            "SELECT COUNT(*) FROM tallies WHERE form_id = {form} AND slot > 0 \
             AND ((grain = 2 AND day < '{today}') OR (grain = 1 AND day < '{month}'))"
        ),
    )
    .await
}

/// Every figure of the form over all time, each of the last days and the last two months,
/// computed afresh (the freshness stamp moves first, so nothing comes from a cache).
async fn figures(app: &TestApp, owner: &Session, form_id: &str, today: chrono::NaiveDate) -> Vec<serde_json::Value> {
    nazar::service::report::tally::apply(app.db.conn(), crate::reports::uuid_of(form_id), chrono_tz::UTC, &[], 1)
        .await
        .unwrap();
    let mut periods = vec![
        json!(null),
        json!({ "from": (today - Duration::days(60)).to_string(), "to": today.to_string() }),
    ];
    for back in 0..8 {
        let day = (today - Duration::days(back)).to_string();
        periods.push(json!({ "from": day, "to": day }));
    }
    let mut out = Vec::new();
    for period in periods {
        let body = app
            .gql(
                Some(&owner.access_token),
                REPORT,
                json!({ "id": form_id, "period": period }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        out.push(body["data"]["formReport"].clone());
    }
    out
}

#[tokio::test]
async fn settling_folds_past_counts_into_one_row_each_and_changes_no_figure() {
    let (mut config, dir) = test_config().await;
    config.run_jobs = false;
    let app = start(config, dir).await;
    let owner = app.sign_up().await;
    set_zone(&app, &owner, "UTC").await;
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    let form_uuid = crate::reports::uuid_of(&form.form_id);
    // Responses completed over the last days, each counted in a slot at random.
    let now = app.clock.now();
    let submit_at = |at: chrono::DateTime<Utc>, nps: i64| {
        let form = &form;
        let app = &app;
        async move {
            let body = submit(
                app,
                form,
                json!({ "answers": [answer("nps", json!({ "number": nps })), answer("age", json!({ "number": 20 + nps }))],
                        "startedAt": (at - Duration::minutes(4)).to_rfc3339(), "completedAt": at.to_rfc3339() }),
            )
            .await;
            result(&body, "submitResponse");
        }
    };
    for i in 0..40 {
        submit_at(now - Duration::hours(3 * i + 1), i % 11).await;
    }
    // Folded one response at a time, as concurrent folds would spread them.
    while nazar::service::report::tally::fold(&app.db, form_uuid, 1)
        .await
        .unwrap()
        > 0
    {}
    let today = now.date_naive();
    let before = figures(&app, &owner, &form.form_id, today).await;
    assert!(
        spread_rows(&app, form_uuid, today).await > 0,
        "counts spread over slots"
    );

    // Not due before a day has passed since publication; then it runs and asks for the next.
    assert_eq!(app.run_jobs().await, 0);
    app.clock.advance(Duration::days(1) + Duration::minutes(1));
    let today = app.clock.now().date_naive();
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(spread_rows(&app, form_uuid, today).await, 0);
    assert_eq!(
        figures(&app, &owner, &form.form_id, today - Duration::days(1)).await,
        before
    );
    let next = crate::collect::count_rows(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'SETTLE_COUNTS'").await;
    assert_eq!(next, 1, "the next settling waits");
    assert_eq!(app.run_jobs().await, 0, "a day later");

    // A late completion on a settled day is counted, and folded at the next run.
    submit_at(app.clock.now() - Duration::days(2), 10).await;
    let late = figures(&app, &owner, &form.form_id, today - Duration::days(1)).await;
    assert_ne!(late, before);
    app.clock.advance(Duration::days(1));
    assert_eq!(app.run_jobs().await, 1);
    let today = app.clock.now().date_naive();
    assert_eq!(spread_rows(&app, form_uuid, today).await, 0);
    assert_eq!(
        figures(&app, &owner, &form.form_id, today - Duration::days(2)).await,
        late
    );
}
