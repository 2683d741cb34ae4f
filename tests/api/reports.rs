//! Reports against an independent computation: random responses (completed, disqualified, in
//! progress, offline ones over the last weeks) go in through the public API; every figure of
//! `formReport` is compared with figures this test computes itself from the stored responses
//! (read back through the staff API), after every change: submissions, deletions, an erasure,
//! periods of local days, a rebuild of the counts. Also: freshness, one computation under 50
//! concurrent misses, scopes and tenancy.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::{Asia::Tehran, Tz};
use futures_util::future::join_all;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use crate::{
    collect::{Published, answer, key, proceed, publish_document, result, start, submit},
    helpers::{Session, TestApp, error_code, spawn_app},
};

pub const REPORT_FORM: &str = include_str!("../data/report-form.json");

pub const REPORT: &str = "query($id: ID!, $period: PeriodInput) { formReport(formId: $id, period: $period) {
    responses { started completed disqualified inProgress completionPercent
      timeToComplete { n mean median stdDev marginOfError } }
    nps { questionKey score n promoters { count percent } passives { count percent } detractors { count percent }
      marginOfError tooSmall distribution { value count percent } }
    csat { questionKey percent marginOfError mean satisfied n tooSmall distribution { value count } }
    ces { questionKey mean marginOfError percentEasy easy n tooSmall distribution { value count } }
    totalScore { n mean median stdDev marginOfError }
    questions { key kind answered skipped distribution { value count percent }
      numbers { n mean median stdDev marginOfError } scores { n mean median stdDev marginOfError } } } }";

const RAW: &str = "query($form: ID!, $after: String) { responses(formId: $form, first: 100, after: $after) {
    nodes { id status channel locale startedAt completedAt timeToCompleteSeconds totalScore
      answers { key kind number text choices otherText bool score } }
    pageInfo { hasNextPage endCursor } } }";

