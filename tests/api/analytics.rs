//! Filtered reports: the filter language over answers, respondent attributes as they were at
//! completion, hidden fields and the response's own fields; its SQL against the condition
//! evaluator (random filters over random responses), filtered figures against an independent
//! computation, an always-true filter against the unfiltered report, the cohort definitions of
//! completion and in-progress counts, saved reports with filters, and refusals.
use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Tehran;
use nazar::logic::expr::{CompareOp, Expr, Operand, ResponseField, SetOp, Value as V};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    collect::{Published, answer, publish_document, result, start, submit},
    helpers::{Session, TestApp, error_code, spawn_app},
    reports::{REPORT, REPORT_FORM, expected, local_day, random_answers, raw, same},
};

const TIERS: [&str; 3] = ["gold", "silver", "bronze"];
const CHANNELS: [&str; 4] = ["LINK", "EMAIL", "SMS", "IN_APP"];

/// A respondent's attributes as the test set them.
#[derive(Clone, Debug, Default)]
struct Attributes {
    tier: Option<String>,
    seats: Option<f64>,
    vip: Option<bool>,
    since: Option<NaiveDate>,
}

impl Attributes {
    fn random(rng: &mut StdRng) -> Attributes {
        let today = Utc::now().date_naive();
        Attributes {
            tier: rng.random_bool(0.9).then(|| TIERS[rng.random_range(0..3)].to_owned()),
            seats: rng.random_bool(0.8).then(|| f64::from(rng.random_range(1..50))),
            vip: rng.random_bool(0.8).then(|| rng.random_bool(0.3)),
            since: rng
                .random_bool(0.9)
                .then(|| today - Duration::days(rng.random_range(10..1500))),
        }
    }

    fn input(&self) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(t) = &self.tier {
            out.push(json!({ "name": "tier", "value": { "text": t } }));
        }
        if let Some(n) = self.seats {
            out.push(json!({ "name": "seats", "value": { "number": n } }));
        }
        if let Some(b) = self.vip {
            out.push(json!({ "name": "vip", "value": { "bool": b } }));
        }
        if let Some(d) = self.since {
            out.push(json!({ "name": "since", "value": { "date": d.to_string() } }));
        }
        out
    }
}

/// A form with random responses: anonymous ones through the public API (several channels and
/// locales, some left in progress) and interviews recorded by staff for respondents whose
/// attributes change half-way.
struct Data {
    form: Published,
    /// The attributes each recorded response's respondent had when it was completed.
    snapshot: HashMap<String, Attributes>,
}

