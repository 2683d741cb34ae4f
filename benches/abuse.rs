//! What an attacker and an outage cost the server, measured against a release build of the
//! server running as its own process (so its memory is its own, and a build that runs away
//! can be killed): the fragment fan-out, a persisted-query flood, and PostgreSQL / Redis taken
//! away and given back through a forwarder.
//!
//! `cargo bench --bench abuse -- [--case fanout|persisted|outage|all] [--server PATH]
//! [--levels 7,8,9] [--postgres-url URL]`. `--server` runs another build of the server (the
//! figures before a change are measured by pointing it at that build).
mod common;
#[path = "../tests/support/forward.rs"]
mod forward;
#[path = "../tests/support/redis.rs"]
mod own_redis;

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{Options, median};
use forward::Forwarder;
use nazar::graphql::guard::fan_out;
use own_redis::OwnRedis;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const FEEDBACK_FORM: &str = include_str!("../tests/data/feedback-form.json");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process with its own data folder.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(binary: &str, env: &[(&str, String)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("DATA_DIR", dir.path())
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", "bench-secret-that-is-long-enough-for-hs256-0123456789")
            .env("RUST_LOG", "error")
            .env("PUBLIC_RATE_LIMIT_PER_ADDRESS", "1000000000")
            .env("PUBLIC_RATE_LIMIT_PER_FORM", "1000000000")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("the server starts");
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(format!("{}/healthz", server.url)).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not start");
    }

    /// Resident memory of the server process and its peak, in MB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn used_memory_mb(redis: &OwnRedis) -> f64 {
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO").arg("memory").query_async(&mut conn).await.unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1_048_576.0
}

/// One POST: the status, the answer (or the failure) and the time it took.
async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, body: &Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(Value::Null);
            (status, body, started.elapsed())
        }
        Err(err) => (0, json!({ "failed": err.to_string() }), started.elapsed()),
    }
}

fn code_of(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"].as_str().map_or_else(
        || {
            if body["errors"].is_null() {
                "ok".into()
            } else {
                "no code".into()
            }
        },
        str::to_owned,
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The fan-out at each level on the public endpoint, with a plain request from another client
/// while it runs.
async fn fanout(binary: &str, levels: &[usize]) {
    println!("## Fragment fan-out ({binary})");
    println!("| levels | body bytes | answer | time | plain request meanwhile | server peak memory |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for &level in levels {
        let mut server = Server::start(binary, &[]).await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(150))
            .build()
            .unwrap();
        let url = format!("{}/public/graphql", server.url);
        let body = json!({ "query": fan_out("PublicQuery", level) });
        let attack = post(&client, &url, None, &body);
        let plain = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            post(&client, &url, None, &json!({ "query": "{ __typename }" })).await
        };
        let ((status, answer, took), (_, _, plain_took)) = tokio::join!(attack, plain);
        let outcome = if status == 0 {
            format!("no answer ({})", answer["failed"].as_str().unwrap_or(""))
        } else {
            format!("{status} {}", code_of(&answer))
        };
        let (_, peak) = server.memory();
        let alive = if server.alive() { "" } else { " (server died)" };
        println!(
            "| {level} | {} | {outcome}{alive} | {} | {} | {peak:.0} MB |",
            body.to_string().len(),
            ms(took),
            ms(plain_took)
        );
    }
}