/// The stored responses of a form, through the staff API.
pub async fn raw(app: &TestApp, token: &str, form: &Published) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(Some(token), RAW, json!({ "form": form.form_id, "after": after }))
            .await;
        let page = &body["data"]["responses"];
        out.extend(
            page["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .cloned(),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

pub fn local_day(at: &Value, zone: Tz) -> Option<NaiveDate> {
    let at = DateTime::parse_from_rfc3339(at.as_str()?).ok()?.to_utc();
    Some(at.with_timezone(&zone).date_naive())
}

/// Mean, median, sample standard deviation and the mean's margin, computed directly.
fn summary(values: &[f64]) -> Value {
    let n = values.len();
    if n == 0 {
        return json!({ "n": 0, "mean": null, "median": null, "stdDev": null, "marginOfError": null });
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let sd = (n > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
    json!({ "n": n, "mean": mean, "median": median, "stdDev": sd,
            "marginOfError": sd.map(|s| 1.96 * s / (n as f64).sqrt()) })
}

fn percent(count: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { count as f64 / n as f64 * 100.0 }
}

/// The values a question's distribution lists first, in order.
fn offered(key: &str) -> Vec<String> {
    let scale = |a: i32, b: i32| (a..=b).map(|v| v.to_string()).collect();
    match key {
        "nps" => scale(0, 10),
        "csat" | "stars" => scale(1, 5),
        "ces" => scale(1, 7),
        "plan" => ["basic", "pro", "max", "_other"].map(str::to_owned).to_vec(),
        "features" => ["speed", "price", "support"].map(str::to_owned).to_vec(),
        "again" => ["true", "false"].map(str::to_owned).to_vec(),
        _ => Vec::new(),
    }
}

fn number_text(n: f64) -> String {
    format!("{n}")
}

/// Every figure of the report, computed from the stored responses over a period.
pub fn expected(responses: &[Value], from: Option<NaiveDate>, to: Option<NaiveDate>, zone: Tz) -> Value {
    let inside = |day: Option<NaiveDate>| day.is_some_and(|d| from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t));
    // The cohort of responses started in the period, as they stand now.
    let cohort: Vec<&Value> = responses
        .iter()
        .filter(|r| inside(local_day(&r["startedAt"], zone)))
        .collect();
    let started = cohort.len();
    let cohort_completed = cohort.iter().filter(|r| r["status"] == "COMPLETED").count();
    let cohort_in_progress = cohort.iter().filter(|r| r["status"] == "IN_PROGRESS").count();
    let finished = |status: &str| {
        responses
            .iter()
            .filter(|r| r["status"] == status && inside(local_day(&r["completedAt"], zone)))
            .collect::<Vec<_>>()
    };
    let completed = finished("COMPLETED");
    let disqualified = finished("DISQUALIFIED").len();
    let numbers_of = |key: &str| -> Vec<f64> {
        completed
            .iter()
            .flat_map(|r| r["answers"].as_array().unwrap().iter())
            .filter(|a| a["key"] == key)
            .filter_map(|a| a["number"].as_f64())
            .collect()
    };
    let durations: Vec<f64> = completed
        .iter()
        .filter_map(|r| r["timeToCompleteSeconds"].as_f64())
        .collect();
    let totals: Vec<f64> = completed.iter().filter_map(|r| r["totalScore"].as_f64()).collect();
    let distribution = |key: &str, values: &[String]| -> Vec<(String, usize)> {
        let mut counted: BTreeMap<String, usize> = BTreeMap::new();
        for v in values {
            *counted.entry(v.clone()).or_default() += 1;
        }
        let first = offered(key);
        let mut out: Vec<(String, usize)> = first
            .iter()
            .map(|v| (v.clone(), counted.get(v).copied().unwrap_or(0)))
            .collect();
        let mut rest: Vec<(String, usize)> = counted.into_iter().filter(|(v, _)| !first.contains(v)).collect();
        rest.sort_by(|a, b| {
            a.0.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.0.parse::<f64>().unwrap_or(0.0))
        });
        out.extend(rest);
        out
    };
    let mut questions = Vec::new();
    for (key, kind) in [
        ("nps", "NPS"),
        ("why", "LONG_TEXT"),
        ("csat", "CSAT"),
        ("ces", "CES"),
        ("stars", "RATING"),
        ("plan", "SINGLE_CHOICE"),
        ("features", "MULTIPLE_CHOICE"),
        ("again", "YES_NO"),
        ("comment", "SHORT_TEXT"),
        ("age", "NUMBER"),
    ] {
        let answers: Vec<&Value> = completed
            .iter()
            .flat_map(|r| r["answers"].as_array().unwrap().iter())
            .filter(|a| a["key"] == key)
            .collect();
        let mut values: Vec<String> = Vec::new();
        for a in &answers {
            if let Some(n) = a["number"].as_f64() {
                values.push(number_text(n));
            }
            if let Some(b) = a["bool"].as_bool() {
                values.push(b.to_string());
            }
            for c in a["choices"].as_array().unwrap() {
                values.push(c.as_str().unwrap().to_owned());
            }
            if kind == "SINGLE_CHOICE" && a["choices"].as_array().unwrap().is_empty() {
                values.push("_other".to_owned());
            }
        }
        let answered = answers.len();
        let numeric = ["NPS", "CSAT", "CES", "RATING", "NUMBER"].contains(&kind);
        let scores: Vec<f64> = answers.iter().filter_map(|a| a["score"].as_f64()).collect();
        questions.push(json!({
            "key": key, "kind": kind, "answered": answered, "skipped": completed.len() - answered,
            "distribution": distribution(key, &values).into_iter()
                .map(|(value, count)| json!({ "value": value, "count": count, "percent": percent(count, answered) }))
                .collect::<Vec<_>>(),
            "numbers": if numeric { summary(&numbers_of(key)) } else { Value::Null },
            "scores": if ["plan", "features"].contains(&key) { summary(&scores) } else { Value::Null },
        }));
    }
    let nps = numbers_of("nps");
    let n = nps.len();
    let promoters = nps.iter().filter(|v| **v >= 9.0).count();
    let passives = nps.iter().filter(|v| (7.0..=8.0).contains(*v)).count();
    let detractors = nps.iter().filter(|v| **v <= 6.0).count();
    let (p, d) = (promoters as f64 / n.max(1) as f64, detractors as f64 / n.max(1) as f64);
    let csat = numbers_of("csat");
    let satisfied = csat.iter().filter(|v| **v >= 4.0).count();
    let pc = satisfied as f64 / csat.len().max(1) as f64;
    let ces = numbers_of("ces");
    let easy = ces.iter().filter(|v| **v >= 5.0).count();
    let ces_summary = summary(&ces);
    let dist = |key: &str| {
        questions.iter().find(|q| q["key"] == key).unwrap()["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| json!({ "value": v["value"], "count": v["count"] }))
            .collect::<Vec<_>>()
    };
    json!({
        "responses": {
            "started": started, "completed": completed.len(), "disqualified": disqualified,
            "inProgress": cohort_in_progress,
            "completionPercent": if started == 0 { Value::Null } else { json!(cohort_completed as f64 / started as f64 * 100.0) },
            "timeToComplete": summary(&durations),
        },
        "nps": if n == 0 { Value::Null } else { json!({
            "questionKey": "nps", "score": (p - d) * 100.0, "n": n,
            "promoters": { "count": promoters, "percent": percent(promoters, n) },
            "passives": { "count": passives, "percent": percent(passives, n) },
            "detractors": { "count": detractors, "percent": percent(detractors, n) },
            "marginOfError": if n < 2 { Value::Null } else { json!(1.96 * ((p + d - (p - d).powi(2)).max(0.0) / n as f64).sqrt() * 100.0) },
            "tooSmall": n < 30,
            "distribution": questions[0]["distribution"],
        }) },
        "csat": if csat.is_empty() { Value::Null } else { json!({
            "questionKey": "csat", "percent": pc * 100.0,
            "marginOfError": if csat.len() < 2 { Value::Null } else { json!(1.96 * (pc * (1.0 - pc) / csat.len() as f64).sqrt() * 100.0) },
            "mean": csat.iter().sum::<f64>() / csat.len() as f64, "satisfied": satisfied, "n": csat.len(),
            "tooSmall": csat.len() < 30, "distribution": dist("csat"),
        }) },
        "ces": if ces.is_empty() { Value::Null } else { json!({
            "questionKey": "ces", "mean": ces_summary["mean"],
            "marginOfError": ces_summary["marginOfError"].clone(),
            "percentEasy": percent(easy, ces.len()), "easy": easy, "n": ces.len(), "tooSmall": ces.len() < 30,
            "distribution": dist("ces"),
        }) },
        "totalScore": summary(&totals),
        "questions": questions,
    })
}

/// Whether two JSON values are equal, numbers within 1e-9 (relative for large ones).
pub fn same(a: &Value, b: &Value, path: &str, differences: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-9 * x.abs().max(1.0) {
                differences.push(format!("{path}: {x} != {y}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in y {
                same(x.get(k).unwrap_or(&Value::Null), v, &format!("{path}.{k}"), differences);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                same(v, w, &format!("{path}[{i}]"), differences);
            }
        }
        _ if a == b => {}
        _ => differences.push(format!("{path}: {a} != {b}")),
    }
}

async fn report(app: &TestApp, token: &str, form: &Published, period: Value) -> Value {
    let body = app
        .gql(Some(token), REPORT, json!({ "id": form.form_id, "period": period }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["formReport"].clone()
}

/// The differences between the report over `from..=to` and the independent computation with
/// days in `zone`, and the report.
async fn compare(
    app: &TestApp,
    owner: &Session,
    form: &Published,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    zone: Tz,
) -> (Vec<String>, Value) {
    let stored = raw(app, &owner.access_token, form).await;
    let period = json!({ "from": from.map(|d| d.to_string()), "to": to.map(|d| d.to_string()) });
    let got = report(app, &owner.access_token, form, period).await;
    let want = expected(&stored, from, to, zone);
    let mut differences = Vec::new();
    same(&got, &want, "formReport", &mut differences);
    (differences, got)
}

/// Asserts that the report over `from..=to` equals the independent computation, days in `zone`.
async fn check_in(
    app: &TestApp,
    owner: &Session,
    form: &Published,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    zone: Tz,
) -> Value {
    let (differences, got) = compare(app, owner, form, from, to, zone).await;
    assert!(differences.is_empty(), "{differences:#?}\ngot {got}");
    got
}

/// Asserts that the report over `from..=to` equals the independent computation (days in the
/// organization's zone, Asia/Tehran).
async fn check(
    app: &TestApp,
    owner: &Session,
    form: &Published,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Value {
    let (differences, got) = compare(app, owner, form, from, to, Tehran).await;
    assert!(differences.is_empty(), "{differences:#?}\ngot {got}");
    got
}

/// A random respondent's answers: every kind, "other" texts, Persian texts, ages that
/// disqualify.
pub fn random_answers(rng: &mut StdRng) -> Vec<Value> {
    let nps: u32 = rng.random_range(0..=10);
    let mut list = vec![answer("nps", json!({ "number": nps }))];
    if nps <= 6 && rng.random_bool(0.7) {
        let why = ["تحویل دير بود", "پشتيباني ضعيف", "slow delivery", "price too high"][rng.random_range(0..4)];
        list.push(answer("why", json!({ "text": why })));
    }
    if rng.random_bool(0.9) {
        list.push(answer("csat", json!({ "number": rng.random_range(1..=5) })));
    }
    if rng.random_bool(0.8) {
        list.push(answer("ces", json!({ "number": rng.random_range(1..=7) })));
    }
    if rng.random_bool(0.7) {
        let stars = ["۱", "۲", "۳", "۴", "۵"][rng.random_range(0..5)];
        list.push(answer("stars", json!({ "text": stars })));
    }
    if rng.random_bool(0.85) {
        if rng.random_bool(0.1) {
            list.push(json!({ "key": "plan", "value": { "choices": [] }, "otherText": "custom" }));
        } else {
            let plan = ["basic", "pro", "max"][rng.random_range(0..3)];
            list.push(answer("plan", json!({ "choices": [plan] })));
        }
    }
    if rng.random_bool(0.6) {
        let all = ["speed", "price", "support"];
        let chosen: Vec<&str> = all.iter().copied().filter(|_| rng.random_bool(0.5)).collect();
        if !chosen.is_empty() {
            list.push(answer("features", json!({ "choices": chosen })));
        }
    }
    if rng.random_bool(0.5) {
        list.push(answer("again", json!({ "bool": rng.random_bool(0.6) })));
    }
    if rng.random_bool(0.4) {
        list.push(answer(
            "comment",
            json!({ "text": format!("نظر شماره {}", rng.random_range(1..100)) }),
        ));
    }
    if rng.random_bool(0.9) {
        list.push(answer("age", json!({ "number": rng.random_range(12..=70) })));
    }
    list
}

/// Sends `count` random responses: most submitted whole (some offline, finished days ago),
/// some started and completed, some left in progress.
async fn fill(app: &TestApp, form: &Published, count: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ids = Vec::new();
    for _ in 0..count {
        let answers = random_answers(&mut rng);
        let mode = rng.random_range(0..100);
        let body = if mode < 70 {
            let finished = Utc::now() - Duration::minutes(rng.random_range(0..25 * 24 * 60));
            let began = finished - Duration::seconds(rng.random_range(20..900));
            let body = submit(
                app,
                form,
                json!({ "answers": answers, "startedAt": began.to_rfc3339(), "completedAt": finished.to_rfc3339() }),
            )
            .await;
            result(&body, "submitResponse").clone()
        } else {
            let split = rng.random_range(0..answers.len());
            let began = Utc::now() - Duration::seconds(rng.random_range(5..3000));
            let body = start(
                app,
                form,
                json!({ "answers": answers[..split], "startedAt": began.to_rfc3339() }),
            )
            .await;
            let started = result(&body, "startResponse").clone();
            if mode < 85 {
                started
            } else {
                let token = started["response"]["resumeToken"].clone();
                let body = proceed(
                    app,
                    "completeResponse",
                    json!({ "resumeToken": token, "answers": answers[split..] }),
                )
                .await;
                result(&body, "completeResponse").clone()
            }
        };
        ids.push(body["response"]["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test]
async fn every_figure_matches_an_independent_computation_through_changes() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;

    // Nothing yet.
    let empty = check(&app, &owner, &form, None, None).await;
    assert!(empty["nps"].is_null() && empty["responses"]["completionPercent"].is_null());

    let ids = fill(&app, &form, 70, 7).await;
    let full = check(&app, &owner, &form, None, None).await;
    assert!(full["responses"]["disqualified"].as_u64().unwrap() > 0, "{full}");
    assert!(full["responses"]["inProgress"].as_u64().unwrap() > 0, "{full}");

    // Periods of local days (Asia/Tehran), crossing a month and within days.
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let this_month = today.with_day(1).unwrap();
    let last_month = (this_month - Duration::days(1)).with_day(1).unwrap();
    let end_of_last_month = this_month - Duration::days(1);
    for (from, to) in [
        (Some(today - Duration::days(20)), Some(today - Duration::days(3))),
        (Some(today - Duration::days(9)), None),
        (None, Some(today - Duration::days(12))),
        (Some(today), Some(today)),
        (Some(last_month), Some(end_of_last_month)),
        (Some(last_month), Some(today)),
        (Some(today - Duration::days(25)), Some(end_of_last_month)),
        (Some(last_month), None),
        (None, Some(end_of_last_month)),
    ] {
        check(&app, &owner, &form, from, to).await;
    }

    // Deleting responses corrects every figure: a completed one, one in progress, and more.
    let stored = raw(&app, &token, &form).await;
    let of_status = |status: &str| {
        stored
            .iter()
            .filter(|r| r["status"] == status)
            .map(|r| r["id"].clone())
            .collect::<Vec<_>>()
    };
    let mut doomed = of_status("COMPLETED")[..3].to_vec();
    doomed.push(of_status("IN_PROGRESS")[0].clone());
    doomed.push(of_status("DISQUALIFIED")[0].clone());
    for id in &doomed {
        let body = app
            .gql(
                Some(&token),
                "mutation($id: ID!) { deleteResponse(input: { id: $id }) { deletedResponseId } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(body["data"]["deleteResponse"]["deletedResponseId"], *id, "{body}");
    }
    let after = check(&app, &owner, &form, None, None).await;
    // A retry of the write that made a deleted response does not bring it back.
    let retry = json!({ "idempotencyKey": "kept-key", "answers": [answer("nps", json!({ "number": 9 })), answer("age", json!({ "number": 30 }))] });
    let body = submit(&app, &form, retry.clone()).await;
    let id = result(&body, "submitResponse")["response"]["id"].clone();
    let body = app
        .gql(
            Some(&token),
            "mutation($id: ID!) { deleteResponse(input: { id: $id }) { deletedResponseId } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = submit(&app, &form, retry).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.idempotencyKey");
    assert_eq!(
        after["responses"]["started"].as_u64().unwrap() + 5,
        full["responses"]["started"].as_u64().unwrap()
    );
    let after = check(&app, &owner, &form, None, None).await;
    assert_eq!(
        after["responses"]["started"].as_u64().unwrap() + 5,
        full["responses"]["started"].as_u64().unwrap()
    );
    check(&app, &owner, &form, Some(today - Duration::days(20)), Some(today)).await;

    // The counts rebuilt from the stored responses give the same report.
    let form_id = uuid_of(&form.form_id);
    let before = report(&app, &token, &form, Value::Null).await;
    nazar::service::report::tally::rebuild(&app.db, form_id, Tehran)
        .await
        .unwrap();
    let rebuilt = report(&app, &token, &form, Value::Null).await;
    assert_eq!(before, rebuilt);
    assert!(ids.len() == 70);
}

pub fn uuid_of(global_id: &str) -> uuid::Uuid {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(global_id).unwrap()).unwrap();
    uuid::Uuid::parse_str(text.split_once(':').unwrap().1).unwrap()
}

#[tokio::test]
async fn erasing_a_respondent_keeps_every_unfiltered_figure_and_removes_their_words() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    fill(&app, &form, 20, 11).await;
    let body = app
        .gql(
            Some(&token),
            "mutation($input: RespondentInput!) { upsertRespondent(input: $input) { respondent { id } } }",
            json!({ "input": { "externalId": "crm-9", "name": "Sara", "email": "sara@example.com" } }),
        )
        .await;
    let sara = body["data"]["upsertRespondent"]["respondent"]["id"].clone();
    let body = app
        .gql(
            Some(&token),
            "mutation($input: CreateRespondentInvitationsInput!) { createRespondentInvitations(input: $input) { invitations { token } } }",
            json!({ "input": { "formId": form.form_id, "respondentIds": [sara] } }),
        )
        .await;
    let invitation = body["data"]["createRespondentInvitations"]["invitations"][0]["token"].clone();
    for words in ["بسیار کند و گران", "slow and expensive"] {
        let body = submit(
            &app,
            &form,
            json!({ "invitationToken": invitation, "answers": [
                answer("nps", json!({ "number": 2 })), answer("why", json!({ "text": words })),
                { "key": "plan", "value": { "choices": [] }, "otherText": "my own plan" },
                answer("comment", json!({ "text": "call me on 0912" })), answer("age", json!({ "number": 40 }))
            ] }),
        )
        .await;
        result(&body, "submitResponse");
    }
    let texts = "query($id: ID!, $search: String) { formReport(formId: $id) { question(key: \"why\") {
        openTexts(search: $search, first: 100) { nodes { text responseId } } } } }";
    let words = |body: &Value| -> Vec<String> {
        body["data"]["formReport"]["question"]["openTexts"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["text"].as_str().unwrap().to_owned())
            .collect()
    };
    // Search with the Persian normalisation: Arabic ي/ك find Persian ی/ک.
    let found = app
        .gql(Some(&token), texts, json!({ "id": form.form_id, "search": "كند" }))
        .await;
    assert_eq!(words(&found), ["بسیار کند و گران"]);
    let before = check(&app, &owner, &form, None, None).await;
    let all_before = words(&app.gql(Some(&token), texts, json!({ "id": form.form_id })).await);

    let body = app
        .gql(
            Some(&token),
            "mutation($id: ID!) { eraseRespondent(input: { id: $id }) { responses } }",
            json!({ "id": sara }),
        )
        .await;
    assert_eq!(body["data"]["eraseRespondent"]["responses"], 2, "{body}");
    let after = check(&app, &owner, &form, None, None).await;
    assert_eq!(before, after, "unfiltered figures are identical after an erasure");
    let all_after = words(&app.gql(Some(&token), texts, json!({ "id": form.form_id })).await);
    assert_eq!(all_after.len() + 2, all_before.len());
    assert!(
        !all_after
            .iter()
            .any(|t| t.contains("کند") || t.contains("slow and expensive"))
    );
    // Nothing personal is left in the database.
    for sql in [
        "SELECT COUNT(*) FROM answers WHERE text_value LIKE '%0912%' OR text_value LIKE '%my own plan%'",
        "SELECT COUNT(*) FROM respondents WHERE external_id = 'crm-9'",
    ] {
        assert_eq!(crate::collect::count_rows(&app, sql).await, 0, "{sql}");
    }
    let body = submit(
        &app,
        &form,
        json!({ "invitationToken": invitation, "answers": [answer("nps", json!({ "number": 9 }))] }),
    )
    .await;
    assert_eq!(error_code(&body), "INVALID_INVITATION");
}

#[tokio::test]
async fn reports_are_fresh_computed_once_under_concurrent_misses_and_scoped() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    fill(&app, &form, 10, 3).await;
    let completed = |r: &Value| r["responses"]["completed"].as_u64().unwrap();
    let first = report(&app, &token, &form, Value::Null).await;
    // Fresh: a report asked right after an acknowledged submission includes it.
    for i in 0..3 {
        let body = submit(
            &app,
            &form,
            json!({ "answers": [answer("nps", json!({ "number": 9 })), answer("age", json!({ "number": 30 }))] }),
        )
        .await;
        result(&body, "submitResponse");
        assert_eq!(
            completed(&report(&app, &token, &form, Value::Null).await),
            completed(&first) + i + 1
        );
    }

    // One computation for 50 concurrent requests of a result no one has yet: the statements
    // are 50 times those of a cached request, plus those of one computation.
    let cached = {
        report(&app, &token, &form, Value::Null).await;
        let before = app.db.statements();
        report(&app, &token, &form, Value::Null).await;
        app.db.statements() - before
    };
    let submit_one = |nps: i64| {
        let (app, form) = (&app, &form);
        async move {
            let body = submit(
                app,
                form,
                json!({ "answers": [answer("nps", json!({ "number": nps })), answer("age", json!({ "number": 30 }))] }),
            )
            .await;
            result(&body, "submitResponse");
        }
    };
    submit_one(1).await;
    let computation = {
        let before = app.db.statements();
        report(&app, &token, &form, Value::Null).await;
        app.db.statements() - before - cached
    };
    assert!(computation >= 1, "a fresh report reads the counts");
    submit_one(2).await;
    let before = app.db.statements();
    let reports = join_all((0..50).map(|_| report(&app, &token, &form, Value::Null))).await;
    let spent = app.db.statements() - before;
    assert!(reports.iter().all(|r| r == &reports[0]));
    assert_eq!(completed(&reports[0]), completed(&first) + 5);
    assert_eq!(
        spent,
        50 * cached + computation,
        "a cached request costs {cached} statements, a computation {computation}"
    );

    // Scopes: reports:read alone sees figures, not open texts.
    let texts = "query($id: ID!) { formReport(formId: $id) { responses { completed } question(key: \"why\") {
        openTexts { nodes { text } } } } }";
    let key_with = |scopes: &'static [&'static str]| {
        let (app, token) = (&app, &token);
        async move {
            let body = app
                .gql(
                    Some(token),
                    "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
                    json!({ "input": { "name": "BI", "scopes": scopes } }),
                )
                .await;
            body["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned()
        }
    };
    let reader = key_with(&["REPORTS_READ"]).await;
    let body = app.gql(Some(&reader), texts, json!({ "id": form.form_id })).await;
    assert!(body["data"]["formReport"]["responses"]["completed"].is_u64(), "{body}");
    assert!(body["data"]["formReport"]["question"]["openTexts"].is_null(), "{body}");
    let both = key_with(&["REPORTS_READ", "RESPONSES_READ"]).await;
    let body = app.gql(Some(&both), texts, json!({ "id": form.form_id })).await;
    assert!(
        body["data"]["formReport"]["question"]["openTexts"]["nodes"].is_array(),
        "{body}"
    );
    let neither = key_with(&["FORMS_READ"]).await;
    let body = app.gql(Some(&neither), texts, json!({ "id": form.form_id })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql(
            Some(&reader),
            "mutation($id: ID!) { deleteResponse(input: { id: $id }) { deletedResponseId } }",
            json!({ "id": "x" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");

    // The form's own field gives the same report.
    let body = app
        .gql(
            Some(&token),
            "query($id: ID!) { form(id: $id) { report { responses { completed } } } }",
            json!({ "id": form.form_id }),
        )
        .await;
    assert_eq!(
        body["data"]["form"]["report"]["responses"]["completed"],
        completed(&reports[0])
    );

    // Tenancy: another organization's report is not there.
    let stranger = app.sign_up().await;
    let body = app
        .gql(Some(&stranger.access_token), texts, json!({ "id": form.form_id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let _ = key();
}

#[tokio::test]
async fn saved_reports_are_called_by_id() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let first = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    let second = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    fill(&app, &first, 6, 1).await;
    fill(&app, &second, 4, 2).await;
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let body = app
        .gql(
            Some(&token),
            "mutation($input: CreateReportInput!) { createReport(input: $input) { report { id name metrics from to
                forms { id } results { form { id } responses { started } } } } }",
            json!({ "input": { "name": "Support touchpoint", "formIds": [first.form_id, second.form_id],
                               "metrics": ["NPS", "RESPONSES"], "period": { "from": (today - Duration::days(40)).to_string() } } }),
        )
        .await;
    let saved = &body["data"]["createReport"]["report"];
    assert_eq!(saved["metrics"], json!(["NPS", "RESPONSES"]), "{body}");
    assert_eq!(saved["results"].as_array().unwrap().len(), 2);
    let id = saved["id"].clone();
    let by_id = "query($id: ID!) { report(id: $id) { name results { responses { started } } } node(id: $id) { id } }";
    let body = app.gql(Some(&token), by_id, json!({ "id": id })).await;
    assert_eq!(body["data"]["report"]["name"], "Support touchpoint");
    assert_eq!(body["data"]["node"]["id"], id);
    let reader = app
        .gql(
            Some(&token),
            "mutation { createApiKey(input: { name: \"BI\", scopes: [REPORTS_READ] }) { secret } }",
            json!({}),
        )
        .await["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app.gql(Some(&reader), by_id, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["report"]["results"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    let body = app
        .gql(
            Some(&reader),
            "mutation { createReport(input: { name: \"x\", formIds: [] }) { report { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql(
            Some(&token),
            "mutation($input: UpdateReportInput!) { updateReport(input: $input) { report { name forms { id } from } } }",
            json!({ "input": { "id": id, "name": "Only the first", "formIds": [first.form_id], "period": null } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateReport"]["report"],
        json!({ "name": "Only the first", "forms": [{ "id": first.form_id }], "from": null })
    );
    for (input, code) in [
        (json!({ "name": "x", "formIds": [] }), "BAD_USER_INPUT"),
        (json!({ "name": " ", "formIds": [first.form_id] }), "BAD_USER_INPUT"),
        (
            json!({ "name": "x", "formIds": [first.form_id, first.form_id] }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "name": "x", "formIds": [first.form_id], "period": { "from": "2026-02-01", "to": "2026-01-01" } }),
            "BAD_USER_INPUT",
        ),
    ] {
        let body = app
            .gql(
                Some(&token),
                "mutation($input: CreateReportInput!) { createReport(input: $input) { report { id } } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error_code(&body), code, "{body}");
    }
    let stranger = app.sign_up().await;
    let body = app.gql(Some(&stranger.access_token), by_id, json!({ "id": id })).await;
    assert_eq!(body["data"], json!({ "report": null, "node": null }));
    let body = app
        .gql(
            Some(&stranger.access_token),
            "mutation($input: CreateReportInput!) { createReport(input: $input) { report { id } } }",
            json!({ "input": { "name": "x", "formIds": [first.form_id] } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = app
        .gql(
            Some(&token),
            "mutation($id: ID!) { deleteReport(input: { id: $id }) { deletedReportId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["deleteReport"]["deletedReportId"], id);
    let body = app.gql(Some(&token), by_id, json!({ "id": id })).await;
    assert!(body["data"]["report"].is_null());
}

#[tokio::test]
async fn a_new_time_zone_moves_responses_to_their_new_local_days() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    fill(&app, &form, 40, 13).await;
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let periods = [
        (Some(today - Duration::days(6)), Some(today - Duration::days(6))),
        (Some(today - Duration::days(17)), Some(today - Duration::days(2))),
    ];
    for (from, to) in periods {
        check(&app, &owner, &form, from, to).await;
    }
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation { updateOrganization(input: { timeZone: \"America/Los_Angeles\" }) { organization { timeZone } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrganization"]["organization"]["timeZone"], "America/Los_Angeles",
        "{body}"
    );
    // The counts are rebuilt by durable jobs: once they have run, every period follows the
    // new zone.
    let zone: Tz = "America/Los_Angeles".parse().unwrap();
    app.run_jobs().await;
    for (from, to) in periods {
        check_in(&app, &owner, &form, from, to, zone).await;
    }
    // Whole figures do not depend on the zone.
    let (differences, _) = compare(&app, &owner, &form, None, None, zone).await;
    assert!(differences.is_empty(), "{differences:#?}");
}

#[tokio::test]
async fn a_cache_that_missed_changes_while_redis_was_away_serves_nothing_stale() {
    // Needs the redis-server program (CI installs it); without it there is nothing to pause.
    let Some(redis) = crate::helpers::OwnRedis::start().await else {
        eprintln!("redis-server is not installed: this test needs it");
        return;
    };
    let (mut config, dir) = crate::helpers::test_config().await;
    config.redis_url = Some(nazar::config::Secret::new(redis.url.clone()));
    config.cache_prefix = format!("nazar-test:{}:", uuid::Uuid::now_v7().simple());
    // Two instances on one database and one Redis.
    let a = crate::helpers::start(config.clone(), dir).await;
    let b = crate::helpers::start(config, None).await;
    let owner = a.sign_up().await;
    let form = publish_document(&a, &owner, REPORT_FORM, json!({})).await;
    fill(&a, &form, 8, 5).await;
    let completed = |r: &Value| r["responses"]["completed"].as_u64().unwrap();
    let ra = report(&a, &owner.access_token, &form, Value::Null).await;
    let rb = report(&b, &owner.access_token, &form, Value::Null).await;
    assert_eq!(ra, rb);

    // Redis stops answering; a response arrives through the other instance.
    redis.signal("-STOP");
    let body = submit(
        &b,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 10 })), answer("age", json!({ "number": 30 }))] }),
    )
    .await;
    result(&body, "submitResponse");
    redis.signal("-CONT");
    // Redis is back with every entry it had: none of them is served.
    for app in [&a, &b] {
        let now = report(app, &owner.access_token, &form, Value::Null).await;
        assert_eq!(completed(&now), completed(&ra) + 1);
    }
    check(&a, &owner, &form, None, None).await;

    // Redis gone for good: reports are computed, right, and never refused.
    drop(redis);
    let body = submit(
        &a,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 0 })), answer("age", json!({ "number": 30 }))] }),
    )
    .await;
    result(&body, "submitResponse");
    let now = check(&b, &owner, &form, None, None).await;
    assert_eq!(completed(&now), completed(&ra) + 2);
}

