//! What the benchmarks share: options, a real server on a fresh database (SQLite in a
//! temporary folder, or a new PostgreSQL database dropped afterwards), GraphQL over HTTP,
//! statistics.
#![allow(dead_code)]
pub mod generate;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use nazar::{
    app::App,
    config::{Config, Secret},
    db::Db,
    form::answer::Checked,
    service::{
        report::tally,
        response::{answers_of, idempotency, store},
    },
};
use rand::{SeedableRng, rngs::StdRng};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

/// Command-line options: `--backend sqlite|postgres`, `--postgres-url`, `--redis-url`, and
/// numeric options by name.
pub struct Options {
    pub backend: String,
    pub postgres_url: String,
    pub redis_url: Option<String>,
    numbers: Vec<(String, usize)>,
    texts: Vec<(String, String)>,
}

impl Options {
    pub fn parse() -> Options {
        let mut o = Options {
            backend: "sqlite".into(),
            postgres_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            redis_url: None,
            numbers: Vec::new(),
            texts: Vec::new(),
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let value = args.get(i + 1).cloned().unwrap_or_default();
            match args[i].as_str() {
                "--backend" => o.backend = value,
                "--postgres-url" => o.postgres_url = value,
                "--redis-url" => o.redis_url = Some(value),
                // `cargo bench` passes --bench, which takes no value.
                "--bench" => {
                    i += 1;
                    continue;
                }
                name if name.starts_with("--") => {
                    let name = name.trim_start_matches("--").to_owned();
                    match value.parse() {
                        Ok(number) => o.numbers.push((name, number)),
                        Err(_) => o.texts.push((name, value)),
                    }
                }
                _ => {
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        o
    }

    /// The numeric option `name`, or `default`.
    pub fn number(&self, name: &str, default: usize) -> usize {
        self.numbers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(default, |(_, v)| *v)
    }

    /// The text option `name`, if given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `sqlite`, `postgres` or `postgres + Redis`.
    pub fn label(&self) -> String {
        format!(
            "{}{}",
            self.backend,
            if self.redis_url.is_some() { " + Redis" } else { "" }
        )
    }
}

/// A running server and a signed-in owner.
pub struct Bench {
    pub url: String,
    pub db: Db,
    token: std::sync::Mutex<String>,
    pub client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), nazar::BoxError>>,
    postgres: Option<(DatabaseConnection, String)>,
    /// `--keep yes`: the PostgreSQL database stays for inspection (its name is printed).
    keep: bool,
    /// The SQLite data directory, removed at the end unless given (`--dir PATH`).
    _dir: Option<tempfile::TempDir>,
}

impl Bench {
    /// Starts the server (rate limits far above any load: their cost stays in each request).
    pub async fn start(o: &Options) -> Bench {
        // `--dir PATH`: SQLite's data directory, kept after the run (with `--reuse yes`,
        // measured again without generating).
        let (dir, data_dir) = match o.text("dir") {
            Some(path) => {
                std::fs::create_dir_all(path).expect("data directory");
                (None, std::path::PathBuf::from(path))
            }
            None => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().to_path_buf();
                (Some(dir), path)
            }
        };
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.data_dir = data_dir;
        config.jwt_secret = Some(Secret::new("bench-secret-that-is-long-enough-for-hs256-0123456789"));
        config.log_filter = "warn".into();
        config.public_rate_limit_per_address = 1_000_000_000;
        config.public_rate_limit_per_form = 1_000_000_000;
        // The webhook receiver of `--bench ingest -- --webhook yes` listens on this machine.
        config.webhook_allow_loopback = true;
        config.redis_url = o.redis_url.clone().map(Secret::new);
        config.cache_prefix = format!("nazar-bench:{}:", Uuid::now_v7().simple());
        let mut postgres = None;
        match o.backend.as_str() {
            "sqlite" => {}
            "postgres" => {
                let admin = Database::connect(&o.postgres_url).await.expect("connect to PostgreSQL");
                // `--reuse NAME`: a database an earlier run kept (`--keep yes`), already filled.
                let name = match o.text("reuse") {
                    Some(name) => name.to_owned(),
                    None => {
                        let name = format!("nazar_bench_{}", Uuid::now_v7().simple());
                        admin
                            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                            .await
                            .unwrap();
                        name
                    }
                };
                // The new database next to the one in the URL (keeping any `?query`).
                let (url, query) = o.postgres_url.split_once('?').unwrap_or((&o.postgres_url, ""));
                let (base, _) = url.rsplit_once('/').unwrap();
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                };
                config.database_url = Some(Secret::new(format!("{base}/{name}{query}")));
                postgres = Some((admin, name));
            }
            other => panic!("--backend sqlite|postgres, not {other}"),
        }
        nazar::telemetry::init(&config.log_filter, false);
        let app = App::build(config).await.expect("app builds");
        let db = app.state.db.clone();
        let bound = app.bind().await.expect("binds");
        let url = format!("http://{}/graphql", bound.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(bound.serve(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let token = if o.text("reuse").is_some() {
            String::new()
        } else {
            let owner = gql(
                &client,
                &url,
                None,
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
                json!({ "i": { "organizationName": "Bench", "timeZone": "Asia/Tehran", "name": "Owner",
                               "email": OWNER.0, "password": OWNER.1 } }),
            )
            .await;
            owner["data"]["signUp"]["accessToken"]
                .as_str()
                .expect("signed up")
                .to_owned()
        };
        let bench = Bench {
            url,
            db,
            token: std::sync::Mutex::new(token),
            client,
            stop,
            server,
            postgres,
            keep: o.text("keep") == Some("yes") || o.text("reuse").is_some(),
            _dir: dir,
        };
        if o.text("reuse").is_some() {
            bench.sign_in().await;
        }
        bench
    }

    /// Signs the owner in again (a fresh access token: a long load outlives the first one).
    pub async fn sign_in(&self) {
        let session = gql(
            &self.client,
            &self.url,
            None,
            "mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }",
            json!({ "i": { "email": OWNER.0, "password": OWNER.1 } }),
        )
        .await;
        let token = session["data"]["signIn"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("signed in: {session}"))
            .to_owned();
        *self.token.lock().unwrap() = token;
    }

    /// Imports and publishes a form document; its public id.
    pub async fn publish(&self, document: &str) -> String {
        let imported = self
            .gql(
                "mutation($input: ImportFormInput!) { importForm(input: $input) { form { id publicId } } }",
                json!({ "input": { "document": document } }),
            )
            .await;
        let form = &imported["data"]["importForm"]["form"];
        let published = self
            .gql(
                "mutation($id: ID!) { publishForm(input: { id: $id }) { form { status } } }",
                json!({ "id": form["id"] }),
            )
            .await;
        assert_eq!(
            published["data"]["publishForm"]["form"]["status"], "PUBLISHED",
            "{published}"
        );
        form["publicId"].as_str().expect("a public id").to_owned()
    }

    /// A GraphQL operation as the owner.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let token = self.token.lock().unwrap().clone();
        gql(&self.client, &self.url, Some(&token), query, variables).await
    }

    /// Stops the server and drops the PostgreSQL database (unless kept).
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        drop(self.db);
        if let Some((admin, name)) = self.postgres {
            if self.keep {
                println!("kept the database {name}");
                return;
            }
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// The benchmark organization's owner: email and password.
const OWNER: (&str, &str) = ("owner@example.com", "correct horse battery staple");

/// A GraphQL operation over HTTP.
pub async fn gql(client: &reqwest::Client, url: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = client
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request").json().await.expect("JSON")
}

/// One round of load: its rate and latencies.
pub struct Run {
    /// What the round's check counted in the answers (completions, say).
    pub counted: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl Run {
    pub fn of(count: usize, wall: Duration, mut latencies: Vec<Duration>, counted: usize) -> Run {
        latencies.sort();
        Run {
            counted,
            per_second: count as f64 / wall.as_secs_f64(),
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
        }
    }
}

/// `count` GraphQL requests over HTTP from `concurrency` clients, each keeping one in flight:
/// `body(rng, i)` makes the `i`th request's `{ query, variables }`, `check` looks at its answer
/// (panicking on a refusal) and says what it counts.
pub async fn load<B, C>(url: &str, count: usize, concurrency: usize, seed: u64, body: B, check: C) -> Run
where
    B: Fn(&mut StdRng, usize) -> Value + Send + Sync + 'static,
    C: Fn(&Value) -> usize + Send + Sync + 'static,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let (body, check) = (Arc::new(body), Arc::new(check));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, next, url, body, check) = (
                client.clone(),
                next.clone(),
                url.to_owned(),
                body.clone(),
                check.clone(),
            );
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed + worker as u64);
                let (mut latencies, mut counted) = (Vec::new(), 0);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return (latencies, counted);
                    }
                    let request = body(&mut rng, i);
                    let began = Instant::now();
                    let answer: Value = client
                        .post(&url)
                        .json(&request)
                        .send()
                        .await
                        .expect("request")
                        .json()
                        .await
                        .expect("JSON");
                    latencies.push(began.elapsed());
                    counted += check(&answer);
                }
            })
        })
        .collect();
    let (mut latencies, mut counted) = (Vec::with_capacity(count), 0);
    for task in tasks {
        let (mine, n) = task.await.unwrap();
        latencies.extend(mine);
        counted += n;
    }
    Run::of(count, started.elapsed(), latencies, counted)
}

