//! Report benchmark with a bulk generator. Fills a published 20-question form with responses
//! spread over the last two years (realistic distributions: skewed NPS, partial and
//! disqualified-free completions, "other" texts, multiple choices, numbers, dates, texts),
//! written straight into the database in large transactions with their tallies, then measures
//! `formReport` over HTTP (a real GraphQL request for every figure) at each size: uncached
//! (the freshness stamp is moved before every request, so each one computes) and cached.
//!
//! ```sh
//! cargo bench --bench reports -- --backend sqlite
//! cargo bench --bench reports -- --backend postgres --sizes 1000,100000,1000000
//! ```
//! Options: `--sizes` (comma-separated, ascending; default 1000,100000,1000000),
//! `--uncached N` (requests per size, default 50), `--cached N` (default 300).
mod common;

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use common::{Bench, Options, ms, percentile};
use entity::{answer, answer_choice, response};
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
use sea_orm::{EntityTrait, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

const FORM: &str = include_str!("data/twenty-questions.json");

const REPORT: &str = "query($id: ID!) { formReport(formId: $id) {
    responses { started completed disqualified inProgress completionPercent timeToComplete { n mean median stdDev marginOfError } }
    nps { score n promoters { count percent } passives { count percent } detractors { count percent } marginOfError tooSmall
      distribution { value count percent } }
    csat { percent marginOfError mean n tooSmall distribution { value count percent } }
    ces { mean marginOfError percentEasy n tooSmall distribution { value count percent } }
    totalScore { n mean median stdDev marginOfError }
    questions { key kind answered skipped distribution { value count percent }
      numbers { n mean median stdDev marginOfError } scores { n mean median stdDev marginOfError } } } }";

fn pick<'a>(rng: &mut StdRng, values: &[&'a str]) -> &'a str {
    values[rng.random_range(0..values.len())]
}

/// One respondent's answers, following the form's path.
fn answers(rng: &mut StdRng) -> Vec<(&'static str, Given, Option<String>)> {
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
/// and counts, in transactions of a few thousand responses.
async fn generate(
    bench: &Bench,
    form_id: Uuid,
    organization_id: Uuid,
    version_id: Uuid,
    def: &FormDef,
    count: usize,
    seed: u64,
) {
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
        for _ in 0..n {
            let completed = now - chrono::Duration::seconds(rng.random_range(0..two_years));
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
                channel: "LINK".to_owned(),
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
            };
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

async fn timed(bench: &Bench, form: &str, count: usize, before_each: Option<(Uuid, &Bench)>) -> Vec<Duration> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if let Some((form_id, bench)) = before_each {
            // A change of the form's responses: the next request cannot use a cached result.
            tally::apply(bench.db.conn(), form_id, chrono_tz::UTC, &[], 1)
                .await
                .unwrap();
        }
        let began = Instant::now();
        let body = bench.gql(REPORT, json!({ "id": form })).await;
        out.push(began.elapsed());
        assert!(body["errors"].is_null(), "{body}");
    }
    out.sort();
    out
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let sizes: Vec<usize> = match (o.text("sizes"), o.number("sizes", 0)) {
        (Some(list), _) => list
            .split(',')
            .map(|n| n.trim().parse().expect("--sizes N,N,…"))
            .collect(),
        (None, 0) => vec![1_000, 100_000, 1_000_000],
        (None, one) => vec![one],
    };
    let (uncached, cached) = (o.number("uncached", 50), o.number("cached", 300));
    let bench = Bench::start(&o).await;
    let imported = bench
        .gql(
            "mutation($input: ImportFormInput!) { importForm(input: $input) { form { id } } }",
            json!({ "input": { "document": FORM } }),
        )
        .await;
    let form = imported["data"]["importForm"]["form"]["id"]
        .as_str()
        .expect("imported")
        .to_owned();
    let published = bench
        .gql(
            "mutation($id: ID!) { publishForm(input: { id: $id }) { version { id } } }",
            json!({ "id": form }),
        )
        .await;
    assert!(published["errors"].is_null(), "{published}");
    let form_row = entity::form::Entity::find_by_id(common::uuid_of(&form))
        .one(bench.db.conn())
        .await
        .unwrap()
        .unwrap();
    let version_id = form_row.published_version_id.unwrap();
    let version = entity::form_version::Entity::find_by_id(version_id)
        .one(bench.db.conn())
        .await
        .unwrap()
        .unwrap();
    let def = Arc::new(
        nazar::service::form::store::load_def(bench.db.conn(), &version)
            .await
            .unwrap(),
    );
    println!(
        "reports: {}, a published 20-question form, formReport with every figure over HTTP; {uncached} uncached and {cached} cached requests per size",
        o.label()
    );
    println!(
        "responses | generated in | uncached p50 | uncached p99 | cached p50 | cached p99 | uncached p50 / at the first size"
    );
    let mut done = 0;
    let mut first_p50 = None;
    for size in sizes {
        let began = Instant::now();
        generate(
            &bench,
            form_row.id,
            form_row.organization_id,
            version_id,
            &def,
            size - done,
            size as u64,
        )
        .await;
        let generated = began.elapsed();
        done = size;
        let body = bench.gql(REPORT, json!({ "id": form })).await;
        let counted = body["data"]["formReport"]["responses"]["started"].as_u64().unwrap_or(0);
        assert_eq!(counted as usize, size, "{body}");
        let cold = timed(&bench, &form, uncached, Some((form_row.id, &bench))).await;
        timed(&bench, &form, 10, None).await;
        let warm = timed(&bench, &form, cached, None).await;
        let p50 = percentile(&cold, 50.0);
        let base = *first_p50.get_or_insert(p50);
        println!(
            "{size} | {:.1} s | {} | {} | {} | {} | {:.2}",
            generated.as_secs_f64(),
            ms(p50),
            ms(percentile(&cold, 99.0)),
            ms(percentile(&warm, 50.0)),
            ms(percentile(&warm, 99.0)),
            p50.as_secs_f64() / base.as_secs_f64()
        );
    }
    bench.finish().await;
}