/// SQLite keeps the counts in the order of their key (`WITHOUT ROWID`, a covering index by
/// subject): the migration that rebuilds the table, undone and done again, keeps every count,
/// and every period reads the same figures from either layout. On PostgreSQL it changes
/// nothing and the same holds.
#[tokio::test]
async fn counts_rebuilt_in_key_order_keep_every_figure() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;

    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    fill(&app, &form, 40, 11).await;
    // The counts in the tallies, where the layouts keep them.
    app.fold_counts().await;
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let this_month = today.with_day(1).unwrap();
    let last_month = (this_month - Duration::days(1)).with_day(1).unwrap();
    // Each layout reads periods it has not been asked before (a cached figure would not read).
    let periods = [
        [
            (Some(today - Duration::days(21)), Some(today - Duration::days(2))),
            (Some(last_month), Some(this_month - Duration::days(1))),
            (Some(last_month + Duration::days(3)), None),
        ],
        [
            (Some(today - Duration::days(19)), Some(today - Duration::days(1))),
            (Some(last_month), Some(today)),
            (None, Some(today - Duration::days(4))),
        ],
        [
            (Some(today - Duration::days(18)), Some(today)),
            (
                Some(last_month + Duration::days(1)),
                Some(this_month - Duration::days(1)),
            ),
            (None, Some(today - Duration::days(5))),
        ],
    ];
    let layout = || async {
        let conn = app.db.conn();
        match conn.get_database_backend() {
            sea_orm::DbBackend::Sqlite => {
                let row = conn
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Sqlite,
                        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tallies'",
                    ))
                    .await
                    .unwrap()
                    .expect("the counts table");
                Some(row.try_get_by_index::<String>(0).unwrap().contains("WITHOUT ROWID"))
            }
            _ => None,
        }
    };
    let sqlite = layout().await.is_some();
    assert_ne!(layout().await, Some(false), "counts in key order on SQLite");
    for (from, to) in periods[0] {
        check(&app, &owner, &form, from, to).await;
    }
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261203_000015_sqlite_counts")
        .expect("the migration");
    let undone = (Migrator::migrations().len() - position) as u32;
    // Where the exact seconds to complete lie: (in the day, month and all-time rows, in
    // grains of their own under their bin).
    let seconds = || async {
        let count = |sql: String| {
            let app = &app;
            async move { crate::collect::count_rows(app, &sql).await }
        };
        let seconds =
            |grains: &str| format!("SELECT COUNT(*) FROM tallies WHERE measure = 'DURATION' AND grain {grains}");
        (
            count(seconds("< 3")).await,
            count(seconds(">= 3")).await,
            count("SELECT COUNT(*) FROM tallies WHERE measure = 'DURATION_BIN'".to_owned()).await,
        )
    };
    let kept = seconds().await;
    assert!(
        kept.0 == 0 && kept.1 > 0 && kept.2 > 0,
        "seconds apart, bins beside: {kept:?}"
    );
    Migrator::down(app.db.conn(), Some(undone)).await.unwrap();
    // Today's reads also look for counts waiting for a fold (none wait here): their table
    // comes with a later migration, so it stands in for it while the earlier layout is read.
    let stand_in = |sql: &'static str| {
        let conn = app.db.conn();
        async move { conn.execute_unprepared(sql).await.unwrap() }
    };
    stand_in("CREATE TABLE pending_counts (organization_id uuid, response_id uuid, form_id uuid, changes integer)")
        .await;
    assert_eq!(layout().await, sqlite.then_some(false), "the earlier layout back");
    let earlier = seconds().await;
    assert!(
        earlier.0 > 0 && earlier.1 == 0 && earlier.2 == 0,
        "seconds counted as before: {earlier:?}"
    );
    for (from, to) in periods[1] {
        check(&app, &owner, &form, from, to).await;
    }
    stand_in("DROP TABLE pending_counts").await;
    Migrator::up(app.db.conn(), None).await.unwrap();
    assert_eq!(layout().await, sqlite.then_some(true));
    let again = seconds().await;
    // (Bins migrated lie in one slot, where the server spreads today's.)
    assert_eq!(
        (again.0, again.1),
        (kept.0, kept.1),
        "the seconds kept as the server writes them"
    );
    assert!(again.2 > 0);
    for (from, to) in periods[2] {
        check(&app, &owner, &form, from, to).await;
    }
}

