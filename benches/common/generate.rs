//! The bulk generator of the report benchmarks: responses of the 20-question benchmark form
//! spread over the last two years (realistic distributions: skewed NPS, 12 % left in
//! progress, "other" texts, multiple choices, numbers, dates, texts), written straight into
//! the database in large transactions with their tallies; with `segments`, channels vary and
//! each completed response keeps its respondent's plan (5 values) and customer-since date as
//! they were at completion (the attribute snapshot).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{answer, answer_choice, response, response_attribute};
use nazar::{
    form::{
        answer::{Checked, Given, check},
        model::FormDef,
    },
    report::tally::{Key, contribution, counts, unspread},
    service::{
        report::tally,
        response::{ResponseStatus, store},
    },
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{EntityTrait, Set, TransactionTrait};
use uuid::Uuid;

use super::Bench;

/// The 20-question benchmark form.
pub const FORM: &str = include_str!("../data/twenty-questions.json");

/// The benchmark form imported and published: its global id, row, published version and
/// definition.
pub async fn publish_form(bench: &Bench) -> (String, entity::form::Model, Uuid, std::sync::Arc<FormDef>) {
    let imported = bench
        .gql(
            "mutation($input: ImportFormInput!) { importForm(input: $input) { form { id } } }",
            serde_json::json!({ "input": { "document": FORM } }),
        )
        .await;
    let form = imported["data"]["importForm"]["form"]["id"]
        .as_str()
        .expect("imported")
        .to_owned();
    let published = bench
        .gql(
            "mutation($id: ID!) { publishForm(input: { id: $id }) { version { id } } }",
            serde_json::json!({ "id": form }),
        )
        .await;
    assert!(published["errors"].is_null(), "{published}");
    let row = entity::form::Entity::find_by_id(super::uuid_of(&form))
        .one(bench.db.conn())
        .await
        .unwrap()
        .unwrap();
    published_def(bench, form, row).await
}

/// The form's published version and its definition, beside its global id and row.
async fn published_def(
    bench: &Bench,
    form: String,
    row: entity::form::Model,
) -> (String, entity::form::Model, Uuid, std::sync::Arc<FormDef>) {
    let version_id = row.published_version_id.unwrap();
    let version = entity::form_version::Entity::find_by_id(version_id)
        .one(bench.db.conn())
        .await
        .unwrap()
        .unwrap();
    let def = std::sync::Arc::new(
        nazar::service::form::store::load_def(bench.db.conn(), &version)
            .await
            .unwrap(),
    );
    (form, row, version_id, def)
}

/// The benchmark form of a database filled by an earlier run (`--reuse`).
pub async fn existing_form(bench: &Bench) -> (String, entity::form::Model, Uuid, std::sync::Arc<FormDef>) {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let row = entity::form::Entity::find()
        .one(bench.db.conn())
        .await
        .unwrap()
        .expect("a filled database");
    let form = URL_SAFE_NO_PAD.encode(format!("Form:{}", row.id));
    published_def(bench, form, row).await
}

/// The plans respondents are on.
pub const PLANS: [&str; 5] = ["free", "basic", "pro", "business", "enterprise"];
/// The channels responses arrive by.
pub const CHANNELS: [&str; 5] = ["LINK", "EMAIL", "SMS", "IN_APP", "API"];

/// Where generated responses go.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub form_id: Uuid,
    pub organization_id: Uuid,
    pub version_id: Uuid,
    pub def: &'a FormDef,
    /// Vary channels and keep plan and customer-since snapshots.
    pub segments: bool,
}

fn pick<'a>(rng: &mut StdRng, values: &[&'a str]) -> &'a str {
    values[rng.random_range(0..values.len())]
}