async fn upsert(app: &TestApp, token: &str, external_id: &str, attributes: &Attributes) -> String {
    let body = app
        .gql(
            Some(token),
            "mutation($input: RespondentInput!) { upsertRespondent(input: $input) { respondent { id } } }",
            json!({ "input": { "externalId": external_id, "attributes": attributes.input() } }),
        )
        .await;
    body["data"]["upsertRespondent"]["respondent"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// Deletes the first `count` recorded responses (in order of id).
async fn delete_recorded(app: &TestApp, token: &str, data: &Data, count: usize) {
    let mut recorded: Vec<&String> = data.snapshot.keys().collect();
    recorded.sort();
    for id in recorded.into_iter().take(count) {
        let body = app
            .gql(
                Some(token),
                "mutation($id: ID!) { deleteResponse(input: { id: $id }) { deletedResponseId } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(body["data"]["deleteResponse"]["deletedResponseId"], *id, "{body}");
    }
}

/// Records a random response of `respondent` by phone, completed in the last three days.
async fn record(app: &TestApp, token: &str, data: &Data, respondent: &str, rng: &mut StdRng) {
    let finished = Utc::now() - Duration::minutes(rng.random_range(0..3 * 24 * 60));
    let body = app
        .gql(
            Some(token),
            "mutation($input: RecordResponseInput!) { recordResponse(input: $input) { response { id } } }",
            json!({ "input": { "formId": data.form.form_id, "idempotencyKey": Uuid::now_v7().to_string(),
                "respondentId": respondent, "channel": "PHONE", "answers": random_answers(rng),
                "startedAt": (finished - Duration::minutes(5)).to_rfc3339(), "completedAt": finished.to_rfc3339() } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

async fn fill(app: &TestApp, owner: &Session, count: usize, seed: u64) -> Data {
    let token = owner.access_token.as_str();
    for (name, kind) in [
        ("tier", "STRING"),
        ("seats", "NUMBER"),
        ("vip", "BOOLEAN"),
        ("since", "DATE"),
    ] {
        let body = app
            .gql(
                Some(token),
                "mutation($input: CreateRespondentAttributeInput!) { createRespondentAttribute(input: $input) { attribute { id } } }",
                json!({ "input": { "name": name, "type": kind, "label": name } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let form = publish_document(app, owner, REPORT_FORM, json!({})).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut people: Vec<(String, String, Attributes)> = Vec::new();
    for i in 0..8 {
        let attributes = Attributes::random(&mut rng);
        let external = format!("crm-{i}");
        let id = upsert(app, token, &external, &attributes).await;
        people.push((external, id, attributes));
    }
    let mut snapshot = HashMap::new();
    for n in 0..count {
        if n == count / 2 {
            // The CRM changes everyone's attributes: responses keep what they had.
            for (external, _, attributes) in &mut people {
                *attributes = Attributes::random(&mut rng);
                upsert(app, token, external, attributes).await;
            }
        }
        let answers = random_answers(&mut rng);
        let finished = Utc::now() - Duration::minutes(rng.random_range(0..25 * 24 * 60));
        let began = finished - Duration::seconds(rng.random_range(20..900));
        let mode = rng.random_range(0..100);
        if mode < 25 {
            let (_, id, attributes) = &people[rng.random_range(0..people.len())];
            let channel = ["PHONE", "IN_PERSON"][rng.random_range(0..2)];
            let body = app
                .gql(
                    Some(token),
                    "mutation($input: RecordResponseInput!) { recordResponse(input: $input) { response { id } } }",
                    json!({ "input": { "formId": form.form_id, "idempotencyKey": Uuid::now_v7().to_string(),
                        "respondentId": id, "channel": channel, "answers": answers,
                        "startedAt": began.to_rfc3339(), "completedAt": finished.to_rfc3339() } }),
                )
                .await;
            let id = body["data"]["recordResponse"]["response"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned();
            snapshot.insert(id, attributes.clone());
        } else if mode < 85 {
            let channel = CHANNELS[rng.random_range(0..CHANNELS.len())];
            let locale = ["en", "fa"][rng.random_range(0..2)];
            let body = submit(
                app,
                &form,
                json!({ "answers": answers, "channel": channel, "locale": locale,
                        "startedAt": began.to_rfc3339(), "completedAt": finished.to_rfc3339() }),
            )
            .await;
            result(&body, "submitResponse");
        } else {
            let split = rng.random_range(0..answers.len());
            let body = start(app, &form, json!({ "answers": answers[..split], "channel": "SMS" })).await;
            result(&body, "startResponse");
        }
    }
    Data { form, snapshot }
}

async fn filtered(app: &TestApp, token: &str, form: &Published, period: Value, filter: Value) -> Value {
    let query = REPORT
        .replace(
            "query($id: ID!, $period: PeriodInput)",
            "query($id: ID!, $period: PeriodInput, $filter: ConditionInput)",
        )
        .replace(
            "formReport(formId: $id, period: $period)",
            "formReport(formId: $id, period: $period, filter: $filter)",
        );
    app.gql(
        Some(token),
        &query,
        json!({ "id": form.form_id, "period": period, "filter": filter }),
    )
    .await
}

fn period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Value {
    json!({ "from": from.map(|d| d.to_string()), "to": to.map(|d| d.to_string()) })
}

fn answer_of<'a>(r: &'a Value, key: &str) -> Option<&'a Value> {
    r["answers"].as_array().unwrap().iter().find(|a| a["key"] == key)
}

#[tokio::test]
async fn filtered_figures_match_an_independent_computation() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let mut data = fill(&app, &owner, 90, 21).await;
    // A response of each tier completed now and started 12 days ago: a filter selecting by the
    // completion day still counts its start.
    for (i, tier) in TIERS.iter().enumerate() {
        let attributes = Attributes {
            tier: Some((*tier).to_owned()),
            seats: None,
            vip: None,
            since: None,
        };
        let someone = upsert(&app, &token, &format!("crm-slow-{i}"), &attributes).await;
        let answers: Vec<Value> = random_answers(&mut StdRng::seed_from_u64(i as u64))
            .into_iter()
            .filter(|a| a["key"] != "age")
            .collect();
        let finished = Utc::now() - Duration::minutes(5);
        let body = app
            .gql(
                Some(&token),
                "mutation($input: RecordResponseInput!) { recordResponse(input: $input) { response { id status } } }",
                json!({ "input": { "formId": data.form.form_id, "idempotencyKey": Uuid::now_v7().to_string(),
                    "respondentId": someone, "channel": "PHONE", "answers": answers,
                    "startedAt": (finished - Duration::days(12)).to_rfc3339(), "completedAt": finished.to_rfc3339() } }),
            )
            .await;
        let response = &body["data"]["recordResponse"]["response"];
        assert_eq!(response["status"], "COMPLETED", "{body}");
        data.snapshot
            .insert(response["id"].as_str().unwrap().to_owned(), attributes);
    }
    let all = raw(&app, &token, &data.form).await;
    let nps = |r: &Value| answer_of(r, "nps").and_then(|a| a["number"].as_f64());
    let tier = |r: &Value| {
        data.snapshot
            .get(r["id"].as_str().unwrap())
            .and_then(|a| a.tier.clone())
    };
    type Pick<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(&str, Pick)> = vec![
        (
            "answer(nps) <= 6",
            Box::new(|r: &Value| nps(r).is_some_and(|n| n <= 6.0)),
        ),
        (
            "response(channel) = \"SMS\" OR answer(plan) = \"pro\"",
            Box::new(|r: &Value| {
                r["channel"] == "SMS" || answer_of(r, "plan").is_some_and(|a| a["choices"] == json!(["pro"]))
            }),
        ),
        (
            "NOT answer(features) CONTAINS ANY (\"speed\")",
            Box::new(|r: &Value| {
                !answer_of(r, "features").is_some_and(|a| a["choices"].as_array().unwrap().contains(&json!("speed")))
            }),
        ),
        (
            "attribute(tier) = \"gold\" AND answer(nps) IS ANSWERED",
            Box::new(|r: &Value| tier(r).as_deref() == Some("gold") && nps(r).is_some()),
        ),
        (
            "response(locale) = \"en\" AND response(status) != \"IN_PROGRESS\" AND response(channel) CONTAINS NONE (\"EMAIL\", \"PHONE\")",
            Box::new(|r: &Value| {
                r["locale"] == "en"
                    && r["status"] != "IN_PROGRESS"
                    && r["channel"] != "EMAIL"
                    && r["channel"] != "PHONE"
            }),
        ),
    ];
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    // A report that selects only NPS computes only NPS (and the responses' counts); a full
    // report asked for afterwards is not served that partial result.
    for (text, pick) in &cases {
        let chosen: Vec<Value> = all.iter().filter(|r| pick(r)).cloned().collect();
        let body = app
            .gql(
                Some(&token),
                "query($id: ID!, $f: ConditionInput) { formReport(formId: $id, filter: $f) {
                    responses { started completed } nps { score n distribution { value count } } } }",
                json!({ "id": data.form.form_id, "f": { "text": text } }),
            )
            .await;
        let want = expected(&chosen, None, None, Tehran);
        let got = &body["data"]["formReport"];
        assert_eq!(
            got["responses"]["completed"], want["responses"]["completed"],
            "{text}: {body}"
        );
        let mut differences = Vec::new();
        same(
            &got["nps"]["score"],
            &want["nps"]["score"],
            "nps.score",
            &mut differences,
        );
        same(&got["nps"]["n"], &want["nps"]["n"], "nps.n", &mut differences);
        assert!(differences.is_empty(), "{text}: {differences:#?}");
    }
    // One segment, bounds on the completion day and questions required answered: over all
    // time, the counts by segment answer them once folded, when they prove that every response
    // of the segment in those days was completed and answered the questions.
    let day = |r: &Value| local_day(&r["completedAt"], Tehran);
    let (d20, d3) = (today - Duration::days(20), today - Duration::days(3));
    let in_days = move |r: &Value, from: NaiveDate, to: Option<NaiveDate>| {
        day(r).is_some_and(|d| d >= from && to.is_none_or(|t| d <= t))
    };
    let vip = |r: &Value| data.snapshot.get(r["id"].as_str().unwrap()).and_then(|a| a.vip);
    // A segment and days whose counts prove the answers (some responses, every one completed
    // and with an NPS answer), so that a filter reads folded counts whatever the time of day.
    let proven = |name: &str, from: NaiveDate| {
        let segment: Vec<&Value> = all
            .iter()
            .filter(|r| tier(r).as_deref() == Some(name) && in_days(r, from, None))
            .collect();
        !segment.is_empty() && segment.iter().all(|r| r["status"] == "COMPLETED" && nps(r).is_some())
    };
    let (gold, since) = TIERS
        .iter()
        .flat_map(|t| [9, 5, 3, 1, 0].map(|back| (*t, today - Duration::days(back))))
        .find(|(t, from)| proven(t, *from))
        .expect("a segment whose responses all answered NPS");
    let dated: Vec<(String, Pick)> = vec![
        (
            format!(
                "attribute(tier) = \"{gold}\" AND answer(nps) IS ANSWERED AND response(completed_on) >= date({since})"
            ),
            Box::new(move |r: &Value| tier(r).as_deref() == Some(gold) && nps(r).is_some() && in_days(r, since, None)),
        ),
        (
            format!(
                "response(completed_on) BETWEEN (date({d20}), date({d3})) AND (attribute(tier) CONTAINS ANY (\"gold\", \"silver\") AND answer(nps) IS ANSWERED)"
            ),
            Box::new(move |r: &Value| {
                tier(r).is_some_and(|t| t == "gold" || t == "silver") && nps(r).is_some() && in_days(r, d20, Some(d3))
            }),
        ),
        (
            format!(
                "attribute(tier) = \"silver\" AND answer(why) IS ANSWERED AND response(completed_on) > date({d20})"
            ),
            Box::new(move |r: &Value| {
                tier(r).as_deref() == Some("silver")
                    && answer_of(r, "why").is_some()
                    && in_days(r, d20 + Duration::days(1), None)
            }),
        ),
        (
            format!("attribute(vip) = true AND response(completed_on) <= date({d3})"),
            Box::new(move |r: &Value| vip(r) == Some(true) && day(r).is_some_and(|d| d <= d3)),
        ),
    ];
    let plain = cases.len();
    let form_id = crate::reports::uuid_of(&data.form.form_id);
    let cases: Vec<(String, Pick)> = cases.into_iter().map(|(t, p)| (t.to_owned(), p)).chain(dated).collect();
    for stage in ["nothing folded", "all folded"] {
        if stage == "all folded" {
            use nazar::service::report::segment::{Batches, MAX_SEGMENTS, fold_in_batches};
            let folded = fold_in_batches(
                &app.db,
                form_id,
                Tehran,
                Batches {
                    page: 5,
                    pages: 2,
                    segments: MAX_SEGMENTS,
                },
            )
            .await
            .unwrap();
            assert!(folded > 0, "{folded}");
            // Folding changes no figure, so cached results stay valid: move the stamp so that
            // this stage computes afresh.
            nazar::service::report::tally::apply(app.db.conn(), form_id, Tehran, &[], 1)
                .await
                .unwrap();
        }
        let mut nonempty = 0;
        for (i, (text, pick)) in cases.iter().enumerate() {
            let chosen: Vec<Value> = all.iter().filter(|r| pick(r)).cloned().collect();
            if i < plain && chosen.iter().any(|r| r["status"] == "COMPLETED") {
                nonempty += 1;
            }
            for (from, to) in [
                (None, None),
                (Some(today - Duration::days(12)), Some(today - Duration::days(2))),
            ] {
                let body = filtered(&app, &token, &data.form, period(from, to), json!({ "text": text })).await;
                assert!(body["errors"].is_null(), "{text}: {body}");
                let got = &body["data"]["formReport"];
                let want = expected(&chosen, from, to, Tehran);
                let mut differences = Vec::new();
                same(got, &want, "formReport", &mut differences);
                assert!(
                    differences.is_empty(),
                    "{stage}, {text} {from:?}..{to:?}: {differences:#?}"
                );
            }
        }
        assert_eq!(
            nonempty, plain,
            "every filter but the dated ones selects some completed responses"
        );
    }

    // An always-true filter gives exactly the unfiltered report, over any period.
    for (from, to) in [
        (None, None),
        (Some(today - Duration::days(9)), None),
        (Some(today), Some(today)),
    ] {
        let plain = filtered(&app, &token, &data.form, period(from, to), Value::Null).await;
        let everything = filtered(
            &app,
            &token,
            &data.form,
            period(from, to),
            json!({ "text": "response(status) IS ANSWERED" }),
        )
        .await;
        assert!(plain["errors"].is_null(), "{plain}");
        assert_eq!(plain["data"], everything["data"]);
    }
}

/// A random well-typed filter over the report form, the attributes and the response's fields.
fn random_filter(rng: &mut StdRng, depth: u32) -> Expr {
    if depth > 0 && rng.random_bool(0.45) {
        let n = rng.random_range(2..=3);
        let children = (0..n).map(|_| random_filter(rng, depth - 1)).collect();
        return match rng.random_range(0..3) {
            0 => Expr::And(children),
            1 => Expr::Or(children),
            _ => Expr::Not(Box::new(random_filter(rng, depth - 1))),
        };
    }
    let ops = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
    ];
    let sets = [SetOp::ContainsAny, SetOp::ContainsAll, SetOp::ContainsNone];
    let today = Utc::now().date_naive();
    let texts = |rng: &mut StdRng, pool: &[&str]| -> Vec<V> {
        let n = rng.random_range(1..=2);
        (0..n)
            .map(|_| V::Text(pool[rng.random_range(0..pool.len())].to_owned()))
            .collect()
    };
    let number = |rng: &mut StdRng, subject: Operand, low: i32, high: i32| {
        if rng.random_bool(0.2) {
            let a = rng.random_range(low..=high);
            let b = rng.random_range(a..=high);
            Expr::Between {
                subject,
                low: V::Number(f64::from(a)),
                high: V::Number(f64::from(b)),
            }
        } else {
            Expr::Compare {
                subject,
                op: ops[rng.random_range(0..ops.len())],
                value: V::Number(f64::from(rng.random_range(low..=high))),
            }
        }
    };
    let choice = |rng: &mut StdRng, subject: Operand, pool: &[&str]| {
        if rng.random_bool(0.5) {
            Expr::Compare {
                subject,
                op: [CompareOp::Eq, CompareOp::Ne][rng.random_range(0..2)],
                value: V::Text(pool[rng.random_range(0..pool.len())].to_owned()),
            }
        } else {
            Expr::Contains {
                subject,
                op: sets[rng.random_range(0..3)],
                values: texts(rng, pool),
            }
        }
    };
    let answer = |k: &str| Operand::Answer(k.to_owned());
    let attribute = |k: &str| Operand::Attribute(k.to_owned());
    match rng.random_range(0..17) {
        0 => number(rng, answer("nps"), 0, 10),
        1 => number(rng, answer("csat"), 1, 5),
        2 => number(rng, answer("ces"), 1, 7),
        3 => number(rng, answer("age"), 1, 120),
        4 => choice(rng, answer("plan"), &["basic", "pro", "max"]),
        5 => choice(rng, answer("features"), &["speed", "price", "support"]),
        6 => Expr::Compare {
            subject: answer("again"),
            op: [CompareOp::Eq, CompareOp::Ne][rng.random_range(0..2)],
            value: V::Bool(rng.random_bool(0.5)),
        },
        7 => choice(rng, answer("why"), &["slow delivery", "price too high", "x"]),
        8 => choice(rng, attribute("tier"), &TIERS),
        9 => number(rng, attribute("seats"), 1, 50),
        10 => Expr::Compare {
            subject: attribute("vip"),
            op: [CompareOp::Eq, CompareOp::Ne][rng.random_range(0..2)],
            value: V::Bool(rng.random_bool(0.5)),
        },
        11 => Expr::Compare {
            subject: attribute("since"),
            op: ops[rng.random_range(0..ops.len())],
            value: V::Date(today - Duration::days(rng.random_range(0..1500))),
        },
        12 => choice(
            rng,
            Operand::Response(ResponseField::Channel),
            &["LINK", "EMAIL", "SMS", "IN_APP", "PHONE", "IN_PERSON"],
        ),
        13 => choice(
            rng,
            Operand::Response(ResponseField::Status),
            &["IN_PROGRESS", "COMPLETED", "DISQUALIFIED"],
        ),
        14 => Expr::Compare {
            subject: Operand::Response(ResponseField::CompletedOn),
            op: ops[rng.random_range(0..ops.len())],
            value: V::Date(today - Duration::days(rng.random_range(0..26))),
        },
        15 => number(rng, Operand::Response(ResponseField::Duration), 0, 900),
        _ => {
            let subjects = [
                answer("nps"),
                answer("why"),
                answer("plan"),
                answer("features"),
                answer("comment"),
                attribute("tier"),
                attribute("since"),
                Operand::Response(ResponseField::Locale),
                Operand::Response(ResponseField::CompletedOn),
                Operand::Response(ResponseField::TotalScore),
            ];
            Expr::Answered {
                subject: subjects[rng.random_range(0..subjects.len())].clone(),
                answered: rng.random_bool(0.5),
            }
        }
    }
}

/// A form's filled responses read back, with what the condition evaluator reads of each.
struct Selection {
    app: TestApp,
    form: entity::form::Model,
    rows: Vec<entity::response::Model>,
    facts: HashMap<Uuid, nazar::logic::eval::Facts>,
    versions: nazar::service::form::PublishedVersions,
}

impl Selection {
    async fn fill(count: usize, seed: u64) -> Selection {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let app = spawn_app().await;
        let owner = app.sign_up().await;
        let data = fill(&app, &owner, count, seed).await;
        let form_id = crate::reports::uuid_of(&data.form.form_id);
        let conn = app.db.conn();
        let form = entity::form::Entity::find_by_id(form_id)
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        let rows = entity::response::Entity::find()
            .filter(entity::response::Column::FormId.eq(form_id))
            .all(conn)
            .await
            .unwrap();
        let facts = nazar::service::report::filter::facts_of(conn, &rows).await.unwrap();
        Selection {
            app,
            form,
            rows,
            facts,
            versions: Default::default(),
        }
    }

    /// The responses `expr` selects in SQL, checked equal to those the evaluator selects;
    /// `None` when the filter is refused (a contradiction, a condition that never holds).
    async fn checked(&self, expr: &Expr) -> Option<HashSet<Uuid>> {
        let conn = self.app.db.conn();
        let got: HashSet<Uuid> =
            match nazar::service::report::select(conn, &self.versions, &self.form, expr.clone()).await {
                Ok(ids) => ids.into_iter().collect(),
                Err(nazar::error::AppError::Problems { .. }) => return None,
                Err(err) => panic!("{expr}: {err:?}"),
            };
        let want: HashSet<Uuid> = self
            .rows
            .iter()
            .filter(|r| nazar::logic::eval::holds(expr, &self.facts[&r.id]))
            .map(|r| r.id)
            .collect();
        assert_eq!(
            got,
            want,
            "{expr}: SQL selects {} responses, the evaluator {}",
            got.len(),
            want.len()
        );
        Some(got)
    }
}

#[tokio::test]
async fn the_sql_of_random_filters_selects_exactly_what_the_evaluator_selects() {
    let data = Selection::fill(70, 33).await;
    let mut rng = StdRng::seed_from_u64(5);
    let (mut checked, mut refused, mut selective) = (0, 0, 0);
    for _ in 0..400 {
        let expr = random_filter(&mut rng, 3).normalized();
        let Some(got) = data.checked(&expr).await else {
            refused += 1;
            continue;
        };
        checked += 1;
        if !got.is_empty() && got.len() < data.rows.len() {
            selective += 1;
        }
    }
    assert!(checked >= 300, "checked {checked}, refused {refused}");
    assert!(selective >= 150, "only {selective} filters split the responses");
}

/// Filters whose conjunction bounds the completion day and reads attributes: the snapshots
/// are read by the day bounds of the conjunction they sit in (inside `OR` and `NOT` too), on
/// every day of the data and with every comparison, and select what the evaluator selects.
#[tokio::test]
async fn day_bounds_of_a_conjunction_reach_its_attribute_parts_exactly() {
    let data = Selection::fill(80, 41).await;
    let mut days: Vec<NaiveDate> = data.rows.iter().filter_map(|r| r.completed_day).collect();
    days.sort();
    days.dedup();
    assert!(days.len() >= 10, "{} days", days.len());
    let shapes = [
        "attribute(tier) IS ANSWERED AND {d}",
        "{d} AND NOT (attribute(seats) > 10)",
        "(attribute(tier) = \"gold\" OR answer(nps) >= 7) AND {d}",
        "{d} AND (attribute(vip) IS NOT ANSWERED OR NOT (attribute(tier) CONTAINS ANY (\"gold\", \"silver\")))",
        "{d} AND response(completed_on) <= date({last}) AND attribute(since) IS ANSWERED",
        "response(completed_on) BETWEEN (date({first}), date({last})) AND ({d} AND attribute(seats) <= 30)",
    ];
    let (mut checked, mut selective) = (0, 0);
    for day in &days {
        for op in ["=", ">=", ">", "<=", "<"] {
            let bound = format!("response(completed_on) {op} date({day})");
            for shape in shapes {
                let text = shape
                    .replace("{d}", &bound)
                    .replace("{first}", &days[days.len() / 4].to_string())
                    .replace("{last}", &days[days.len() / 2].to_string());
                let expr = nazar::logic::expr::parse(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
                // A bound past the data may make a filter contradict itself.
                let Some(got) = data.checked(&expr).await else { continue };
                checked += 1;
                if !got.is_empty() {
                    selective += 1;
                }
            }
        }
    }
    assert!(checked >= days.len() * 20, "checked {checked}");
    assert!(
        selective >= checked / 3,
        "only {selective} of {checked} selected anything"
    );
}

/// A time-zone change moves a response's local completion day and its snapshots' day with it:
/// a filter by attribute and day finds the response on its new day only.
#[tokio::test]
async fn a_zone_change_moves_the_day_of_attribute_snapshots_with_their_response() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 0, 7).await;
    let gold = Attributes {
        tier: Some("gold".into()),
        ..Attributes::default()
    };
    let id = upsert(&app, &token, "crm-0", &gold).await;
    // 22:00 UTC: the next day in Tehran (UTC+03:30), the same day in Los Angeles.
    let at = (Utc::now() - Duration::days(2))
        .date_naive()
        .and_hms_opt(22, 0, 0)
        .unwrap()
        .and_utc();
    let body = app
        .gql(
            Some(&token),
            "mutation($input: RecordResponseInput!) { recordResponse(input: $input) { response { id } } }",
            json!({ "input": { "formId": data.form.form_id, "idempotencyKey": Uuid::now_v7().to_string(),
                "respondentId": id, "channel": "PHONE", "answers": [answer("nps", json!({ "number": 9 }))],
                "startedAt": (at - Duration::minutes(3)).to_rfc3339(), "completedAt": at.to_rfc3339() } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let on = |day: NaiveDate| json!({ "text": format!("attribute(tier) = \"gold\" AND response(completed_on) = date({day})") });
    let completed = |r: &Value| {
        r["data"]["formReport"]["responses"]["completed"]
            .as_u64()
            .unwrap_or_else(|| panic!("{r}"))
    };
    let tehran = at.with_timezone(&Tehran).date_naive();
    let la = at.with_timezone(&chrono_tz::America::Los_Angeles).date_naive();
    assert_ne!(tehran, la);
    assert_eq!(
        completed(&filtered(&app, &token, &data.form, Value::Null, on(tehran)).await),
        1
    );
    assert_eq!(
        completed(&filtered(&app, &token, &data.form, Value::Null, on(la)).await),
        0
    );

    let body = app
        .gql(
            Some(&token),
            "mutation { updateOrganization(input: { timeZone: \"America/Los_Angeles\" }) { organization { timeZone } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    app.run_jobs().await;
    assert_eq!(
        completed(&filtered(&app, &token, &data.form, Value::Null, on(la)).await),
        1
    );
    assert_eq!(
        completed(&filtered(&app, &token, &data.form, Value::Null, on(tehran)).await),
        0
    );
    // Every snapshot carries its response's day.
    let apart = crate::collect::count_rows(
        &app,
        "SELECT COUNT(*) FROM response_attributes a JOIN responses r ON r.id = a.response_id \
         WHERE a.completed_day IS NULL OR a.completed_day <> r.completed_day",
    )
    .await;
    assert_eq!(apart, 0);
}

#[tokio::test]
async fn attributes_are_read_as_they_were_when_the_response_was_completed() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 10, 3).await;
    let gold = json!({ "text": "attribute(tier) = \"gold\"" });
    let before = filtered(&app, &token, &data.form, Value::Null, gold.clone()).await;
    assert!(before["errors"].is_null(), "{before}");
    // Every respondent becomes gold now: the reports of earlier responses do not change.
    for i in 0..8 {
        let attributes = Attributes {
            tier: Some("gold".into()),
            ..Attributes::default()
        };
        upsert(&app, &token, &format!("crm-{i}"), &attributes).await;
    }
    let after = filtered(&app, &token, &data.form, Value::Null, gold.clone()).await;
    assert_eq!(before["data"], after["data"]);
    // A response completed now counts under the new value.
    let id = upsert(
        &app,
        &token,
        "crm-0",
        &Attributes {
            tier: Some("gold".into()),
            ..Attributes::default()
        },
    )
    .await;
    let body = app
        .gql(
            Some(&token),
            "mutation($input: RecordResponseInput!) { recordResponse(input: $input) { response { id } } }",
            json!({ "input": { "formId": data.form.form_id, "idempotencyKey": Uuid::now_v7().to_string(),
                "respondentId": id, "channel": "PHONE",
                "answers": [answer("nps", json!({ "number": 10 })), answer("age", json!({ "number": 40 }))] } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let now = filtered(&app, &token, &data.form, Value::Null, gold).await;
    let completed = |r: &Value| r["data"]["formReport"]["responses"]["completed"].as_u64().unwrap();
    assert_eq!(completed(&now), completed(&before) + 1, "fresh at once: {now}");
}

#[tokio::test]
async fn bad_filters_are_refused_with_the_node_that_is_wrong() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    for (filter, code, field) in [
        (
            json!({ "text": "answer(nope) = 1" }),
            "CONDITION_UNKNOWN_QUESTION",
            "filter.nodes[0]",
        ),
        (
            json!({ "text": "answer(nps) >= 0 AND attribute(tier) = \"gold\"" }),
            "CONDITION_UNKNOWN_ATTRIBUTE",
            "filter.nodes[2]",
        ),
        (
            json!({ "text": "answer(nps) > 10" }),
            "CONDITION_CONTRADICTION",
            "filter.nodes[0]",
        ),
        (
            json!({ "text": "answer(nps) = \"high\"" }),
            "CONDITION_TYPE_MISMATCH",
            "filter.nodes[0]",
        ),
        (
            json!({ "text": "response(channel) = \"FAX\"" }),
            "CONDITION_UNKNOWN_OPTION",
            "filter.nodes[0]",
        ),
        (
            json!({ "text": "response(colour) = \"red\"" }),
            "INVALID_CONDITION",
            "filter.text",
        ),
        (json!({ "text": "answer(nps) <=" }), "INVALID_CONDITION", "filter.text"),
        (
            json!({ "compare": { "subject": { "response": "DURATION" }, "op": "LESS_THAN", "value": { "text": "x" } } }),
            "CONDITION_TYPE_MISMATCH",
            "filter.nodes[0]",
        ),
    ] {
        let body = filtered(&app, &token, &form, Value::Null, filter.clone()).await;
        let problem = &body["errors"][0]["extensions"]["problems"][0];
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{filter}: {body}");
        assert_eq!(problem["code"], code, "{filter}: {body}");
        assert_eq!(problem["path"], field, "{filter}: {body}");
    }
    // A form's own conditions cannot read the response's fields.
    let body = app
        .gql(
            Some(&token),
            "mutation($input: ImportFormInput!) { importForm(input: $input) { form { id } } }",
            json!({ "input": { "document": REPORT_FORM } }),
        )
        .await;
    let draft = body["data"]["importForm"]["form"]["id"].clone();
    let body = app
        .gql(
            Some(&token),
            "query($id: ID!) { form(id: $id) { draftVersion { sections { questions { id key } } } } }",
            json!({ "id": draft }),
        )
        .await;
    let question = body["data"]["form"]["draftVersion"]["sections"][0]["questions"][1]["id"].clone();
    assert!(question.is_string(), "{body}");
    let body = app
        .gql(
            Some(&token),
            "mutation($input: SetQuestionLogicInput!) { setQuestionLogic(input: $input) { question { key } } }",
            json!({ "input": { "questionId": question, "showIf": { "text": "response(channel) = \"SMS\"" } } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["problems"][0]["code"], "CONDITION_REPORT_ONLY",
        "{body}"
    );
}

#[tokio::test]
async fn saved_reports_keep_their_filter() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 20, 8).await;
    let filter = "answer(nps) >= 9";
    let body = app
        .gql(
            Some(&token),
            "mutation($input: CreateReportInput!) { createReport(input: $input) { report { id filter { text }
                results { filter { text } responses { completed } nps { detractors { count } promoters { count } } } } } }",
            json!({ "input": { "name": "Promoters", "formIds": [data.form.form_id], "filter": { "text": filter } } }),
        )
        .await;
    let report = &body["data"]["createReport"]["report"];
    assert_eq!(report["filter"]["text"], filter, "{body}");
    let result = &report["results"][0];
    assert_eq!(result["filter"]["text"], filter);
    assert_eq!(result["nps"]["detractors"]["count"], 0, "{body}");
    assert_eq!(result["nps"]["promoters"]["count"], result["responses"]["completed"]);
    let direct = filtered(&app, &token, &data.form, Value::Null, json!({ "text": filter })).await;
    assert_eq!(
        direct["data"]["formReport"]["responses"]["completed"],
        result["responses"]["completed"]
    );
    // A filter that does not fit one of the forms is refused where it is given.
    let body = app
        .gql(
            Some(&token),
            "mutation($input: UpdateReportInput!) { updateReport(input: $input) { report { id } } }",
            json!({ "input": { "id": report["id"], "filter": { "text": "answer(missing) IS ANSWERED" } } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["problems"][0]["path"], "input.filter.nodes[0]",
        "{body}"
    );
    // Null clears it.
    let body = app
        .gql(
            Some(&token),
            "mutation($input: UpdateReportInput!) { updateReport(input: $input) { report { filter { text } } } }",
            json!({ "input": { "id": report["id"], "filter": null } }),
        )
        .await;
    assert!(body["data"]["updateReport"]["report"]["filter"].is_null(), "{body}");
}

#[tokio::test]
async fn completion_counts_the_cohort_started_in_the_period() {
    // A response started just before midnight and completed just after: the day it started
    // counts it started and completed (completion 100 %), the next day counts its completion
    // among the completed responses but nothing started.
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    let day = Utc::now().with_timezone(&Tehran).date_naive() - Duration::days(3);
    let local = |d: NaiveDate, h: u32, m: u32| {
        d.and_hms_opt(h, m, 0)
            .unwrap()
            .and_local_timezone(Tehran)
            .unwrap()
            .to_utc()
    };
    let answers = json!([
        answer("nps", json!({ "number": 9 })),
        answer("age", json!({ "number": 30 }))
    ]);
    let body = submit(
        &app,
        &form,
        json!({ "answers": answers, "startedAt": local(day, 23, 58).to_rfc3339(),
                "completedAt": local(day + Duration::days(1), 0, 2).to_rfc3339() }),
    )
    .await;
    result(&body, "submitResponse");
    let first = filtered(&app, &token, &form, period(Some(day), Some(day)), Value::Null).await;
    let r = &first["data"]["formReport"]["responses"];
    assert_eq!(
        (
            r["started"].as_u64(),
            r["completed"].as_u64(),
            r["completionPercent"].as_f64()
        ),
        (Some(1), Some(0), Some(100.0)),
        "{first}"
    );
    let next_day = day + Duration::days(1);
    let second = filtered(&app, &token, &form, period(Some(next_day), Some(next_day)), Value::Null).await;
    let r = &second["data"]["formReport"]["responses"];
    assert_eq!(
        (r["started"].as_u64(), r["completed"].as_u64(), r["inProgress"].as_u64()),
        (Some(0), Some(1), Some(0)),
        "{second}"
    );
    assert!(r["completionPercent"].is_null());
    // Filtered the same way.
    let third = filtered(
        &app,
        &token,
        &form,
        period(Some(day), Some(day)),
        json!({ "text": "answer(nps) >= 9" }),
    )
    .await;
    assert_eq!(
        third["data"]["formReport"]["responses"],
        first["data"]["formReport"]["responses"]
    );
    // A response left in progress counts in progress in the period it started.
    let body = start(
        &app,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 3 }))] }),
    )
    .await;
    result(&body, "startResponse");
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    for filter in [Value::Null, json!({ "text": "response(status) = \"IN_PROGRESS\"" })] {
        let body = filtered(&app, &token, &form, period(Some(today), None), filter).await;
        let r = &body["data"]["formReport"]["responses"];
        assert_eq!(
            (r["started"].as_u64(), r["inProgress"].as_u64()),
            (Some(1), Some(1)),
            "{body}"
        );
        assert_eq!(r["completionPercent"].as_f64(), Some(0.0));
    }
}

const SERIES: &str =
    "query($id: ID!, $interval: Interval!, $calendar: Calendar!, $period: PeriodInput, $filter: ConditionInput) {
    formSeries(formId: $id, interval: $interval, calendar: $calendar, period: $period, filter: $filter) {
      interval calendar buckets { label from to report { REPORT_FIELDS } } } }";

const BREAKDOWN: &str =
    "query($id: ID!, $by: DimensionInput!, $period: PeriodInput, $filter: ConditionInput, $limit: Int) {
    formBreakdown(formId: $id, by: $by, period: $period, filter: $filter, limit: $limit) {
      groups { kind value low high n tooSmall report { REPORT_FIELDS } } } }";