/// Responses whose counts wait for a fold, on the app's database.
async fn pending(app: &TestApp) -> i64 {
    crate::collect::count_rows(app, "SELECT COUNT(*) FROM pending_counts").await
}

#[tokio::test]
async fn counts_waiting_for_a_fold_are_exact_through_random_changes_folds_and_a_rebuild() {
    use nazar::service::report::tally;

    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    let form_id = uuid_of(&form.form_id);
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let mut rng = StdRng::seed_from_u64(18);
    // Responses in progress, by resume token: completed later, before or after a fold.
    let mut open: Vec<(Value, Value, Vec<Value>)> = Vec::new();
    let (mut folded, mut steps) = (0u64, 0);
    for step in 0..60 {
        match rng.random_range(0..100) {
            0..40 => {
                fill(&app, &form, rng.random_range(1..4), rng.random()).await;
            }
            40..55 => {
                let answers = random_answers(&mut rng);
                let split = rng.random_range(0..answers.len());
                let body = start(&app, &form, json!({ "answers": answers[..split] })).await;
                let started = &result(&body, "startResponse")["response"];
                open.push((
                    started["id"].clone(),
                    started["resumeToken"].clone(),
                    answers[split..].to_vec(),
                ));
            }
            55..70 if !open.is_empty() => {
                let (_, token, rest) = open.swap_remove(rng.random_range(0..open.len()));
                let body = proceed(
                    &app,
                    "completeResponse",
                    json!({ "resumeToken": token, "answers": rest }),
                )
                .await;
                result(&body, "completeResponse");
            }
            70..80 => {
                let stored = raw(&app, &token, &form).await;
                if let Some(doomed) = stored.get(rng.random_range(0..stored.len().max(1))) {
                    let body = app
                        .gql(
                            Some(&token),
                            "mutation($id: ID!) { deleteResponse(input: { id: $id }) { deletedResponseId } }",
                            json!({ "id": doomed["id"] }),
                        )
                        .await;
                    assert!(body["errors"].is_null(), "{body}");
                    open.retain(|(id, _, _)| *id != doomed["id"]);
                }
            }
            _ => {
                // A fold of a few of them.
                folded += tally::fold(&app.db, form_id, rng.random_range(1..6)).await.unwrap();
            }
        }
        steps += 1;
        if step % 5 == 4 {
            check(&app, &owner, &form, None, None).await;
            check(&app, &owner, &form, Some(today - Duration::days(9)), Some(today)).await;
        }
    }
    let waiting = pending(&app).await;
    assert!(
        folded > 0 && waiting > 0,
        "{folded} folded, {waiting} waiting after {steps} steps"
    );
    check(&app, &owner, &form, None, None).await;
    // Everything folded: the same report, nothing waiting.
    let before = report(&app, &token, &form, Value::Null).await;
    assert_eq!(app.fold_counts().await, waiting as u64);
    assert_eq!(pending(&app).await, 0);
    assert_eq!(report(&app, &token, &form, Value::Null).await, before);
    check(
        &app,
        &owner,
        &form,
        Some(today - Duration::days(20)),
        Some(today - Duration::days(2)),
    )
    .await;
    // More waiting, then a rebuild of the counts: it counts them and they wait no more.
    fill(&app, &form, 6, 99).await;
    assert!(pending(&app).await > 0);
    tally::rebuild(&app.db, form_id, Tehran).await.unwrap();
    assert_eq!(pending(&app).await, 0);
    check(&app, &owner, &form, None, None).await;
    check(&app, &owner, &form, Some(today - Duration::days(9)), Some(today)).await;
}