/// One respondent's answers, following the form's path.
pub fn answers(rng: &mut StdRng) -> Vec<(&'static str, Given, Option<String>)> {
    let text = |s: &str| Given::Text(s.to_owned());
    let number = |n: u32| Given::Number(f64::from(n));
    let choices = |v: &[&str]| Given::Choices(v.iter().map(|s| (*s).to_owned()).collect());
    let nps: u32 = match rng.random_range(0..100) {
        0..=19 => rng.random_range(0..=6),
        20..=49 => rng.random_range(7..=8),
        _ => rng.random_range(9..=10),
    };
    let mut out = vec![("nps", number(nps), None)];
    if nps <= 6 && rng.random_bool(0.6) {
        out.push((
            "why",
            text(pick(
                rng,
                &[
                    "ارسال دیر بود",
                    "کیفیت پایین",
                    "too expensive",
                    "support never answered",
                ],
            )),
            None,
        ));
    }
    let around = |rng: &mut StdRng, low: u32, high: u32, good: bool| {
        if good {
            rng.random_range((low + high) / 2..=high)
        } else {
            rng.random_range(low..=high)
        }
    };
    let happy = nps >= 7;
    for (key, low, high, share) in [
        ("csat", 1, 5, 0.9),
        ("ces", 1, 7, 0.8),
        ("stars", 1, 5, 0.7),
        ("quality", 1, 10, 0.5),
    ] {
        if rng.random_bool(share) {
            out.push((key, number(around(rng, low, high, happy)), None));
        }
    }
    if rng.random_bool(0.85) {
        if rng.random_bool(0.05) {
            out.push(("plan", choices(&[]), Some("طرح ویژه".to_owned())));
        } else {
            out.push((
                "plan",
                choices(&[pick(rng, &["free", "basic", "pro", "enterprise"])]),
                None,
            ));
        }
    }
    if rng.random_bool(0.7) {
        out.push((
            "channel",
            choices(&[pick(rng, &["web", "app", "store", "phone", "partner"])]),
            None,
        ));
    }
    if rng.random_bool(0.6) {
        let all = ["speed", "price", "support", "quality", "design", "brand"];
        let mut chosen: Vec<&str> = all.iter().copied().filter(|_| rng.random_bool(0.3)).collect();
        if chosen.is_empty() {
            chosen.push(pick(rng, &all));
        }
        out.push(("features", choices(&chosen), None));
    }
    for key in ["support", "price_fair"] {
        if rng.random_bool(0.6) {
            out.push((key, choices(&[pick(rng, &["sd", "d", "n", "a", "sa"])]), None));
        }
    }
    for key in ["again", "friend"] {
        if rng.random_bool(0.5) {
            out.push((key, Given::Bool(rng.random_bool(if happy { 0.8 } else { 0.3 })), None));
        }
    }
    if rng.random_bool(0.7) {
        out.push(("age", number(rng.random_range(18..=80)), None));
    }
    if rng.random_bool(0.5) {
        out.push(("orders", number(rng.random_range(0..=50)), None));
    }
    if rng.random_bool(0.3) {
        out.push((
            "visit",
            text(&format!(
                "2026-{:02}-{:02}",
                rng.random_range(1..=11),
                rng.random_range(1..=28)
            )),
            None,
        ));
    }
    if rng.random_bool(0.6) {
        out.push((
            "region",
            choices(&[pick(
                rng,
                &[
                    "tehran", "isfahan", "shiraz", "tabriz", "mashhad", "karaj", "ahvaz", "qom",
                ],
            )]),
            None,
        ));
    }
    if rng.random_bool(0.2) {
        out.push((
            "comment",
            text(pick(rng, &["ممنون", "خیلی خوب بود", "thanks", "fast delivery"])),
            None,
        ));
    }
    if rng.random_bool(0.3) {
        out.push(("email", text("customer@example.com"), None));
    }
    if rng.random_bool(0.2) {
        out.push(("phone", text("۰۹۱۲۳۴۵۶۷۸۹"), None));
    }
    out
}