/// Documents just under the caps (the costliest a client may send): time to answer each, with
/// four of them at once.
async fn at_the_caps(binary: &str) {
    let server = Server::start(binary, &[]).await;
    let client = reqwest::Client::new();
    let url = format!("{}/public/graphql", server.url);
    let fields: String = (0..98).map(|i| format!("t{i}: __typename ")).collect();
    let spread_heavy = format!("fragment F on PublicQuery {{ {fields} }} {{ {} }}", "...F ".repeat(50));
    let aliases: String = (0..4_900).map(|i| format!("a{i}: __typename ")).collect();
    let alias_heavy = format!("{{ {aliases} }}");
    println!("| document at the caps | bytes | answer | alone | four at once (slowest) |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, query) in [
        ("a fragment of 98 fields spread 50 times", spread_heavy),
        ("4,900 aliases", alias_heavy),
    ] {
        let body = json!({ "query": query });
        let mut alone = Vec::new();
        let mut status = String::new();
        for _ in 0..5 {
            let (code, answer, took) = post(&client, &url, None, &body).await;
            status = format!("{code} {}", code_of(&answer));
            alone.push(took.as_secs_f64() * 1000.0);
        }
        let together = futures_util::future::join_all((0..4).map(|_| post(&client, &url, None, &body))).await;
        let slowest = together.iter().map(|(_, _, t)| *t).max().unwrap_or_default();
        println!(
            "| {name} | {} | {status} | {:.1} ms | {} |",
            body.to_string().len(),
            median(alone),
            ms(slowest)
        );
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `count` persisted queries of about `size` bytes from one address, in process and with Redis.
async fn persisted(binary: &str, count: usize, size: usize) {
    println!("## Persisted-query flood: {count} queries of {size} bytes ({binary})");
    println!("| cache | answers | server memory before → after | Redis used memory before → after |");
    println!("| --- | --- | --- | --- |");
    for with_redis in [false, true] {
        let redis = if with_redis {
            Some(OwnRedis::start().await.expect("redis-server starts"))
        } else {
            None
        };
        let env: Vec<(&str, String)> = redis.iter().map(|r| ("REDIS_URL", r.url.clone())).collect();
        let server = Server::start(binary, &env).await;
        let client = reqwest::Client::new();
        let url = format!("{}/public/graphql", server.url);
        let redis_before = match &redis {
            Some(r) => used_memory_mb(r).await,
            None => 0.0,
        };
        // Warm up, then measure.
        post(&client, &url, None, &json!({ "query": "{ __typename }" })).await;
        let (before, _) = server.memory();
        let mut codes = std::collections::BTreeMap::<String, usize>::new();
        let padding = "x".repeat(size.saturating_sub(30));
        for n in 0..count {
            let query = format!("{{ q{n}: __typename }} # {padding}");
            let body = json!({ "query": query,
                "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(&query) } } });
            let (status, answer, _) = post(&client, &url, None, &body).await;
            *codes.entry(format!("{status} {}", code_of(&answer))).or_default() += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (after, _) = server.memory();
        let redis_after = match &redis {
            Some(r) => used_memory_mb(r).await,
            None => 0.0,
        };
        let answers: Vec<String> = codes.iter().map(|(c, n)| format!("{n} × {c}")).collect();
        let redis_text = if with_redis {
            format!("{redis_before:.1} → {redis_after:.1} MB")
        } else {
            "–".to_owned()
        };
        println!(
            "| {} | {} | {before:.0} → {after:.0} MB | {redis_text} |",
            if with_redis { "Redis" } else { "in process" },
            answers.join(", "),
        );
    }
}

/// Where the PostgreSQL of `admin_url` listens.
fn postgres_address(admin_url: &str) -> SocketAddr {
    let rest = admin_url.split_once("://").unwrap().1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split('/')
        .next()
        .unwrap()
        .parse()
        .expect("the PostgreSQL URL names an IP address and port")
}

/// A fresh PostgreSQL database next to the one in `admin_url`: its name, and its URL through
/// `via`.
async fn fresh_database(admin_url: &str, via: SocketAddr) -> (String, String) {
    let admin = Database::connect(admin_url).await.expect("connect to PostgreSQL");
    let name = format!("nazar_bench_{}", Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let (scheme, rest) = admin_url.split_once("://").unwrap();
    let credentials = rest.rsplit_once('@').map_or("", |(c, _)| c);
    let at = if credentials.is_empty() {
        String::new()
    } else {
        format!("{credentials}@")
    };
    let url = format!("{scheme}://{at}{via}/{name}");
    (name, url)
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
}

/// Signs up, publishes the feedback form; the owner's token and the form's ids.
async fn prepare(client: &reqwest::Client, server: &Server) -> (String, String, String) {
    let url = format!("{}/graphql", server.url);
    let (_, body, _) = post(
        client,
        &url,
        None,
        &json!({ "query": "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
                 "variables": { "i": { "organizationName": "Bench", "name": "Owner", "email": "owner@example.com",
                                       "password": "correct horse battery staple" } } }),
    )
    .await;
    let token = body["data"]["signUp"]["accessToken"]
        .as_str()
        .expect("signed up")
        .to_owned();
    let (_, body, _) = post(
        client,
        &url,
        Some(&token),
        &json!({ "query": "mutation($i: ImportFormInput!) { importForm(input: $i) { form { id publicId } } }",
                 "variables": { "i": { "document": FEEDBACK_FORM } } }),
    )
    .await;
    let form = &body["data"]["importForm"]["form"];
    let (form_id, public_id) = (
        form["id"].as_str().unwrap().to_owned(),
        form["publicId"].as_str().unwrap().to_owned(),
    );
    // The mutation as this server takes it; then as builds before its inputs were objects did
    // (so earlier builds can be measured too).
    for query in [
        "mutation($id: ID!) { publishForm(input: { id: $id }) { version { id } } }",
        "mutation($id: ID!) { publishForm(id: $id) { version { id } } }",
    ] {
        let (_, body, _) = post(
            client,
            &url,
            Some(&token),
            &json!({ "query": query, "variables": { "id": form_id } }),
        )
        .await;
        if body["errors"].is_null() {
            break;
        }
    }
    (token, form_id, public_id)
}

fn submission(public_id: &str) -> Value {
    json!({ "query": "mutation($i: NewResponseInput!) { submitResponse(input: $i) { response { id } } }",
            "variables": { "i": { "publicId": public_id, "idempotencyKey": Uuid::now_v7().to_string(),
                "answers": [{ "key": "nps", "value": { "number": 10 } }, { "key": "plan", "value": { "choices": ["pro"] } },
                            { "key": "service", "value": { "number": 5 } }] } } })
}

/// Requests made while a dependency is gone: their times and answers.
#[derive(Default)]
struct Outage {
    times: Vec<Duration>,
    answers: std::collections::BTreeMap<String, usize>,
}

impl Outage {
    fn record(&mut self, (status, body, took): (u16, Value, Duration)) {
        *self.answers.entry(format!("{status} {}", code_of(&body))).or_default() += 1;
        self.times.push(took);
    }

    /// One row of the table.
    fn row(&self, what: &str, requests: &str, (ready_status, ready_took): (u16, Duration), back: &str) {
        let rest: Vec<f64> = self.times[1..].iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        let answers: Vec<String> = self.answers.iter().map(|(c, n)| format!("{n} × {c}")).collect();
        println!(
            "| {what} | {requests} | {} | {} | {:.1} ms | {ready_status} in {} | {back} |",
            answers.join(", "),
            ms(self.times[0]),
            median(rest),
            ms(ready_took),
        );
    }
}

/// How long until `check` first holds, polled every 50 ms for at most a minute.
async fn time_until<F: Future<Output = bool>>(mut check: impl FnMut() -> F) -> String {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if check().await {
            return ms(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    "not within 60 s".to_owned()
}

/// PostgreSQL, then Redis, cut and restored under a trickle of requests.
async fn outage(binary: &str, postgres_url: &str) {
    println!("## Outages ({binary})");
    let redis = OwnRedis::start().await.expect("redis-server starts");
    let redis_forwarder = Forwarder::start(redis.addr).await;
    let pg_forwarder = Forwarder::start(postgres_address(postgres_url)).await;
    let (database, database_url) = fresh_database(postgres_url, pg_forwarder.addr).await;
    let server = Server::start(
        binary,
        &[
            ("DATABASE_URL", database_url),
            ("REDIS_URL", format!("redis://{}", redis_forwarder.addr)),
        ],
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let (token, form_id, public_id) = prepare(&client, &server).await;
    let public = format!("{}/public/graphql", server.url);
    let staff = format!("{}/graphql", server.url);
    let readyz = format!("{}/readyz", server.url);
    let report = json!({ "query": "query($id: ID!) { formReport(formId: $id) { responses { completed } nps { score } } }",
                         "variables": { "id": form_id } });
    let ready = || async {
        let started = Instant::now();
        let status = client.get(&readyz).send().await.map_or(0, |r| r.status().as_u16());
        (status, started.elapsed())
    };
    for _ in 0..20 {
        post(&client, &public, None, &submission(&public_id)).await;
    }

    println!(
        "| dependency gone | requests | answers | first request | median of the next 19 | /readyz | back after restore |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    // PostgreSQL.
    pg_forwarder.cut();
    let mut outage = Outage::default();
    for _ in 0..20 {
        outage.record(post(&client, &public, None, &submission(&public_id)).await);
    }
    let readiness = ready().await;
    pg_forwarder.restore().await;
    let back = time_until(|| async {
        let (status, body, _) = post(&client, &public, None, &submission(&public_id)).await;
        status == 200 && body["errors"].is_null()
    })
    .await;
    outage.row("PostgreSQL cut", "20 submissions", readiness, &back);

    // Redis: connections cut (refused at once), then the server paused (every call waits).
    let mut up = Vec::new();
    for _ in 0..20 {
        up.push(post(&client, &staff, Some(&token), &report).await.2.as_secs_f64() * 1000.0);
    }
    let requests = format!("20 reports (median {:.1} ms with Redis up)", median(up));
    for paused in [false, true] {
        if paused {
            redis.signal("-STOP");
        } else {
            redis_forwarder.cut();
        }
        let mut outage = Outage::default();
        for i in 0..20 {
            // A submission between reports, so each report is computed anew.
            if i % 2 == 0 {
                post(&client, &public, None, &submission(&public_id)).await;
            }
            outage.record(post(&client, &staff, Some(&token), &report).await);
        }
        let readiness = ready().await;
        if paused {
            redis.signal("-CONT");
        } else {
            redis_forwarder.restore().await;
        }
        let back = time_until(|| async { ready().await.0 == 200 }).await;
        let what = if paused { "Redis paused" } else { "Redis cut" };
        outage.row(what, &requests, readiness, &back);
    }
    drop(server);
    drop_database(postgres_url, &database).await;
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let binary = o.text("server").unwrap_or(env!("CARGO_BIN_EXE_nazar")).to_owned();
    let case = o.text("case").unwrap_or("all").to_owned();
    // `--levels 7,8,9`, or one level: `--levels 8`.
    let levels: Vec<usize> = match (o.text("levels"), o.number("levels", 0)) {
        (Some(list), _) => list.split(',').filter_map(|l| l.trim().parse().ok()).collect(),
        (None, 0) => vec![7, 8, 9],
        (None, one) => vec![one],
    };
    if case == "fanout" || case == "all" {
        fanout(&binary, &levels).await;
        at_the_caps(&binary).await;
    }
    if case == "persisted" || case == "all" {
        persisted(&binary, o.number("count", 400), o.number("size", 1_000_000)).await;
    }
    if case == "outage" || case == "all" {
        outage(&binary, &o.postgres_url).await;
    }
}