/// The selection of a whole report, as the reports test asks for it.
fn report_fields() -> String {
    let start = REPORT.find("formReport(formId: $id, period: $period) {").unwrap()
        + "formReport(formId: $id, period: $period) {".len();
    let body = &REPORT[start..];
    body[..body.rfind('}').unwrap()].trim().trim_end_matches('}').to_owned()
}

fn day_of(r: &Value, field: &str) -> Option<NaiveDate> {
    let at = chrono::DateTime::parse_from_rfc3339(r[field].as_str()?).ok()?;
    Some(at.with_timezone(&Tehran).date_naive())
}

#[tokio::test]
async fn series_buckets_match_the_reports_of_their_days_in_both_calendars() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 60, 17).await;
    let all = raw(&app, &token, &data.form).await;
    let query = SERIES.replace("REPORT_FIELDS", &report_fields());
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let period = period(Some(today - Duration::days(27)), Some(today));
    let promoters = |r: &Value| {
        answer_of(r, "nps")
            .and_then(|a| a["number"].as_f64())
            .is_some_and(|n| n >= 9.0)
    };
    for (interval, calendar) in [
        ("MONTH", "PERSIAN"),
        ("MONTH", "GREGORIAN"),
        ("WEEK", "PERSIAN"),
        ("WEEK", "GREGORIAN"),
        ("DAY", "PERSIAN"),
    ] {
        for (filter, chosen) in [
            (Value::Null, all.clone()),
            (
                json!({ "text": "answer(nps) >= 9" }),
                all.iter().filter(|r| promoters(r)).cloned().collect::<Vec<_>>(),
            ),
        ] {
            let body = app
                .gql(
                    Some(&token),
                    &query,
                    json!({ "id": data.form.form_id, "interval": interval, "calendar": calendar,
                            "period": period, "filter": filter }),
                )
                .await;
            let buckets = body["data"]["formSeries"]["buckets"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"));
            assert!(buckets.len() >= 2, "{interval} {calendar}: {body}");
            let mut covered = 0;
            for bucket in buckets {
                let from = NaiveDate::parse_from_str(bucket["from"].as_str().unwrap(), "%Y-%m-%d").unwrap();
                let to = NaiveDate::parse_from_str(bucket["to"].as_str().unwrap(), "%Y-%m-%d").unwrap();
                let want = expected(&chosen, Some(from), Some(to), Tehran);
                let mut differences = Vec::new();
                same(&bucket["report"], &want, "bucket", &mut differences);
                assert!(
                    differences.is_empty(),
                    "{interval} {calendar} {filter} {}: {differences:#?}",
                    bucket["label"]
                );
                covered += (to - from).num_days() + 1;
            }
            assert_eq!(covered, 28, "the buckets cover the period exactly");
            let completed: u64 = buckets
                .iter()
                .map(|b| b["report"]["responses"]["completed"].as_u64().unwrap())
                .sum();
            let inside = chosen
                .iter()
                .filter(|r| {
                    r["status"] == "COMPLETED"
                        && day_of(r, "completedAt").is_some_and(|d| d >= today - Duration::days(27))
                })
                .count() as u64;
            assert_eq!(completed, inside);
        }
    }

    // Whole Gregorian months are read from the counts' month rows: responses completed over
    // the last months, each month and quarter against the report of its days.
    let now = app.clock.now();
    for back in [33, 47, 61, 76, 92, 118] {
        let at = now - Duration::days(back);
        // Collected offline, sent within the days a submission may be late.
        app.clock.set(at + Duration::days(1));
        let body = submit(
            &app,
            &data.form,
            json!({ "answers": [answer("nps", json!({ "number": back % 11 })), answer("age", json!({ "number": back }))],
                    "startedAt": (at - Duration::minutes(5)).to_rfc3339(), "completedAt": at.to_rfc3339() }),
        )
        .await;
        result(&body, "submitResponse");
    }
    app.clock.set(now);
    let all = raw(&app, &token, &data.form).await;
    let long = self::period(Some(today - Duration::days(130)), Some(today));
    for interval in ["MONTH", "QUARTER"] {
        let body = app
            .gql(
                Some(&token),
                &query,
                json!({ "id": data.form.form_id, "interval": interval, "calendar": "GREGORIAN", "period": long }),
            )
            .await;
        let buckets = body["data"]["formSeries"]["buckets"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert!(buckets.len() >= 2, "{interval}: {body}");
        let mut completed = 0;
        for bucket in buckets {
            let from = NaiveDate::parse_from_str(bucket["from"].as_str().unwrap(), "%Y-%m-%d").unwrap();
            let to = NaiveDate::parse_from_str(bucket["to"].as_str().unwrap(), "%Y-%m-%d").unwrap();
            let mut differences = Vec::new();
            same(
                &bucket["report"],
                &expected(&all, Some(from), Some(to), Tehran),
                "bucket",
                &mut differences,
            );
            assert!(
                differences.is_empty(),
                "{interval} {}: {differences:#?}",
                bucket["label"]
            );
            completed += bucket["report"]["responses"]["completed"].as_u64().unwrap();
        }
        let inside = all
            .iter()
            .filter(|r| {
                r["status"] == "COMPLETED" && day_of(r, "completedAt").is_some_and(|d| d >= today - Duration::days(130))
            })
            .count() as u64;
        assert_eq!(completed, inside, "{interval}");
    }

    // Buckets at Nowruz and at the turn of a Gregorian year (days without responses).
    let labels = |body: &Value| -> Vec<(String, String, String)> {
        body["data"]["formSeries"]["buckets"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|b| {
                (
                    b["label"].as_str().unwrap().to_owned(),
                    b["from"].as_str().unwrap().to_owned(),
                    b["to"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let ask = |interval: &'static str, calendar: &'static str, from: &'static str, to: &'static str| {
        let (app, token, query, form) = (&app, &token, &query, &data.form);
        async move {
            app.gql(
                Some(token),
                query,
                json!({ "id": form.form_id, "interval": interval, "calendar": calendar,
                        "period": { "from": from, "to": to } }),
            )
            .await
        }
    };
    let own = |v: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        v.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(
        labels(&ask("MONTH", "PERSIAN", "2026-02-01", "2026-04-30").await),
        own(&[
            ("1404-11", "2026-02-01", "2026-02-19"),
            ("1404-12", "2026-02-20", "2026-03-20"),
            ("1405-01", "2026-03-21", "2026-04-20"),
            ("1405-02", "2026-04-21", "2026-04-30"),
        ])
    );
    assert_eq!(
        labels(&ask("YEAR", "PERSIAN", "2025-01-01", "2026-12-01").await),
        own(&[
            ("1403", "2025-01-01", "2025-03-20"),
            ("1404", "2025-03-21", "2026-03-20"),
            ("1405", "2026-03-21", "2026-12-01"),
        ])
    );
    assert_eq!(
        labels(&ask("WEEK", "GREGORIAN", "2025-12-27", "2026-01-06").await),
        own(&[
            ("2025-W52", "2025-12-27", "2025-12-28"),
            ("2026-W01", "2025-12-29", "2026-01-04"),
            ("2026-W02", "2026-01-05", "2026-01-06"),
        ])
    );
    assert_eq!(
        labels(&ask("QUARTER", "GREGORIAN", "2025-11-15", "2026-04-01").await),
        own(&[
            ("2025-Q4", "2025-11-15", "2025-12-31"),
            ("2026-Q1", "2026-01-01", "2026-03-31"),
            ("2026-Q2", "2026-04-01", "2026-04-01"),
        ])
    );
    // Too many buckets is refused, naming the period.
    let body = ask("DAY", "GREGORIAN", "2020-01-01", "2026-01-01").await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "period");
}

#[tokio::test]
async fn breakdowns_split_the_report_by_answers_attributes_tenure_and_channel() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 80, 29).await;
    let all = raw(&app, &token, &data.form).await;
    let query = BREAKDOWN.replace("REPORT_FIELDS", &report_fields());
    let ask = |by: Value, limit: i32, filter: Value| {
        let (app, token, query, form) = (&app, &token, &query, &data.form);
        async move {
            let body = app
                .gql(
                    Some(token),
                    query,
                    json!({ "id": form.form_id, "by": by, "limit": limit, "filter": filter }),
                )
                .await;
            body["data"]["formBreakdown"]["groups"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .clone()
        }
    };
    let check = |groups: &[Value], label: &str, pick: &dyn Fn(&Value, &Value) -> bool| {
        for group in groups {
            let chosen: Vec<Value> = all.iter().filter(|r| pick(group, r)).cloned().collect();
            let want = expected(&chosen, None, None, Tehran);
            let mut differences = Vec::new();
            same(&group["report"], &want, "group", &mut differences);
            assert!(differences.is_empty(), "{label} {}: {differences:#?}", group["value"]);
            let n = want["responses"]["completed"].as_u64().unwrap();
            assert_eq!(group["n"].as_u64(), Some(n));
            assert_eq!(group["tooSmall"].as_bool(), Some(n < 30));
        }
    };

    // By the answer to a choice question: each option, and the responses without one.
    let groups = ask(json!({ "answer": { "key": "plan" } }), 10, Value::Null).await;
    check(&groups, "plan", &|g, r| match g["kind"].as_str().unwrap() {
        "VALUE" => answer_of(r, "plan").is_some_and(|a| a["choices"].as_array().unwrap().contains(&g["value"])),
        _ => answer_of(r, "plan").is_none_or(|a| a["choices"].as_array().unwrap().is_empty()),
    });
    let ns: Vec<u64> = groups
        .iter()
        .filter(|g| g["kind"] == "VALUE")
        .map(|g| g["n"].as_u64().unwrap())
        .collect();
    assert!(ns.windows(2).all(|w| w[0] >= w[1]), "largest first: {ns:?}");
    assert!(groups.iter().any(|g| g["kind"] == "NONE"));

    // Folding past a limit: the rest is one group.
    let folded = ask(json!({ "answer": { "key": "plan" } }), 2, Value::Null).await;
    assert_eq!(folded.len(), 3);
    assert_eq!(folded[2]["kind"], "OTHER");
    // The kept groups' keys: a value, or none (responses without a plan).
    let kept: Vec<Option<Value>> = folded[..2]
        .iter()
        .map(|g| (g["kind"] == "VALUE").then(|| g["value"].clone()))
        .collect();
    check(&folded, "plan folded", &|g, r| {
        let chosen = answer_of(r, "plan").and_then(|a| a["choices"].get(0).cloned());
        match g["kind"].as_str().unwrap() {
            "VALUE" => chosen.as_ref() == Some(&g["value"]),
            "NONE" => chosen.is_none(),
            _ => !kept.contains(&chosen),
        }
    });

    // NPS in bands of a scale, filtered.
    let nps = |r: &Value| answer_of(r, "nps").and_then(|a| a["number"].as_f64());
    let groups = ask(
        json!({ "answer": { "key": "nps", "bands": [7, 9] } }),
        10,
        json!({ "text": "response(channel) != \"SMS\"" }),
    )
    .await;
    let labels: Vec<&str> = groups.iter().filter_map(|g| g["value"].as_str()).collect();
    assert_eq!(labels, ["< 7", "7 to < 9", "≥ 9"]);
    check(&groups, "nps bands", &|g, r| {
        r["channel"] != "SMS"
            && match (g["kind"].as_str().unwrap(), nps(r)) {
                ("VALUE", Some(n)) => {
                    g["low"].as_f64().is_none_or(|l| n >= l) && g["high"].as_f64().is_none_or(|h| n < h)
                }
                ("NONE", None) => true,
                _ => false,
            }
    });

    // By channel.
    let groups = ask(json!({ "response": "CHANNEL" }), 10, Value::Null).await;
    check(&groups, "channel", &|g, r| r["channel"] == g["value"]);

    // By an attribute as it was, and by tenure at completion.
    let tier = |r: &Value| {
        data.snapshot
            .get(r["id"].as_str().unwrap())
            .and_then(|a| a.tier.clone())
    };
    let groups = ask(json!({ "attribute": { "name": "tier" } }), 10, Value::Null).await;
    check(&groups, "tier", &|g, r| match g["kind"].as_str().unwrap() {
        "VALUE" => tier(r).as_deref() == g["value"].as_str(),
        _ => tier(r).is_none(),
    });
    let tenure_days = |r: &Value| -> Option<i64> {
        let since = data.snapshot.get(r["id"].as_str().unwrap())?.since?;
        Some((day_of(r, "completedAt")? - since).num_days())
    };
    let groups = ask(
        json!({ "tenure": { "attribute": "since", "months": [6, 24] } }),
        10,
        Value::Null,
    )
    .await;
    let labels: Vec<&str> = groups.iter().filter_map(|g| g["value"].as_str()).collect();
    assert_eq!(labels, ["< 6 months", "6 to < 24 months", "≥ 24 months"]);
    check(
        &groups,
        "tenure",
        &|g, r| match (g["kind"].as_str().unwrap(), tenure_days(r)) {
            ("VALUE", Some(days)) => {
                let bound = |m: Option<f64>| m.map(|m| (m * 365.25 / 12.0).round() as i64);
                bound(g["low"].as_f64()).is_none_or(|l| days >= l) && bound(g["high"].as_f64()).is_none_or(|h| days < h)
            }
            ("NONE", None) => true,
            _ => false,
        },
    );

    // Refusals name the input.
    for (by, field) in [
        (json!({ "answer": { "key": "nope" } }), "by.answer.key"),
        (
            json!({ "answer": { "key": "plan", "bands": [1, 2] } }),
            "by.answer.bands",
        ),
        (
            json!({ "answer": { "key": "nps", "bands": [9, 7] } }),
            "by.answer.bands",
        ),
        (json!({ "tenure": { "attribute": "tier" } }), "by.tenure.attribute"),
        (json!({ "attribute": { "name": "nope" } }), "by.attribute.name"),
        (json!({ "response": "DURATION" }), "by.response"),
    ] {
        let body = app
            .gql(Some(&token), &query, json!({ "id": data.form.form_id, "by": by }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{by}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{by}: {body}");
    }
}

/// ∫ₐᵇ f by Simpson's rule with `n` (even) steps.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let mut sum = f(a) + f(b);
    for i in 1..n {
        sum += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

/// Two-sided p of a standard normal z, by integrating the density.
fn normal_tail(z: f64) -> f64 {
    let inner = simpson(|x| (-x * x / 2.0).exp(), 0.0, z.abs(), 20_000);
    1.0 - inner / (std::f64::consts::PI / 2.0).sqrt()
}

/// Two-sided p of Student's t with `df` degrees of freedom, by integrating the (unnormalized)
/// density against its whole mass.
fn student_tail(t: f64, df: f64) -> f64 {
    let density = |x: f64| (1.0 + x * x / df).powf(-(df + 1.0) / 2.0);
    let inner = simpson(density, 0.0, t.abs(), 20_000);
    // ∫₀^∞ by x = u / (1 − u).
    let whole = simpson(
        |u: f64| {
            if u >= 1.0 {
                0.0
            } else {
                density(u / (1.0 - u)) / (1.0 - u).powi(2)
            }
        },
        0.0,
        1.0,
        400_000,
    );
    1.0 - inner / whole
}

#[tokio::test]
async fn comparisons_test_each_change_as_the_product_defines() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 90, 41).await;
    let all = raw(&app, &token, &data.form).await;
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let (from, to) = (today - Duration::days(9), today);
    let fields = report_fields();
    let query = format!(
        "query($id: ID!, $period: PeriodInput!) {{ formComparison(formId: $id, period: $period) {{
            current {{ from to {fields} }} previous {{ from to {fields} }}
            changes {{ metric test current previous change statistic pValue significant }} }} }}"
    );
    let body = app
        .gql(
            Some(&token),
            &query,
            json!({ "id": data.form.form_id, "period": period(Some(from), Some(to)) }),
        )
        .await;
    let got = &body["data"]["formComparison"];
    assert!(got.is_object(), "{body}");
    // The previous period defaults to the ten days before.
    assert_eq!(got["previous"]["from"], (from - Duration::days(10)).to_string());
    assert_eq!(got["previous"]["to"], (from - Duration::days(1)).to_string());
    let now = expected(&all, Some(from), Some(to), Tehran);
    let before = expected(
        &all,
        Some(from - Duration::days(10)),
        Some(from - Duration::days(1)),
        Tehran,
    );
    for (report, want) in [(&got["current"], &now), (&got["previous"], &before)] {
        let mut differences = Vec::new();
        same(report, want, "report", &mut differences);
        assert!(differences.is_empty(), "{differences:#?}");
    }
    let f = |v: &Value| v.as_f64().unwrap();
    let u = |v: &Value| v.as_u64().unwrap() as f64;
    let question = |r: &Value, key: &str| {
        r["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["key"] == key)
            .unwrap()["numbers"]
            .clone()
    };
    // (metric, statistic, p) computed here from the two reports.
    let two_proportion = |x1: f64, n1: f64, x2: f64, n2: f64| {
        let pooled = (x1 + x2) / (n1 + n2);
        let z = (x1 / n1 - x2 / n2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
        (z, normal_tail(z))
    };
    let welch = |a: &Value, b: &Value| {
        let (m1, s1, n1) = (f(&a["mean"]), f(&a["stdDev"]), u(&a["n"]));
        let (m2, s2, n2) = (f(&b["mean"]), f(&b["stdDev"]), u(&b["n"]));
        let (v1, v2) = (s1 * s1 / n1, s2 * s2 / n2);
        let t = (m1 - m2) / (v1 + v2).sqrt();
        let df = (v1 + v2).powi(2) / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
        (t, student_tail(t, df))
    };
    let nps_z = {
        let share = |r: &Value, part: &str| u(&r["nps"][part]["count"]) / u(&r["nps"]["n"]);
        let variance = |r: &Value| {
            let (p, d) = (share(r, "promoters"), share(r, "detractors"));
            (p + d - (p - d).powi(2)) / u(&r["nps"]["n"])
        };
        let z = (f(&now["nps"]["score"]) - f(&before["nps"]["score"]))
            / 100.0
            / (variance(&now) + variance(&before)).sqrt();
        (z, normal_tail(z))
    };
    let started = |r: &Value| u(&r["responses"]["started"]);
    let done = |r: &Value| (f(&r["responses"]["completionPercent"]) / 100.0 * started(r)).round();
    let wanted = [
        ("NPS", nps_z),
        (
            "CSAT_PERCENT",
            two_proportion(
                u(&now["csat"]["satisfied"]),
                u(&now["csat"]["n"]),
                u(&before["csat"]["satisfied"]),
                u(&before["csat"]["n"]),
            ),
        ),
        ("CSAT_MEAN", welch(&question(&now, "csat"), &question(&before, "csat"))),
        ("CES_MEAN", welch(&question(&now, "ces"), &question(&before, "ces"))),
        (
            "CES_PERCENT_EASY",
            two_proportion(
                u(&now["ces"]["easy"]),
                u(&now["ces"]["n"]),
                u(&before["ces"]["easy"]),
                u(&before["ces"]["n"]),
            ),
        ),
        (
            "COMPLETION_PERCENT",
            two_proportion(done(&now), started(&now), done(&before), started(&before)),
        ),
        (
            "TIME_TO_COMPLETE",
            welch(
                &now["responses"]["timeToComplete"],
                &before["responses"]["timeToComplete"],
            ),
        ),
    ];
    let changes = got["changes"].as_array().unwrap();
    assert_eq!(changes.len(), wanted.len());
    for (change, (metric, (statistic, p))) in changes.iter().zip(wanted) {
        assert_eq!(change["metric"], metric);
        assert!(
            (f(&change["statistic"]) - statistic).abs() < 1e-9,
            "{metric}: {change} vs {statistic}"
        );
        assert!((f(&change["pValue"]) - p).abs() < 1e-6, "{metric}: {change} vs p {p}");
        assert_eq!(change["significant"], p < 0.05, "{metric}");
    }
    let nps_change = &changes[0];
    assert!((f(&nps_change["change"]) - (f(&now["nps"]["score"]) - f(&before["nps"]["score"]))).abs() < 1e-9);

    // Both days are needed.
    let body = app
        .gql(
            Some(&token),
            &query,
            json!({ "id": data.form.form_id, "period": { "from": from.to_string() } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "period.to", "{body}");
}

#[tokio::test]
async fn a_touchpoint_combines_its_forms_and_drop_off_and_history_read_the_responses() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 50, 51).await;
    // A second form of the same touchpoint, and a third of another.
    let second = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    let third = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    for (form, touchpoint) in [(&data.form, "purchase"), (&second, "purchase"), (&third, "support")] {
        let body = app
            .gql(
                Some(&token),
                "mutation($input: UpdateFormSettingsInput!) { updateFormSettings(input: $input) { form { id } } }",
                json!({ "input": { "id": form.form_id, "touchpoint": touchpoint } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let mut rng = StdRng::seed_from_u64(77);
    for form in [&second, &third] {
        for _ in 0..25 {
            let finished = Utc::now() - Duration::minutes(rng.random_range(0..20 * 24 * 60));
            let body = submit(
                &app,
                form,
                json!({ "answers": random_answers(&mut rng), "startedAt": (finished - Duration::minutes(4)).to_rfc3339(),
                        "completedAt": finished.to_rfc3339() }),
            )
            .await;
            result(&body, "submitResponse");
        }
    }
    let mut purchase = raw(&app, &token, &data.form).await;
    purchase.extend(raw(&app, &token, &second).await);
    let all_forms: Vec<Value> = purchase
        .iter()
        .cloned()
        .chain(raw(&app, &token, &third).await)
        .collect();
    let fields = "touchpoint forms { id } responses { started completed disqualified inProgress completionPercent }
        nps { score n promoters { count percent } passives { count percent } detractors { count percent } marginOfError tooSmall distribution { value count percent } }
        csat { percent marginOfError mean satisfied n tooSmall distribution { value count } }
        ces { mean marginOfError percentEasy easy n tooSmall distribution { value count } }";
    let query = format!("query($t: String) {{ touchpoints touchpointReport(touchpoint: $t) {{ {fields} }} }}");
    for (touchpoint, chosen, forms) in [(json!("purchase"), &purchase, 2), (Value::Null, &all_forms, 3)] {
        let body = app.gql(Some(&token), &query, json!({ "t": touchpoint })).await;
        assert_eq!(body["data"]["touchpoints"], json!(["purchase", "support"]), "{body}");
        let got = &body["data"]["touchpointReport"];
        assert_eq!(got["forms"].as_array().map(Vec::len), Some(forms), "{body}");
        let mut want = expected(chosen, None, None, Tehran);
        for metric in ["nps", "csat", "ces"] {
            want[metric].as_object_mut().unwrap().remove("questionKey");
        }
        want["responses"].as_object_mut().unwrap().remove("timeToComplete");
        let mut differences = Vec::new();
        for part in ["responses", "nps", "csat", "ces"] {
            same(&got[part], &want[part], part, &mut differences);
        }
        assert!(differences.is_empty(), "{touchpoint}: {differences:#?}");
    }
    // The journey over time: each bucket combines the forms' buckets.
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let body = app
        .gql(
            Some(&token),
            &format!(
                "query($p: PeriodInput) {{ touchpointSeries(touchpoint: \"purchase\", interval: WEEK, calendar: PERSIAN, period: $p) {{
                    buckets {{ label from to report {{ {fields} }} }} }} }}"
            ),
            json!({ "p": period(Some(today - Duration::days(20)), Some(today)) }),
        )
        .await;
    let buckets = body["data"]["touchpointSeries"]["buckets"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(buckets.len() >= 3);
    for bucket in buckets {
        let from = NaiveDate::parse_from_str(bucket["from"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        let to = NaiveDate::parse_from_str(bucket["to"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        let want = expected(&purchase, Some(from), Some(to), Tehran);
        let mut differences = Vec::new();
        for part in ["nps", "csat"] {
            let mut w = want[part].clone();
            if let Some(o) = w.as_object_mut() {
                o.remove("questionKey");
            }
            same(&bucket["report"][part], &w, part, &mut differences);
        }
        same(
            &bucket["report"]["responses"]["completed"],
            &want["responses"]["completed"],
            "completed",
            &mut differences,
        );
        assert!(differences.is_empty(), "{}: {differences:#?}", bucket["label"]);
    }

    // Drop-off: where the responses in progress of the first form stopped.
    let first = raw(&app, &token, &data.form).await;
    let order = [
        "nps", "why", "csat", "ces", "stars", "plan", "features", "again", "comment", "age",
    ];
    let mut want: std::collections::BTreeMap<&str, (u64, u64, u64)> = std::collections::BTreeMap::new();
    let mut in_progress = 0;
    for r in first.iter().filter(|r| r["status"] == "IN_PROGRESS") {
        in_progress += 1;
        let nps = answer_of(r, "nps").and_then(|a| a["number"].as_f64());
        let visible: Vec<&str> = order
            .iter()
            .copied()
            .filter(|k| *k != "why" || nps.is_some_and(|n| n <= 6.0))
            .collect();
        let answered = |k: &str| answer_of(r, k).is_some();
        let stop = visible.iter().rposition(|k| answered(k)).map_or(0, |i| i + 1);
        for (i, key) in visible
            .iter()
            .enumerate()
            .take(if stop < visible.len() { stop + 1 } else { visible.len() })
        {
            let entry = want.entry(key).or_default();
            entry.0 += 1;
            entry.1 += u64::from(answered(key));
            entry.2 += u64::from(i == stop);
        }
    }
    assert!(in_progress >= 3, "{in_progress} responses in progress");
    let body = app
        .gql(
            Some(&token),
            "query($id: ID!) { formDropOff(formId: $id) { inProgress stoppedAtEnd questions { key reached answered stopped stoppedPercent } } }",
            json!({ "id": data.form.form_id }),
        )
        .await;
    let got = &body["data"]["formDropOff"];
    assert_eq!(got["inProgress"], in_progress, "{body}");
    for q in got["questions"].as_array().unwrap() {
        let key = q["key"].as_str().unwrap();
        let (reached, answered, stopped) = want.get(key).copied().unwrap_or_default();
        assert_eq!(
            (q["reached"].as_u64(), q["answered"].as_u64(), q["stopped"].as_u64()),
            (Some(reached), Some(answered), Some(stopped)),
            "{key}: {q}"
        );
    }
    let stopped: u64 = got["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["stopped"].as_u64().unwrap())
        .sum();
    assert_eq!(stopped + got["stoppedAtEnd"].as_u64().unwrap(), in_progress);

    // A respondent's history: their recorded responses, latest first, with NPS and CSAT.
    let body = app
        .gql(
            Some(&token),
            "query { respondents(first: 20) { nodes { externalId history { started completed latestNps { value responseId }
                latestNpsCategory latestCsat { value } responses { responseId status startedAt nps csat } } } } }",
            json!({}),
        )
        .await;
    let respondents = body["data"]["respondents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let mut seen = 0;
    for respondent in respondents {
        let history = &respondent["history"];
        let entries = history["responses"].as_array().unwrap();
        let mine: Vec<&Value> = first
            .iter()
            .filter(|r| entries.iter().any(|e| e["responseId"] == r["id"]))
            .collect();
        assert_eq!(mine.len(), entries.len());
        assert_eq!(history["started"].as_u64(), Some(entries.len() as u64));
        let starts: Vec<&str> = entries.iter().map(|e| e["startedAt"].as_str().unwrap()).collect();
        assert!(starts.windows(2).all(|w| w[0] >= w[1]), "latest first");
        for e in entries {
            let r = mine.iter().find(|r| r["id"] == e["responseId"]).unwrap();
            assert_eq!(
                e["nps"].as_f64(),
                answer_of(r, "nps").and_then(|a| a["number"].as_f64())
            );
            assert_eq!(
                e["csat"].as_f64(),
                answer_of(r, "csat").and_then(|a| a["number"].as_f64())
            );
        }
        let latest = entries
            .iter()
            .find(|e| e["status"] == "COMPLETED" && e["nps"].is_number());
        assert_eq!(
            history["latestNps"]["value"].as_f64(),
            latest.and_then(|e| e["nps"].as_f64())
        );
        if let Some(n) = latest.and_then(|e| e["nps"].as_f64()) {
            let category = if n >= 9.0 {
                "PROMOTER"
            } else if n >= 7.0 {
                "PASSIVE"
            } else {
                "DETRACTOR"
            };
            assert_eq!(history["latestNpsCategory"], category);
            seen += 1;
        }
    }
    assert!(seen > 0, "some respondent has an NPS: {body}");
}

#[tokio::test]
async fn a_filter_reads_keys_only_older_versions_have() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let form = publish_document(&app, &owner, REPORT_FORM, json!({})).await;
    for comment in [Some("quick"), Some("slow"), None, Some("fine"), None] {
        let mut answers = vec![
            answer("nps", json!({ "number": 8 })),
            answer("age", json!({ "number": 30 })),
        ];
        if let Some(c) = comment {
            answers.push(answer("comment", json!({ "text": c })));
        }
        result(
            &submit(&app, &form, json!({ "answers": answers })).await,
            "submitResponse",
        );
    }
    // Version 2 drops the comment question.
    let body = app
        .gql(
            Some(&token),
            "query($id: ID!) { form(id: $id) { publishedVersion { sections { questions { id key } } } } }",
            json!({ "id": form.form_id }),
        )
        .await;
    let comment = body["data"]["form"]["publishedVersion"]["sections"][0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "comment")
        .unwrap()["id"]
        .clone();
    let body = app
        .gql(
            Some(&token),
            "mutation($input: DeleteQuestionInput!) { deleteQuestion(input: $input) { __typename } }",
            json!({ "input": { "id": comment } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app
        .gql(
            Some(&token),
            "mutation($id: ID!) { publishForm(input: { id: $id }) { version { number } } }",
            json!({ "id": form.form_id }),
        )
        .await;
    assert_eq!(body["data"]["publishForm"]["version"]["number"], 2, "{body}");
    for (filter, completed) in [
        ("answer(comment) IS ANSWERED", 3),
        ("answer(comment) = \"slow\" OR answer(comment) = \"fine\"", 2),
        ("answer(comment) IS NOT ANSWERED", 2),
    ] {
        let body = filtered(&app, &token, &form, Value::Null, json!({ "text": filter })).await;
        assert_eq!(
            body["data"]["formReport"]["responses"]["completed"], completed,
            "{filter}: {body}"
        );
    }
    let body = filtered(
        &app,
        &token,
        &form,
        Value::Null,
        json!({ "text": "answer(never_was) IS ANSWERED" }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["problems"][0]["code"], "CONDITION_UNKNOWN_QUESTION",
        "{body}"
    );
}

/// Every figure of a report that segments count: no times to complete, no total scores.
const SEGMENT_FIELDS: &str = "responses { started completed disqualified inProgress completionPercent }
    nps { questionKey score n promoters { count percent } passives { count percent } detractors { count percent }
      marginOfError tooSmall distribution { value count percent } }
    csat { questionKey percent marginOfError mean satisfied n tooSmall distribution { value count } }
    ces { questionKey mean marginOfError percentEasy easy n tooSmall distribution { value count } }
    questions { key kind answered skipped distribution { value count percent }
      numbers { n mean median stdDev marginOfError } scores { n mean median stdDev marginOfError } }";

/// A filter every response passes, which no read by segment recognizes: the reference that
/// reads every response.
const EVERYONE: &str = "response(status) IS ANSWERED";

/// A breakdown by a text or boolean attribute (with or without times), or by tenure without
/// times, reads the folded counts by segment, the responses not folded yet and the tallies
/// (for the responses in no segment); with a filter it reads every response. Both give the
/// same groups before a fold, after it, with responses and deletions after it, and after a
/// rebuild; so do filters naming one segment, with and without bounds on the completion day.
#[tokio::test]
async fn breakdowns_by_segment_equal_the_scan_of_every_response() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 60, 41).await;
    let form_id = crate::reports::uuid_of(&data.form.form_id);
    let organization_id = {
        use sea_orm::EntityTrait;
        entity::form::Entity::find_by_id(form_id)
            .one(app.db.conn())
            .await
            .unwrap()
            .unwrap()
            .organization_id
    };
    let scanned = BREAKDOWN.replace("REPORT_FIELDS", &report_fields());
    let segmented = BREAKDOWN.replace("REPORT_FIELDS", SEGMENT_FIELDS);
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let dimensions = [
        json!({ "attribute": { "name": "tier" } }),
        json!({ "attribute": { "name": "vip" } }),
        json!({ "tenure": { "attribute": "since", "months": [1, 6, 24] } }),
    ];
    let periods = [
        Value::Null,
        period(Some(today - Duration::days(9)), Some(today)),
        period(Some(today.with_day0(0).unwrap() - Duration::days(40)), None),
    ];
    let compare = |stage: &'static str| {
        let (app, token, scanned, segmented, dimensions, periods) =
            (&app, &token, &scanned, &segmented, &dimensions, &periods);
        let form = data.form.form_id.clone();
        async move {
            for by in dimensions {
                for period in periods {
                    let vars = json!({ "id": form, "by": by, "period": period, "limit": 10 });
                    let mut answers = Vec::new();
                    for (query, filter) in [
                        (scanned, json!({ "text": EVERYONE })),
                        (scanned, Value::Null),
                        (segmented, Value::Null),
                    ] {
                        let mut vars = vars.clone();
                        vars["filter"] = filter;
                        let body = app.gql(Some(token), query, vars).await;
                        answers.push(
                            body["data"]["formBreakdown"]["groups"]
                                .as_array()
                                .unwrap_or_else(|| panic!("{body}"))
                                .clone(),
                        );
                    }
                    let want = &answers[0];
                    for got in &answers[1..] {
                        let label = format!("{stage}, by {by}, over {period}");
                        assert_eq!(want.len(), got.len(), "{label}: {want:#?} {got:#?}");
                        assert!(!got.is_empty(), "{label}");
                        for (w, g) in want.iter().zip(got) {
                            for field in ["kind", "value", "low", "high", "n", "tooSmall"] {
                                assert_eq!(w[field], g[field], "{label}: {field}");
                            }
                            let mut differences = Vec::new();
                            same(&w["report"], &g["report"], "group", &mut differences);
                            assert!(differences.is_empty(), "{label} {}: {differences:#?}", g["value"]);
                        }
                    }
                }
            }
            // Filters naming one attribute's values: reports and series.
            let report_of = |fields: &str| {
                format!(
                    "query($id: ID!, $period: PeriodInput, $filter: ConditionInput) {{ formReport(formId: $id, period: $period, filter: $filter) {{ {fields} }} }}"
                )
            };
            let d9 = today - Duration::days(9);
            let dated = [
                format!("attribute(tier) = \"gold\" AND response(completed_on) >= date({d9})"),
                format!("attribute(vip) = true AND answer(nps) IS ANSWERED AND response(completed_on) < date({today})"),
                "attribute(tier) = \"silver\" AND answer(features) IS ANSWERED".to_owned(),
            ];
            for filter in [
                "attribute(tier) = \"gold\"",
                "attribute(tier) CONTAINS ANY (\"gold\", \"bronze\")",
                "attribute(vip) = true",
            ]
            .into_iter()
            .chain(dated.iter().map(String::as_str))
            {
                for period in periods {
                    let mut answers = Vec::new();
                    for (query, text) in [
                        (report_of(&report_fields()), format!("({filter}) AND {EVERYONE}")),
                        (report_of(&report_fields()), filter.to_owned()),
                        (report_of(SEGMENT_FIELDS), filter.to_owned()),
                    ] {
                        let vars = json!({ "id": form, "period": period, "filter": { "text": text } });
                        let body = app.gql(Some(token), &query, vars).await;
                        assert!(body["errors"].is_null(), "{filter}: {body}");
                        answers.push(body["data"]["formReport"].clone());
                    }
                    for got in &answers[1..] {
                        let mut differences = Vec::new();
                        same(&answers[0], got, "report", &mut differences);
                        assert!(
                            differences.is_empty(),
                            "{stage}, {filter} over {period}: {differences:#?}"
                        );
                    }
                    if period.is_null() && !filter.contains("completed_on") {
                        assert!(answers[1]["responses"]["completed"].as_u64().unwrap() > 0, "{filter}");
                    }
                }
                for (interval, calendar, from) in [
                    ("MONTH", "PERSIAN", today - Duration::days(70)),
                    ("DAY", "GREGORIAN", today - Duration::days(12)),
                ] {
                    let mut answers = Vec::new();
                    for (fields, text) in [
                        (report_fields(), format!("({filter}) AND {EVERYONE}")),
                        (report_fields(), filter.to_owned()),
                        (SEGMENT_FIELDS.to_owned(), filter.to_owned()),
                    ] {
                        let vars = json!({ "id": form, "interval": interval, "calendar": calendar,
                            "period": period(Some(from), Some(today)), "filter": { "text": text } });
                        let body = app
                            .gql(Some(token), &SERIES.replace("REPORT_FIELDS", &fields), vars)
                            .await;
                        assert!(body["errors"].is_null(), "{filter}: {body}");
                        answers.push(body["data"]["formSeries"]["buckets"].clone());
                    }
                    for got in &answers[1..] {
                        let mut differences = Vec::new();
                        same(&answers[0], got, "series", &mut differences);
                        assert!(
                            differences.is_empty(),
                            "{stage}, {filter} by {interval}: {differences:#?}"
                        );
                    }
                }
            }
        }
    };
    compare("nothing folded").await;

    // In pages of 7, 3 a transaction: a page ends inside a day, the next takes the rest of it;
    // a transaction sums its pages' counts.
    use nazar::service::report::segment::{Batches, MAX_SEGMENTS, fold_in_batches};
    let folded = fold_in_batches(
        &app.db,
        form_id,
        Tehran,
        Batches {
            page: 7,
            pages: 3,
            segments: MAX_SEGMENTS,
        },
    )
    .await
    .unwrap();
    assert!(folded > 21, "{folded}");
    let finished = crate::collect::count_rows(
        &app,
        "SELECT COUNT(*) FROM responses WHERE status <> 'IN_PROGRESS' AND segmented = TRUE",
    )
    .await;
    let all_finished =
        crate::collect::count_rows(&app, "SELECT COUNT(*) FROM responses WHERE status <> 'IN_PROGRESS'").await;
    assert_eq!(finished, all_finished);
    assert!(crate::collect::count_rows(&app, "SELECT COUNT(*) FROM segment_tallies").await > 0);
    // Folding changes no figure, so cached results stay valid: move the stamp so that the
    // comparison computes afresh.
    nazar::service::report::tally::apply(app.db.conn(), form_id, Tehran, &[], 1)
        .await
        .unwrap();
    compare("all folded").await;

    // Deleted after the fold, and new responses past it.
    delete_recorded(&app, &token, &data, 4).await;
    let mut rng = StdRng::seed_from_u64(43);
    let someone = upsert(&app, &token, "crm-new", &Attributes::random(&mut rng)).await;
    for _ in 0..6 {
        record(&app, &token, &data, &someone, &mut rng).await;
    }
    compare("deleted and added after the fold").await;

    // A rebuild (a new time zone) empties the segments and folds again.
    nazar::service::report::rebuild_form(&app.db, organization_id, form_id)
        .await
        .unwrap();
    compare("rebuilt").await;
}

/// A fold commits while breakdowns and filtered reports read: each read takes the counts
/// folded so far and the responses not folded yet from one snapshot, so whichever side of a
/// fold's commit it lands on, it counts every response once. The fold here commits one
/// response at a time; every read while it runs computes afresh (the stamp moves before it)
/// and must equal the scan of every response made before the fold.
#[tokio::test]
async fn reads_during_a_fold_count_every_response_once() {
    use nazar::service::report::segment::{Batches, MAX_SEGMENTS, fold_in_batches};

    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 60, 47).await;
    let form_id = crate::reports::uuid_of(&data.form.form_id);
    let breakdown = BREAKDOWN.replace("REPORT_FIELDS", SEGMENT_FIELDS);
    let report = format!(
        "query($id: ID!, $filter: ConditionInput) {{ formReport(formId: $id, filter: $filter) {{ {SEGMENT_FIELDS} }} }}"
    );
    let by = json!({ "attribute": { "name": "tier" } });
    let read = |filter: Value, segments: bool| {
        let (app, token, breakdown, report, by) = (&app, &token, &breakdown, &report, &by);
        let form = data.form.form_id.clone();
        async move {
            // The scan: a filter the counts by segment cannot answer.
            let (breakdown_filter, report_filter) = if segments {
                (Value::Null, filter)
            } else {
                (
                    json!({ "text": EVERYONE }),
                    json!({ "text": format!("({}) AND {EVERYONE}", filter["text"].as_str().unwrap()) }),
                )
            };
            let vars = json!({ "id": form, "by": by, "period": Value::Null, "limit": 10, "filter": breakdown_filter });
            let groups = app.gql(Some(token), breakdown, vars).await;
            let vars = json!({ "id": form, "filter": report_filter });
            let filtered = app.gql(Some(token), report, vars).await;
            assert!(
                groups["errors"].is_null() && filtered["errors"].is_null(),
                "{groups} {filtered}"
            );
            (
                groups["data"]["formBreakdown"]["groups"].clone(),
                filtered["data"]["formReport"].clone(),
            )
        }
    };
    let gold = json!({ "text": "attribute(tier) = \"gold\"" });
    let want = read(gold.clone(), false).await;
    assert!(want.0.as_array().is_some_and(|g| g.len() > 1), "{:?}", want.0);
    assert!(want.1["responses"]["completed"].as_u64().unwrap() > 0, "{}", want.1);

    // Folds of every response, one at a time, each after the last was undone, until enough
    // reads have run while one was under way.
    let (mut reads, mut rounds) = (0, 0);
    while reads < 20 && rounds < 40 {
        let txn = app.db.begin_write().await.unwrap();
        nazar::service::report::segment::reset(&txn, form_id).await.unwrap();
        txn.commit().await.unwrap();
        let db = app.db.clone();
        let fold = tokio::spawn(async move {
            let batches = Batches {
                page: 1,
                pages: 1,
                segments: MAX_SEGMENTS,
            };
            fold_in_batches(&db, form_id, Tehran, batches).await.unwrap()
        });
        while !fold.is_finished() {
            nazar::service::report::tally::apply(app.db.conn(), form_id, Tehran, &[], 1)
                .await
                .unwrap();
            let got = read(gold.clone(), true).await;
            for (name, w, g) in [("breakdown", &want.0, &got.0), ("filtered report", &want.1, &got.1)] {
                let mut differences = Vec::new();
                same(w, g, name, &mut differences);
                assert!(differences.is_empty(), "read {reads} during a fold: {differences:#?}");
            }
            reads += 1;
        }
        assert!(fold.await.unwrap() > 30);
        rounds += 1;
    }
    assert!(reads >= 20, "{reads} reads during {rounds} folds");
}

/// An attribute with more distinct values than the counts by segment keep (here 2: `tier` has
/// three, `vip` two) loses its segments at the fold that finds the third value and is never
/// folded again; breakdowns, filtered reports and series by it read the responses and equal
/// the scan of every response, before and after deletions and new responses, while `vip`
/// keeps its segments.
#[tokio::test]
async fn an_attribute_with_too_many_values_is_read_from_the_responses() {
    use nazar::service::report::segment::{Batches, fold_in_batches};

    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.clone();
    let data = fill(&app, &owner, 50, 53).await;
    let form_id = crate::reports::uuid_of(&data.form.form_id);
    let fold = || async {
        let batches = Batches {
            page: 7,
            pages: 3,
            segments: 2,
        };
        fold_in_batches(&app.db, form_id, Tehran, batches).await.unwrap();
        // Folding changes no figure: move the stamp so that what follows computes afresh.
        nazar::service::report::tally::apply(app.db.conn(), form_id, Tehran, &[], 1)
            .await
            .unwrap();
    };
    let rows_of = |dimension: &'static str| {
        let app = &app;
        async move {
            crate::collect::count_rows(
                app,
                &format!("SELECT COUNT(*) FROM segment_tallies WHERE dimension = '{dimension}'"),
            )
            .await
        }
    };
    let breakdown = BREAKDOWN.replace("REPORT_FIELDS", SEGMENT_FIELDS);
    let report = format!(
        "query($id: ID!, $filter: ConditionInput) {{ formReport(formId: $id, filter: $filter) {{ {SEGMENT_FIELDS} }} }}"
    );
    let series = SERIES.replace("REPORT_FIELDS", SEGMENT_FIELDS);
    let today = Utc::now().with_timezone(&Tehran).date_naive();
    let compare = |stage: &'static str| {
        let (app, token, breakdown, report, series) = (&app, &token, &breakdown, &report, &series);
        let form = data.form.form_id.clone();
        async move {
            let answer = |query: &str, vars: Value, path: [&'static str; 2]| {
                let query = query.to_owned();
                async move {
                    let body = app.gql(Some(token), &query, vars).await;
                    assert!(body["errors"].is_null(), "{body}");
                    body["data"][path[0]][path[1]].clone()
                }
            };
            for by in ["tier", "vip"] {
                let vars = |filter: Value| {
                    json!({ "id": form, "by": { "attribute": { "name": by } }, "period": Value::Null,
                            "limit": 10, "filter": filter })
                };
                let want = answer(
                    breakdown,
                    vars(json!({ "text": EVERYONE })),
                    ["formBreakdown", "groups"],
                )
                .await;
                let got = answer(breakdown, vars(Value::Null), ["formBreakdown", "groups"]).await;
                assert!(want.as_array().is_some_and(|g| g.len() > 1), "{want}");
                let mut differences = Vec::new();
                same(&want, &got, "groups", &mut differences);
                assert!(differences.is_empty(), "{stage}, by {by}: {differences:#?}");
            }
            for filter in ["attribute(tier) = \"gold\"", "attribute(vip) = true"] {
                let scan = json!({ "text": format!("({filter}) AND {EVERYONE}") });
                let vars = |filter: Value| json!({ "id": form, "filter": filter });
                let want = answer(report, vars(scan.clone()), ["formReport", "responses"]).await;
                let got = answer(report, vars(json!({ "text": filter })), ["formReport", "responses"]).await;
                assert!(want["completed"].as_u64().unwrap() > 0, "{want}");
                assert_eq!(want, got, "{stage}, {filter}");
                let vars = |filter: Value| {
                    json!({ "id": form, "interval": "DAY", "calendar": "GREGORIAN",
                            "period": period(Some(today - Duration::days(12)), Some(today)), "filter": filter })
                };
                let want = answer(series, vars(scan.clone()), ["formSeries", "buckets"]).await;
                let got = answer(series, vars(json!({ "text": filter })), ["formSeries", "buckets"]).await;
                let mut differences = Vec::new();
                same(&want, &got, "series", &mut differences);
                assert!(differences.is_empty(), "{stage}, {filter} by day: {differences:#?}");
            }
        }
    };
    compare("nothing folded").await;
    fold().await;
    assert_eq!(rows_of("a:tier").await, 0, "no segments of an attribute past the bound");
    assert!(rows_of("a:vip").await > 0);
    assert_eq!(
        crate::collect::count_rows(
            &app,
            "SELECT COUNT(*) FROM segment_dimensions WHERE dimension = 'a:tier' AND overflowed = TRUE"
        )
        .await,
        1
    );
    compare("folded").await;

    // Deleted after the fold, and new responses folded again.
    delete_recorded(&app, &token, &data, 3).await;
    let mut rng = StdRng::seed_from_u64(59);
    for i in 0..4 {
        let someone = upsert(&app, &token, &format!("crm-later-{i}"), &Attributes::random(&mut rng)).await;
        record(&app, &token, &data, &someone, &mut rng).await;
    }
    compare("changed, not folded").await;
    fold().await;
    assert_eq!(rows_of("a:tier").await, 0);
    compare("folded again").await;
}
