//! Respondent sync benchmark: a CRM sends 10,000 respondents with four typed attributes in one
//! `upsertRespondents` call over HTTP (one transaction, all or nothing). Each round sends a
//! batch of new respondents, then the same batch again with changed fields (updates).
//!
//! ```sh
//! cargo bench --bench respondents -- --backend sqlite
//! cargo bench --bench respondents -- --backend postgres
//! ```
//! Options: `--rows N` (default 10000), `--rounds R` (default 3), `--postgres-url URL`.
mod common;

use std::time::{Duration, Instant};

use common::{Bench, Options, median};
use serde_json::{Value, json};

fn batch(round: usize, rows: usize, version: u32) -> Vec<Value> {
    let plans = ["basic", "pro", "enterprise"];
    (0..rows)
        .map(|i| {
            json!({
                "externalId": format!("crm-{round}-{i}"),
                "email": format!("customer{i}.r{round}@example.com"),
                "phone": format!("+98912{:07}", i),
                "name": format!("مشتری {i} نسخه {version}"),
                "locale": if i % 3 == 0 { "en" } else { "fa" },
                "attributes": [
                    { "name": "plan", "value": { "text": plans[(i + version as usize) % 3] } },
                    { "name": "lifetime_value", "value": { "number": (i * 37 % 10_000) as f64 + f64::from(version) } },
                    { "name": "vip", "value": { "bool": i % 10 == 0 } },
                    { "name": "customer_since", "value": { "date": format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1) } }
                ]
            })
        })
        .collect()
}

async fn sync(bench: &Bench, rows: Vec<Value>) -> (Duration, Value) {
    let began = Instant::now();
    let body = bench
        .gql(
            "mutation($input: UpsertRespondentsInput!) { upsertRespondents(input: $input) { created updated } }",
            json!({ "input": { "respondents": rows } }),
        )
        .await;
    (began.elapsed(), body)
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let (rows, rounds) = (o.number("rows", 10_000), o.number("rounds", 3));
    let bench = Bench::start(&o).await;
    for (name, kind) in [
        ("plan", "STRING"),
        ("lifetime_value", "NUMBER"),
        ("vip", "BOOLEAN"),
        ("customer_since", "DATE"),
    ] {
        let body = bench
            .gql(
                "mutation($input: CreateRespondentAttributeInput!) { createRespondentAttribute(input: $input) { attribute { id } } }",
                json!({ "input": { "name": name, "type": kind, "label": name } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    println!(
        "respondent sync: {}, {rows} respondents with 4 attributes per call, {rounds} rounds",
        o.label()
    );
    println!("round | new: seconds | new: respondents/s | updated: seconds | updated: respondents/s");
    let (mut created, mut updated) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (new_time, body) = sync(&bench, batch(round, rows, 1)).await;
        assert_eq!(body["data"]["upsertRespondents"]["created"], rows, "{body}");
        let (update_time, body) = sync(&bench, batch(round, rows, 2)).await;
        assert_eq!(body["data"]["upsertRespondents"]["updated"], rows, "{body}");
        println!(
            "{} | {:.2} | {:.0} | {:.2} | {:.0}",
            round + 1,
            new_time.as_secs_f64(),
            rows as f64 / new_time.as_secs_f64(),
            update_time.as_secs_f64(),
            rows as f64 / update_time.as_secs_f64()
        );
        created.push(new_time.as_secs_f64());
        updated.push(update_time.as_secs_f64());
    }
    let (created, updated) = (median(created), median(updated));
    println!(
        "median | {created:.2} | {:.0} | {updated:.2} | {:.0}",
        rows as f64 / created,
        rows as f64 / updated
    );
    bench.finish().await;
}
