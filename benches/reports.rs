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
//! `--uncached N` (requests per size, default 50), `--cached N` (default 300), `--tail N`:
//! after each size, the newest N responses are taken out of the tallies and left waiting for
//! a fold (as submissions leave them), the report is checked unchanged and measured again
//! uncached; run it with `RUN_JOBS=false` so that no folder folds them meanwhile, and with
//! `PENDING_COUNTS_MAX` above N so that reads do not fold them either:
//!
//! ```sh
//! RUN_JOBS=false PENDING_COUNTS_MAX=20000 cargo bench --bench reports -- --backend postgres --sizes 100000 --tail 10000
//! ```
mod common;

use std::time::{Duration, Instant};

use common::{
    Bench, Options,
    generate::{Target, generate, publish_form},
    ms, percentile,
};
use nazar::service::report::tally;
use serde_json::json;
use uuid::Uuid;

const REPORT: &str = "query($id: ID!) { formReport(formId: $id) {
    responses { started completed disqualified inProgress completionPercent timeToComplete { n mean median stdDev marginOfError } }
    nps { score n promoters { count percent } passives { count percent } detractors { count percent } marginOfError tooSmall
      distribution { value count percent } }
    csat { percent marginOfError mean n tooSmall distribution { value count percent } }
    ces { mean marginOfError percentEasy n tooSmall distribution { value count percent } }
    totalScore { n mean median stdDev marginOfError }
    questions { key kind answered skipped distribution { value count percent }
      numbers { n mean median stdDev marginOfError } scores { n mean median stdDev marginOfError } } } }";

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

/// Takes the newest `count` responses of `form_id` out of the tallies and marks their counts
/// as waiting for a fold, in one transaction: the state submissions leave before a fold.
async fn unfold(bench: &Bench, form_id: Uuid, count: usize) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let zone = chrono_tz::Asia::Tehran;
    let txn = bench.db.begin_write().await.unwrap();
    let rows = entity::response::Entity::find()
        .filter(entity::response::Column::FormId.eq(form_id))
        .order_by_desc(entity::response::Column::Id)
        .limit(count as u64)
        .all(&txn)
        .await
        .unwrap();
    for part in rows.chunks(1_000) {
        let mut answers = nazar::service::response::answers_of(&txn, part.iter().map(|r| r.id).collect())
            .await
            .unwrap();
        for row in part {
            let entries = tally::contribution_of(row, &answers.remove(&row.id).unwrap_or_default()).unwrap();
            tally::apply(&txn, form_id, zone, &entries, -1).await.unwrap();
            tally::mark_pending(&txn, row).await.unwrap();
        }
    }
    txn.commit().await.unwrap();
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
    let (form, form_row, version_id, def) = publish_form(&bench).await;
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
            &Target {
                form_id: form_row.id,
                organization_id: form_row.organization_id,
                version_id,
                def: &def,
                segments: false,
            },
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
        let tail = o.number("tail", 0).min(size);
        if tail > 0 {
            let before = bench.gql(REPORT, json!({ "id": form })).await;
            unfold(&bench, form_row.id, tail).await;
            let after = bench.gql(REPORT, json!({ "id": form })).await;
            assert_eq!(before["data"], after["data"], "the same report with {tail} waiting");
            let cold = timed(&bench, &form, uncached, Some((form_row.id, &bench))).await;
            println!(
                "{size} with {tail} waiting for a fold | | {} | {} | | | {:.2}",
                ms(percentile(&cold, 50.0)),
                ms(percentile(&cold, 99.0)),
                percentile(&cold, 50.0).as_secs_f64() / p50.as_secs_f64()
            );
            // Reads fold some themselves past `PENDING_COUNTS_MAX` (set it above N to measure N).
            let folded = nazar::service::report::fold_pending(&bench.db).await.unwrap();
            println!("({folded} of the {tail} still waiting after the reads, then folded)");
            let refolded = bench.gql(REPORT, json!({ "id": form })).await;
            assert_eq!(before["data"], refolded["data"], "the same report once folded");
        }
    }
    bench.finish().await;
}