#[tokio::test]
async fn concurrent_folds_beside_submissions_count_each_response_once() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    fill(&app, &form, 40, 5).await;
    // Four folders at once, beside more submissions.
    let folds = join_all((0..4).map(|_| {
        let db = app.db.clone();
        async move { nazar::service::report::fold_pending(&db).await.unwrap() }
    }));
    let (folded, _) = tokio::join!(folds, fill(&app, &form, 20, 6));
    let folded: u64 = folded.iter().sum();
    let rest = app.fold_counts().await;
    assert_eq!(folded + rest, 60, "each response folded once: {folded:?} and {rest}");
    assert_eq!(pending(&app).await, 0);
    check(&app, &owner, &form, None, None).await;
}

#[tokio::test]
async fn a_report_read_on_another_instance_includes_a_submission_just_acknowledged() {
    let (config, dir) = crate::helpers::test_config().await;
    let a = crate::helpers::start(config.clone(), dir).await;
    let b = crate::helpers::start(config, None).await;
    let owner = a.sign_up().await;
    let form = publish_document(&a, &owner, REPORT_FORM, json!({})).await;
    for n in 1..=5u64 {
        fill(&a, &form, 1, n).await;
        let on_b = report(&b, &owner.access_token, &form, Value::Null).await;
        assert_eq!(on_b["responses"]["started"], n, "{on_b}");
        check(&b, &owner, &form, None, None).await;
    }
    // Folded on one instance, still the same on both.
    a.fold_counts().await;
    check(&b, &owner, &form, None, None).await;
    check(&a, &owner, &form, None, None).await;
}