/// The same rows again, inserted by the database alone: one transaction per response with
/// its idempotency key, response row, answers, chosen options and pending-counts record.
pub async fn database_round(db: &Db, rows: &[(entity::response::Model, Vec<Checked>)], concurrency: usize) -> Run {
    let rows = Arc::new(rows.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (db, rows, next) = (db.clone(), rows.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((row, answers)) = rows.get(i) else {
                        return latencies;
                    };
                    // A new response of now: fresh id and times (indexes on times see
                    // distinct values, as under real load).
                    let mut row = row.clone();
                    row.id = Uuid::now_v7();
                    let shift = chrono::Utc::now() - row.updated_at;
                    row.started_at += shift;
                    row.updated_at += shift;
                    row.completed_at = row.completed_at.map(|at| at + shift);
                    let began = Instant::now();
                    let txn = db.begin_write().await.unwrap();
                    let scope = format!("form:{}", row.form_id);
                    let outcome = json!({ "responseId": row.id });
                    let key = Uuid::now_v7().to_string();
                    let claimed = idempotency::claim(
                        &txn,
                        nazar::service::now(),
                        row.organization_id,
                        &scope,
                        &key,
                        "h",
                        &outcome,
                    )
                    .await;
                    assert!(matches!(claimed, Ok(None)), "claim");
                    assert!(store::insert_response(&txn, row.clone()).await.is_ok());
                    assert!(
                        store::insert_answers(&txn, &row, answers, row.completed_at)
                            .await
                            .is_ok()
                    );
                    // The counts wait for a fold, as a submission leaves them.
                    assert!(tally::mark_pending(&txn, &row).await.is_ok());
                    txn.commit().await.unwrap();
                    latencies.push(began.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(rows.len());
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Run::of(rows.len(), started.elapsed(), latencies, rows.len())
}

/// The responses stored so far with their answers, to insert again.
pub async fn stored_rows(db: &Db, limit: usize) -> Vec<(entity::response::Model, Vec<Checked>)> {
    use sea_orm::{EntityTrait, QuerySelect};
    let rows = entity::response::Entity::find()
        .limit(limit as u64)
        .all(db.conn())
        .await
        .unwrap();
    let mut answers = answers_of(db.conn(), rows.iter().map(|r| r.id).collect())
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let a = answers.remove(&r.id).unwrap_or_default();
            (r, a)
        })
        .collect()
}

/// The `p`th percentile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median (of an even count, the mean of the two middle values).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n.is_multiple_of(2) {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    } else {
        values[n / 2]
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// `SELECT COUNT(*)` of something.
pub async fn count(db: &Db, sql: &str) -> i64 {
    count_on(db.conn(), sql).await
}

/// [`count`] on any connection.
pub async fn count_on(conn: &impl ConnectionTrait, sql: &str) -> i64 {
    conn.query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// The UUID inside a global ID.
pub fn uuid_of(global_id: &str) -> Uuid {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(global_id).expect("a global ID")).expect("UTF-8");
    Uuid::parse_str(text.split_once(':').expect("Kind:uuid").1).expect("a UUID")
}
