//! Analytics benchmark: filtered reports, breakdowns, series in the Persian calendar and an
//! unfiltered period, over HTTP against the real server, each beside the best hand-written
//! SQL of the same question on the same database.
//!
//! The 20-question benchmark form is filled by the report benchmark's generator with segments:
//! channels vary and every completed response keeps its respondent's plan (5 values) and
//! customer-since date as they were at completion.
//!
//! ```sh
//! cargo bench --bench analytics -- --backend sqlite --size 100000
//! cargo bench --bench analytics -- --backend postgres --size 1000000
//! ```
//! Options: `--size N` (default 100000), `--uncached N` (requests per case, default 20),
//! `--cached N` (default 100), `--keep yes` (PostgreSQL: keep the database for inspection),
//! `--reuse NAME` (PostgreSQL: measure a kept database again, without generating), `--dir PATH`
//! (SQLite: the data directory, kept after the run; with `--reuse yes`, measured again).
mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{
    Bench, Options,
    generate::{Target, existing_form, generate, publish_form},
    ms, percentile,
};
use nazar::service::report::tally;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// Every figure of a report, as the reports benchmark asks for it.
const FIGURES: &str = "responses { started completed disqualified inProgress completionPercent timeToComplete { n mean median stdDev marginOfError } }
    nps { score n promoters { count percent } passives { count percent } detractors { count percent } marginOfError tooSmall
      distribution { value count percent } }
    csat { percent marginOfError mean n tooSmall distribution { value count percent } }
    ces { mean marginOfError percentEasy n tooSmall distribution { value count percent } }
    totalScore { n mean median stdDev marginOfError }
    questions { key kind answered skipped distribution { value count percent }
      numbers { n mean median stdDev marginOfError } scores { n mean median stdDev marginOfError } }";

async fn timed(
    bench: &Bench,
    query: &str,
    variables: &Value,
    count: usize,
    move_stamp: Option<uuid::Uuid>,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if let Some(form_id) = move_stamp {
            tally::apply(bench.db.conn(), form_id, chrono_tz::UTC, &[], 1)
                .await
                .unwrap();
        }
        let began = Instant::now();
        let body = bench.gql(query, variables.clone()).await;
        out.push(began.elapsed());
        assert!(body["errors"].is_null(), "{body}");
    }
    out.sort();
    out
}