/// Writes `count` more generated responses of the form, with their answers, chosen options
/// and counts, in transactions of a few thousand responses, completed over the last two years
/// in the order they are written.
pub async fn generate(bench: &Bench, target: &Target<'_>, count: usize, seed: u64) {
    let Target {
        form_id,
        organization_id,
        version_id,
        def,
        segments,
    } = *target;
    const BATCH: usize = 2_000;
    let zone = chrono_tz::Asia::Tehran;
    let questions: std::collections::HashMap<&str, _> = def.questions().map(|q| (q.key.as_str(), q)).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut total: BTreeMap<Key, i64> = BTreeMap::new();
    let mut fixed = tally::Unspread::new();
    let two_years = 2 * 365 * 24 * 3600;
    let now = Utc::now();
    let mut written = 0;
    while written < count {
        let n = BATCH.min(count - written);
        let mut responses = Vec::with_capacity(n);
        let mut answer_rows = Vec::with_capacity(n * 15);
        let mut choice_rows = Vec::with_capacity(n * 4);
        let mut snapshots: Vec<response_attribute::ActiveModel> = Vec::new();
        for k in 0..n {
            // Responses arrive over two years in the order they are written, each within a few
            // hours of its place: as in production, where rows (and their ids) follow time, so
            // the responses of a period lie together.
            let place = two_years - (two_years as f64 * (written + k) as f64 / count as f64) as i64;
            let back = (place - rng.random_range(0..3 * 3600)).clamp(0, two_years - 1);
            let completed = now - chrono::Duration::seconds(back);
            let seconds = rng.random_range(20..1_200);
            let started = completed - chrono::Duration::seconds(seconds);
            let id = Uuid::now_v7();
            let in_progress = rng.random_range(0..100) < 12;
            let checked: Vec<Checked> = answers(&mut rng)
                .into_iter()
                .filter_map(|(key, given, other)| check(questions.get(key)?, given, other, "a").ok())
                .collect();
            let status = if in_progress {
                ResponseStatus::InProgress
            } else {
                ResponseStatus::Completed
            };
            let total_score = {
                let scores: Vec<f64> = checked.iter().filter_map(|a| a.score).collect();
                (!scores.is_empty() && !in_progress).then(|| scores.iter().sum())
            };
            let completed_at: Option<DateTime<Utc>> = (!in_progress).then_some(completed);
            let duration = (!in_progress).then_some(seconds as i32);
            let entries = contribution(status, started, completed_at, duration, total_score, &checked);
            fixed.extend(unspread(&entries));
            for (key, count) in counts(&entries, zone, 1) {
                *total.entry(key).or_default() += count;
            }
            let row = response::Model {
                id,
                organization_id,
                form_id,
                version_id,
                respondent_id: None,
                status: status.as_str().to_owned(),
                channel: if segments {
                    pick(&mut rng, &CHANNELS).to_owned()
                } else {
                    "LINK".to_owned()
                },
                locale: Some("en".to_owned()),
                user_agent: None,
                device_id: None,
                limit_key: None,
                interviewer_id: None,
                api_key_id: None,
                ip_hash: None,
                latitude: None,
                longitude: None,
                total_score,
                started_at: started,
                updated_at: completed,
                completed_at,
                duration_seconds: duration,
                completed_day: completed_at.map(|at| nazar::report::tally::local_day(at, zone)),
                segmented: false,
            };
            if segments && completed_at.is_some() {
                let since = completed - chrono::Duration::days(rng.random_range(0..5 * 365));
                let plan = PLANS[rng.random_range(0..PLANS.len())];
                for (name, text, date) in [
                    ("plan", Some(plan.to_owned()), None),
                    ("customer_since", None, Some(since.date_naive())),
                ] {
                    snapshots.push(response_attribute::ActiveModel {
                        organization_id: Set(organization_id),
                        response_id: Set(id),
                        name: Set(name.to_owned()),
                        form_id: Set(form_id),
                        text_value: Set(text),
                        number_value: Set(None),
                        bool_value: Set(None),
                        date_value: Set(date),
                        completed_day: Set(completed_at.map(|at| nazar::report::tally::local_day(at, zone))),
                    });
                }
            }
            let (rows, choices) = store::answer_rows(&row, &checked, completed_at);
            answer_rows.extend(rows);
            choice_rows.extend(choices);
            responses.push(response::ActiveModel::from(row));
        }
        let txn = bench.db.conn().begin().await.unwrap();
        for part in responses.chunks(1_000) {
            response::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
        for part in answer_rows.chunks(2_000) {
            answer::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
        for part in choice_rows.chunks(4_000) {
            answer_choice::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
        for part in snapshots.chunks(4_000) {
            response_attribute::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
        written += n;
    }
    // The change counter moves with every write; the bulk load is one change.
    total.retain(|key, _| key.3 != nazar::report::tally::Measure::Changes);
    tally::add_counts(bench.db.conn(), form_id, total, &fixed)
        .await
        .unwrap();
    tally::apply(bench.db.conn(), form_id, zone, &[], 1).await.unwrap();
}