#[tokio::test]
async fn a_read_folds_counts_itself_when_too_many_wait() {
    let app = crate::helpers::spawn_app_with(|c| c.pending_counts_max = 5).await;
    let owner = app.sign_up().await;
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    fill(&app, &form, 12, 21).await;
    assert_eq!(pending(&app).await, 12);
    // No folder runs here: the read folds until fewer than five wait, and is exact.
    check(&app, &owner, &form, None, None).await;
    let waiting = pending(&app).await;
    assert!(waiting < 5, "{waiting} still waiting");
    fill(&app, &form, 3, 22).await;
    check(&app, &owner, &form, None, None).await;
}

#[tokio::test]
async fn a_server_killed_while_it_folds_loses_and_doubles_no_count() {
    // The test's app runs no folder; a server process on the same database does, and is
    // killed (SIGKILL) as soon as it is ready, wherever its fold then stands.
    let (config, dir) = crate::helpers::test_config().await;
    let app = crate::helpers::start(config.clone(), dir).await;
    let owner = app.sign_up().await;
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    for round in 0..3u64 {
        fill(&app, &form, 150, 30 + round).await;
        let mut process = crate::helpers::Process::start(&config, true).await;
        process.child.kill().unwrap();
        process.child.wait().unwrap();
        check(&app, &owner, &form, None, None).await;
    }
    app.fold_counts().await;
    assert_eq!(pending(&app).await, 0);
    check(&app, &owner, &form, None, None).await;
}
