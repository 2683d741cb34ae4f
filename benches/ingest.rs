//! Ingestion benchmark: single-shot submissions of a 10-question form with conditions over
//! HTTP (a real GraphQL request to the real server), at a fixed concurrency, against the
//! ceiling of the database alone: the same rows (idempotency key, response, answers, chosen
//! options, the record that their report counts wait for a fold) written in one transaction
//! per response, at the same concurrency, with no HTTP, GraphQL or validation. Each round
//! runs both; the report gives each round and the medians.
//!
//! ```sh
//! cargo bench --bench ingest -- --backend sqlite
//! cargo bench --bench ingest -- --backend postgres --postgres-url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//! Options: `--requests N` (per round, default 3000), `--concurrency C` (default 32),
//! `--rounds R` (default 3), `--redis-url URL` (shared cache and rate limits in Redis),
//! `--webhook yes`: each round also submits with a webhook endpoint subscribed to
//! `response.completed` (a local receiver answering 204 at once), beside the same load without
//! it (rounds alternate which goes first), and reports the delay from commit to the receiver
//! (p50, p99).
mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{Bench, Options, Run, median, ms, percentile};
use rand::{Rng, rngs::StdRng};
use serde_json::{Value, json};
use uuid::Uuid;

const FORM: &str = include_str!("../tests/data/feedback-form.json");

/// What a local webhook receiver saw: per delivery, the time from the event (its `timestamp`,
/// taken in the submission's transaction) to its arrival.
#[derive(Default)]
struct Arrivals {
    delays: std::sync::Mutex<Vec<Duration>>,
}

#[poem::handler]
async fn receive(body: String, poem::web::Data(arrivals): poem::web::Data<&Arc<Arrivals>>) -> poem::http::StatusCode {
    let now = chrono::Utc::now();
    let event: Value = serde_json::from_str(&body).unwrap_or_default();
    if let Some(at) = event["timestamp"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    {
        let delay = (now - at.to_utc()).to_std().unwrap_or_default();
        arrivals.delays.lock().unwrap().push(delay);
    }
    poem::http::StatusCode::NO_CONTENT
}

/// Starts a receiver on this machine; its URL.
async fn receiver(arrivals: Arc<Arrivals>) -> String {
    use poem::{
        EndpointExt,
        listener::{Acceptor, Listener},
    };
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = poem::Route::new().at("/hook", poem::post(receive)).data(arrivals);
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}/hook")
}