async fn hand(bench: &Bench, sql: &str, count: usize) -> Vec<Duration> {
    let backend = bench.db.backend();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let began = Instant::now();
        let rows = bench
            .db
            .conn()
            .query_all_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap();
        out.push(began.elapsed());
        assert!(!rows.is_empty(), "{sql}");
    }
    out.sort();
    out
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let size = o.number("size", 100_000);
    let (uncached, cached) = (o.number("uncached", 20), o.number("cached", 100));
    let bench = Bench::start(&o).await;
    let reuse = o.text("reuse").is_some();
    for (name, kind) in [("plan", "STRING"), ("customer_since", "DATE")] {
        if reuse {
            break;
        }
        let body = bench
            .gql(
                "mutation($input: CreateRespondentAttributeInput!) { createRespondentAttribute(input: $input) { attribute { id } } }",
                json!({ "input": { "name": name, "type": kind, "label": name } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let (form, row, version_id, def) = if reuse {
        existing_form(&bench).await
    } else {
        publish_form(&bench).await
    };
    let began = Instant::now();
    let target = Target {
        form_id: row.id,
        organization_id: row.organization_id,
        version_id,
        def: &def,
        segments: true,
    };
    if !reuse {
        generate(&bench, &target, size, 7).await;
    }
    let generated = began.elapsed();
    // A long load outlives the first access token.
    bench.sign_in().await;
    let today = Utc::now().with_timezone(&chrono_tz::Asia::Tehran).date_naive();
    // Past days' counts folded into one row each, as the form's daily settling leaves them.
    let settling = Instant::now();
    tally::settle(&bench.db, row.id, today).await.unwrap();
    let settled = settling.elapsed();
    // Statistics of the bulk load before the fold reads it (this machine's PostgreSQL runs no
    // autovacuum): without them the planner reads every snapshot of the organization for each
    // page of responses the fold looks up.
    // A reused SQLite file keeps the statistics its generating run left (ANALYZE of a million
    // takes minutes there).
    let analyzed = reuse && bench.db.backend() == sea_orm::DbBackend::Sqlite;
    if !analyzed {
        bench.db.conn().execute_unprepared("ANALYZE").await.unwrap();
    }
    // Finished responses folded into their counts by segment, as the form's fold job leaves
    // them (a reused database was folded when it was generated).
    let folding = Instant::now();
    nazar::service::report::fold_form(&bench.db, row.organization_id, row.id)
        .await
        .unwrap();
    let folded = folding.elapsed();
    // Fresh statistics (and on PostgreSQL the visibility map) after the bulk load, as
    // autovacuum or an operator would leave them.
    let analyze = match bench.db.backend() {
        sea_orm::DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    if !analyzed {
        bench.db.conn().execute_unprepared(analyze).await.unwrap();
    }

    let day90 = today - chrono::Duration::days(89);
    let filter =
        format!("attribute(plan) = \"pro\" AND answer(nps) IS ANSWERED AND response(completed_on) >= date({day90})");
    let form_uuid = row.id;
    let fid = match bench.db.backend() {
        sea_orm::DbBackend::Postgres => format!("'{form_uuid}'"),
        // SQLite keeps UUIDs as 16-byte blobs.
        _ => format!("X'{}'", form_uuid.simple()),
    };
    let report = format!(
        "query($id: ID!, $f: ConditionInput, $p: PeriodInput) {{ formReport(formId: $id, filter: $f, period: $p) {{ {FIGURES} }} }}"
    );
    let breakdown = "query($id: ID!, $by: DimensionInput!) { formBreakdown(formId: $id, by: $by) {
        groups { kind value n report { nps { score n marginOfError } csat { percent n } } } } }";
    let series = "query($id: ID!, $f: ConditionInput, $p: PeriodInput) { formSeries(formId: $id, interval: MONTH, calendar: PERSIAN, period: $p, filter: $f) {
        buckets { label report { nps { score n } } } } }";
    let from24 = nazar::report::calendar::start_of_last(
        today,
        24,
        nazar::report::calendar::Interval::Month,
        nazar::report::calendar::Calendar::Persian,
    );
    let nps_join = format!(
        "FROM responses r JOIN answers a ON a.response_id = r.id AND a.question_key = 'nps' \
         WHERE r.form_id = {fid} AND r.status = 'COMPLETED'"
    );
    // The snapshots carry their response's day: the best SQL reads a plan's snapshots of a
    // period from their index (form, name, value, day) as the server's filters do.
    let plan_days = format!("AND p.form_id = {fid} AND p.completed_day >= '{day90}'");
    let plan_join = "JOIN response_attributes p ON p.organization_id = r.organization_id AND p.response_id = r.id AND p.name = 'plan'";
    let cases: Vec<(&str, String, Value, String)> = vec![
        (
            "filtered report: plan = pro, NPS answered, last 90 days (all 20 questions)",
            report.clone(),
            json!({ "id": form, "f": { "text": filter } }),
            // Every question's values and every option's count, of the responses selected once.
            format!(
                "WITH sel AS MATERIALIZED (SELECT r.id FROM responses r JOIN answers n ON n.response_id = r.id AND n.question_key = 'nps' {plan_join} \
                 WHERE r.form_id = {fid} AND r.status = 'COMPLETED' AND r.completed_day >= '{day90}' AND p.text_value = 'pro' {plan_days}) \
                 SELECT a.question_key, a.number_value, COUNT(*) FROM sel JOIN answers a ON a.response_id = sel.id GROUP BY a.question_key, a.number_value \
                 UNION ALL SELECT c.question_key, NULL, COUNT(*) FROM sel JOIN answer_choices c ON c.response_id = sel.id GROUP BY c.question_key, c.value"
            ),
        ),
        (
            "NPS and CSAT by plan",
            breakdown.to_owned(),
            json!({ "id": form, "by": { "attribute": { "name": "plan" } } }),
            format!(
                "SELECT p.text_value, a.question_key, a.number_value, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id AND a.question_key IN ('nps', 'csat') \
                 LEFT {plan_join} WHERE r.form_id = {fid} AND r.status = 'COMPLETED' GROUP BY p.text_value, a.question_key, a.number_value"
            ),
        ),
        (
            "NPS and CSAT by tenure band",
            breakdown.to_owned(),
            json!({ "id": form, "by": { "tenure": { "attribute": "customer_since" } } }),
            format!(
                "SELECT a.question_key, a.number_value, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id AND a.question_key IN ('nps', 'csat') \
                 LEFT JOIN response_attributes s ON s.organization_id = r.organization_id AND s.response_id = r.id AND s.name = 'customer_since' \
                 WHERE r.form_id = {fid} AND r.status = 'COMPLETED' GROUP BY a.question_key, a.number_value, s.date_value"
            ),
        ),
        (
            "unfiltered report, last 90 days (all 20 questions)",
            report.clone(),
            json!({ "id": form, "p": { "from": day90.to_string(), "to": today.to_string() } }),
            format!(
                "SELECT a.number_value, COUNT(*) {nps_join} AND r.completed_day >= '{day90}' GROUP BY a.number_value"
            ),
        ),
        (
            "24 Persian months of NPS, unfiltered",
            series.to_owned(),
            json!({ "id": form, "p": { "from": from24.to_string(), "to": today.to_string() } }),
            format!(
                "SELECT r.completed_day, a.number_value, COUNT(*) {nps_join} AND r.completed_day >= '{from24}' GROUP BY r.completed_day, a.number_value"
            ),
        ),
        (
            "24 Persian months of NPS, plan = pro",
            series.to_owned(),
            json!({ "id": form, "f": { "text": "attribute(plan) = \"pro\"" }, "p": { "from": from24.to_string(), "to": today.to_string() } }),
            format!(
                "SELECT r.completed_day, a.number_value, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id AND a.question_key = 'nps' {plan_join} \
                 WHERE r.form_id = {fid} AND r.status = 'COMPLETED' AND r.completed_day >= '{from24}' AND p.text_value = 'pro' \
                 AND p.form_id = {fid} AND p.completed_day >= '{from24}' GROUP BY r.completed_day, a.number_value"
            ),
        ),
        (
            "NPS only, all time, unfiltered",
            "query($id: ID!) { formReport(formId: $id) { nps { score n marginOfError distribution { value count percent } } } }"
                .to_owned(),
            json!({ "id": form }),
            format!(
                "SELECT a.number_value, COUNT(*) FROM answers a WHERE a.form_id = {fid} AND a.question_key = 'nps' \
                 AND a.completed_at IS NOT NULL GROUP BY a.number_value"
            ),
        ),
        (
            "filtered report: the filter of case 1, NPS only",
            "query($id: ID!, $f: ConditionInput) { formReport(formId: $id, filter: $f) { nps { score n marginOfError distribution { value count percent } } } }"
                .to_owned(),
            json!({ "id": form, "f": { "text": filter } }),
            format!(
                "SELECT a.number_value, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id AND a.question_key = 'nps' {plan_join} \
                 WHERE r.form_id = {fid} AND r.status = 'COMPLETED' AND r.completed_day >= '{day90}' AND p.text_value = 'pro' {plan_days} GROUP BY a.number_value"
            ),
        ),
        (
            // The counts by segment cannot prove "why" answered (a detractor's optional
            // question): the filter is evaluated over the responses.
            "filtered report: plan = pro, why answered, last 90 days, NPS only (read from the responses)",
            "query($id: ID!, $f: ConditionInput) { formReport(formId: $id, filter: $f) { nps { score n marginOfError distribution { value count percent } } } }"
                .to_owned(),
            json!({ "id": form, "f": { "text": filter.replace("answer(nps)", "answer(why)") } }),
            format!(
                "SELECT a.number_value, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id AND a.question_key = 'nps' \
                 JOIN answers w ON w.response_id = r.id AND w.question_key = 'why' {plan_join} \
                 WHERE r.form_id = {fid} AND r.status = 'COMPLETED' AND r.completed_day >= '{day90}' AND p.text_value = 'pro' {plan_days} GROUP BY a.number_value"
            ),
        ),
        (
            // Not read from the counts by segment: the responses are scanned.
            "NPS and CSAT by channel (from the responses)",
            breakdown.to_owned(),
            json!({ "id": form, "by": { "response": "CHANNEL" } }),
            format!(
                "SELECT r.channel, a.question_key, a.number_value, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id \
                 AND a.question_key IN ('nps', 'csat') WHERE r.form_id = {fid} AND r.status = 'COMPLETED' \
                 GROUP BY r.channel, a.question_key, a.number_value"
            ),
        ),
        (
            "NPS and CSAT by the answer to a single choice (from the responses)",
            breakdown.to_owned(),
            json!({ "id": form, "by": { "answer": { "key": "region" } } }),
            format!(
                "SELECT c.value, a.question_key, a.number_value, COUNT(*) FROM responses r JOIN answers a ON a.response_id = r.id \
                 AND a.question_key IN ('nps', 'csat') LEFT JOIN answer_choices c ON c.response_id = r.id AND c.question_key = 'region' \
                 WHERE r.form_id = {fid} AND r.status = 'COMPLETED' GROUP BY c.value, a.question_key, a.number_value"
            ),
        ),
    ];
    println!(
        "analytics: {}, {} of the 20-question form (generated in {:.1} s, past counts settled in {:.1} s, folded by segment in {:.1} s); {uncached} uncached and {cached} cached requests per case",
        o.label(),
        if reuse {
            "the responses of a reused database".to_owned()
        } else {
            format!("{size} responses")
        },
        generated.as_secs_f64(),
        settled.as_secs_f64(),
        folded.as_secs_f64()
    );
    println!("case | uncached p50 | uncached p99 | cached p50 | hand-written SQL p50 | uncached / SQL");
    // `--cases 1,8` (or `--cases 8`): only these cases, numbered from 1 as printed.
    let only: Option<Vec<usize>> = o
        .text("cases")
        .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .or_else(|| Some(vec![o.number("cases", 0)]).filter(|c| c[0] > 0));
    for (i, (name, query, variables, sql)) in cases.into_iter().enumerate() {
        if only.as_ref().is_some_and(|only| !only.contains(&(i + 1))) {
            continue;
        }
        timed(&bench, &query, &variables, 2, Some(row.id)).await;
        let cold = timed(&bench, &query, &variables, uncached, Some(row.id)).await;
        let warm = timed(&bench, &query, &variables, cached, None).await;
        hand(&bench, &sql, 2).await;
        let direct = hand(&bench, &sql, uncached).await;
        let (p50, sql50) = (percentile(&cold, 50.0), percentile(&direct, 50.0));
        println!(
            "{name} | {} | {} | {} | {} | {:.2}",
            ms(p50),
            ms(percentile(&cold, 99.0)),
            ms(percentile(&warm, 50.0)),
            ms(sql50),
            p50.as_secs_f64() / sql50.as_secs_f64()
        );
    }
    // The server runs in this process: its resident memory after every case.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let memory: Vec<String> = status
        .lines()
        .filter(|l| l.starts_with("VmRSS:") || l.starts_with("VmHWM:"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    println!(
        "memory of the process (server, benchmark and generator; HWM is the peak): {}",
        memory.join(", ")
    );
    bench.finish().await;
}