/// Waits until `n` deliveries have arrived (at most a minute); their delays, sorted.
async fn delivered(arrivals: &Arrivals, n: usize) -> Vec<Duration> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = arrivals.delays.lock().unwrap().len();
        if got >= n || Instant::now() > deadline {
            let mut delays = std::mem::take(&mut *arrivals.delays.lock().unwrap());
            delays.sort();
            return delays;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A respondent's answers that follow the form's path: promoters skip the details section,
/// detractors say why and leave an email, a few passives are employees (disqualified).
fn answers(rng: &mut StdRng, i: usize) -> Value {
    let nps: u32 = match rng.random_range(0..100) {
        0..=14 => rng.random_range(0..=6),
        15..=44 => rng.random_range(7..=8),
        _ => rng.random_range(9..=10),
    };
    let mut list = vec![json!({ "key": "nps", "value": { "number": nps } })];
    if nps <= 6 {
        list.push(json!({ "key": "reason", "value": { "text": "ارسال دیر انجام شد و بسته‌بندی آسیب دیده بود" } }));
    }
    let plans = ["basic", "pro", "enterprise"];
    if rng.random_range(0..10) == 0 {
        list.push(json!({ "key": "plan", "value": { "choices": [] }, "otherText": "طرح ویژه" }));
    } else {
        list.push(json!({ "key": "plan", "value": { "choices": [plans[rng.random_range(0..3)]] } }));
    }
    let features = ["speed", "price", "support"];
    let first = rng.random_range(0..3);
    let mut chosen = vec![features[first]];
    if rng.random_bool(0.5) {
        chosen.push(features[(first + 1) % 3]);
    }
    list.push(json!({ "key": "features", "value": { "choices": chosen } }));
    list.push(json!({ "key": "service", "value": { "number": rng.random_range(1..=5) } }));
    if nps <= 8 {
        let employee = rng.random_range(0..50) == 0;
        list.push(json!({ "key": "age", "value": { "text": format!("{}", rng.random_range(18..=80)) } }));
        list.push(json!({ "key": "employee", "value": { "bool": employee } }));
        if employee {
            // Disqualified after the details section: the contact section is not reached.
            return Value::Array(list);
        }
    }
    if nps <= 6 || rng.random_bool(0.5) {
        list.push(json!({ "key": "email", "value": { "text": format!("customer{i}@example.com") } }));
    }
    if rng.random_bool(0.5) {
        list.push(json!({ "key": "contact", "value": { "text": "۰۹۱۲ ۳۴۵ ۶۷۸۹" } }));
    }
    if rng.random_bool(0.5) {
        list.push(json!({ "key": "visit", "value": { "date": "2026-03-01" } }));
    }
    Value::Array(list)
}

/// `count` submissions over HTTP from `concurrency` clients; counts the completions (each a
/// `response.completed` event).
async fn http_round(url: &str, public_id: &str, count: usize, concurrency: usize, seed: u64) -> Run {
    let public_id = public_id.to_owned();
    let query = "mutation($input: NewResponseInput!) { submitResponse(input: $input) { response { id status } } }";
    common::load(
        url,
        count,
        concurrency,
        seed,
        move |rng, i| {
            let input = json!({ "publicId": public_id, "idempotencyKey": Uuid::now_v7().to_string(),
                "channel": "IN_APP", "locale": "fa", "answers": answers(rng, i),
                "hidden": [{ "key": "order_id", "value": format!("A-{i}") }] });
            json!({ "query": query, "variables": { "input": input } })
        },
        |body| {
            assert!(body["errors"].is_null(), "submission refused: {body}");
            usize::from(body["data"]["submitResponse"]["response"]["status"] == "COMPLETED")
        },
    )
    .await
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let (requests, concurrency, rounds) = (
        o.number("requests", 3000),
        o.number("concurrency", 32),
        o.number("rounds", 3),
    );
    let bench = Bench::start(&o).await;
    let public_id = bench.publish(FORM).await;
    let (url, db) = (bench.url.clone(), bench.db.clone());

    println!(
        "ingestion: {}, {requests} submissions per round at concurrency {concurrency}, {rounds} rounds",
        o.label()
    );
    // Warm-up: connections, caches, the published version.
    http_round(&url, &public_id, 200.min(requests), concurrency, 0).await;
    let warm = common::stored_rows(&db, 200).await;
    common::database_round(&db, &warm, concurrency).await;

    // `--webhook yes`: an endpoint subscribed to completions, enabled only for the rounds
    // measured with it.
    let webhook = o.text("webhook") == Some("yes");
    let arrivals = Arc::new(Arrivals::default());
    let endpoint = if webhook {
        let url = receiver(arrivals.clone()).await;
        let created = bench
            .gql(
                "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }",
                json!({ "input": { "url": url, "events": ["RESPONSE_COMPLETED"], "enabled": false } }),
            )
            .await;
        Some(
            created["data"]["createWebhookEndpoint"]["endpoint"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{created}"))
                .to_owned(),
        )
    } else {
        None
    };
    let enable = |on: bool| {
        let (bench, endpoint) = (&bench, endpoint.clone());
        async move {
            let body = bench
                .gql(
                    "mutation($id: ID!, $on: Boolean!) { updateWebhookEndpoint(input: { id: $id, enabled: $on }) { endpoint { enabled } } }",
                    json!({ "id": endpoint, "on": on }),
                )
                .await;
            assert_eq!(
                body["data"]["updateWebhookEndpoint"]["endpoint"]["enabled"], on,
                "{body}"
            );
        }
    };
    if webhook {
        println!(
            "round | without: submissions/s | p50 | p99 | with a webhook: submissions/s | p50 | p99 | with / without | delivered | commit to delivery p50 | p99"
        );
        let (mut without, mut with, mut ratios, mut d50, mut d99) = (vec![], vec![], vec![], vec![], vec![]);
        for round in 0..rounds {
            let seed = 1000 * (round as u64 + 1);
            // Alternate which goes first, so drift over the run (a database that grows, a
            // neighbour on the machine) does not favour one side.
            let with_first = round % 2 == 1;
            let mut plain = None;
            if !with_first {
                plain = Some(http_round(&url, &public_id, requests, concurrency, seed).await);
            }
            enable(true).await;
            let hooked = http_round(&url, &public_id, requests, concurrency, seed + 500).await;
            let delays = delivered(&arrivals, hooked.counted).await;
            enable(false).await;
            let plain = match plain {
                Some(plain) => plain,
                None => http_round(&url, &public_id, requests, concurrency, seed).await,
            };
            let (p50, p99) = (percentile(&delays, 50.0), percentile(&delays, 99.0));
            let ratio = hooked.per_second / plain.per_second;
            println!(
                "{} | {:.0} | {} | {} | {:.0} | {} | {} | {:.2} | {} | {} | {}",
                round + 1,
                plain.per_second,
                ms(plain.p50),
                ms(plain.p99),
                hooked.per_second,
                ms(hooked.p50),
                ms(hooked.p99),
                ratio,
                delays.len(),
                ms(p50),
                ms(p99)
            );
            without.push(plain.per_second);
            with.push(hooked.per_second);
            ratios.push(ratio);
            d50.push(p50.as_secs_f64() * 1000.0);
            d99.push(p99.as_secs_f64() * 1000.0);
        }
        let (without, with) = (median(without), median(with));
        println!(
            "median | {without:.0} | | | {with:.0} | | | {:.2} | | {:.1} ms | {:.1} ms",
            median(ratios),
            median(d50),
            median(d99)
        );
        println!("ratio of the medians (with / without): {:.2}", with / without);
        drop(db);
        bench.finish().await;
        return;
    }

    println!(
        "round | HTTP submissions/s | HTTP p50 | HTTP p99 | database alone rows/s | db p50 | db p99 | HTTP / database | most waiting for a fold"
    );
    let (mut http_rates, mut db_rates, mut ratios, mut p50s, mut p99s) = (vec![], vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        // The responses whose counts wait for the server's fold, looked at every 100 ms.
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let sampler = tokio::spawn({
            let db = db.clone();
            async move {
                let mut most = 0;
                loop {
                    most = most.max(common::count(&db, "SELECT COUNT(*) FROM pending_counts").await);
                    tokio::select! {
                        _ = &mut stopped => return most,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            }
        });
        let http = http_round(&url, &public_id, requests, concurrency, 1000 * (round as u64 + 1)).await;
        let _ = stop.send(());
        let most_waiting = sampler.await.unwrap();
        let rows = common::stored_rows(&db, requests).await;
        let database = common::database_round(&db, &rows, concurrency).await;
        let ratio = http.per_second / database.per_second;
        println!(
            "{} | {:.0} | {} | {} | {:.0} | {} | {} | {:.2} | {most_waiting}",
            round + 1,
            http.per_second,
            ms(http.p50),
            ms(http.p99),
            database.per_second,
            ms(database.p50),
            ms(database.p99),
            ratio
        );
        http_rates.push(http.per_second);
        db_rates.push(database.per_second);
        ratios.push(ratio);
        p50s.push(http.p50.as_secs_f64() * 1000.0);
        p99s.push(http.p99.as_secs_f64() * 1000.0);
    }
    println!(
        "median | {:.0} | {:.1} ms | {:.1} ms | {:.0} | | | {:.2}",
        median(http_rates),
        median(p50s),
        median(p99s),
        median(db_rates),
        median(ratios)
    );
    println!(
        "responses stored: {}",
        common::count(&db, "SELECT COUNT(*) FROM responses").await
    );
    drop(db);
    bench.finish().await;
}
