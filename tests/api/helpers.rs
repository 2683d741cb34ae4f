//! `spawn_app()`: the real application on a free port with a fresh database, and a client.
use std::{
    net::SocketAddr,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

#[path = "../support/redis.rs"]
mod redis_server;

use nazar::{
    app::App,
    clock::Clock,
    config::{Config, Secret},
    db::Db,
};
pub use redis_server::OwnRedis;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

/// The signing secret of test apps, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: Db,
    /// The app's cache (Redis or in process).
    pub cache: nazar::cache::Cache,
    /// The prefix of this app's cache keys (shared with another app to share its cache).
    pub cache_prefix: String,
    /// The app's clock: it stands still (rate-limit windows never turn mid-test) until a test
    /// moves it.
    pub clock: Clock,
    /// The app's background jobs.
    pub jobs: nazar::service::job::Jobs,
    /// The app's webhook dispatcher (tests run it when they choose, on the app's clock).
    pub webhooks: nazar::service::webhook::dispatch::Dispatcher,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<()>>,
    _data_dir: Option<tempfile::TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Settings for a test app: a temporary data folder, a port of its own, the test secret, and
/// PostgreSQL / Redis when the environment asks for them.
pub async fn test_config() -> (Config, Option<tempfile::TempDir>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::defaults();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.jwt_secret = Some(Secret::new(JWT_SECRET));
    config.database_max_connections = 5;
    // Tests run background jobs when they choose (`TestApp::run_jobs`), so that statement
    // counts and timings are their own; the durability test turns the runner on.
    config.run_jobs = false;
    // Webhook tests deliver to receivers on this machine; other networks stay refused.
    config.webhook_allow_loopback = true;
    config.webhook_allow_private = false;
    config.log_filter = "warn".to_owned();
    // Only what the test environment asks for; nothing inherited from the shell.
    config.database_url = None;
    config.redis_url = None;
    config.production = false;
    config.cors_origins = Vec::new();
    config.tls_cert = None;
    config.tls_key = None;
    if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") {
        config.database_url = Some(Secret::new(fresh_postgres_database(&admin_url).await));
    }
    if let Ok(redis_url) = std::env::var("TEST_REDIS_URL") {
        config.redis_url = Some(Secret::new(redis_url));
        config.cache_prefix = format!("nazar-test:{}:", Uuid::now_v7().simple());
    }
    (config, Some(dir))
}

/// Creates an empty database next to the one in `admin_url` and returns its URL. The first
/// call of a run also drops test databases more than an hour old (their names carry a UUIDv7,
/// hence their creation time).
async fn fresh_postgres_database(admin_url: &str) -> String {
    static CLEANED: AtomicBool = AtomicBool::new(false);
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    if !CLEANED.swap(true, Ordering::SeqCst) {
        drop_stale_databases(&admin).await;
    }
    let name = format!("nazar_test_{}", Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends with /<database>");
    format!("{base}/{name}")
}

async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'nazar_test_%'",
        ))
        .await
        .unwrap_or_default();
    let hour_ago = chrono::Utc::now().timestamp() - 3600;
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let created = Uuid::parse_str(name.trim_start_matches("nazar_test_"))
            .ok()
            .and_then(|id| id.get_timestamp())
            .map(|ts| ts.to_unix().0 as i64);
        if created.is_some_and(|t| t < hour_ago) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (mut config, dir) = test_config().await;
    adjust(&mut config);
    start(config, dir).await
}

/// Starts an app with exactly this configuration.
pub async fn start(config: Config, dir: Option<tempfile::TempDir>) -> TestApp {
    let cache_prefix = config.cache_prefix.clone();
    let clock = Clock::fixed(chrono::Utc::now());
    let app = App::build_with_clock(config, clock.clone()).await.expect("app builds");
    let db = app.state.db.clone();
    let cache = app.state.cache.clone();
    let jobs = app.state.jobs.clone();
    let webhooks = app.state.webhooks.clone();
    let bound = app.bind().await.expect("app binds");
    let addr = bound.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        bound
            .serve(async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        addr,
        client,
        db,
        cache,
        cache_prefix,
        clock,
        jobs,
        webhooks,
        shutdown: Some(tx),
        server: Some(server),
        _data_dir: dir,
    }
}

impl TestApp {
    /// Runs the background jobs that are due until none is left (waiting for those the
    /// server's own runner holds); how many this call ran.
    pub async fn run_jobs(&self) -> usize {
        let work = nazar::service::job::Work {
            db: self.db.clone(),
            clock: self.clock.clone(),
        };
        self.jobs
            .run_until_idle(&work, Duration::from_secs(120))
            .await
            .expect("jobs run")
    }

    /// Folds every pending report count into the tallies; how many responses it folded.
    pub async fn fold_counts(&self) -> u64 {
        nazar::service::report::fold_pending(&self.db)
            .await
            .expect("counts fold")
    }

    /// Fans out and sends the webhook deliveries that are due until none is; how many
    /// attempts this call made.
    pub async fn deliver(&self) -> usize {
        self.webhooks.run_due().await.expect("deliveries run")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the server and waits until it has finished its in-flight requests.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
    }

    /// Keeps the data folder when the app is dropped, to start another app on it.
    pub fn take_data_dir(&mut self) -> Option<tempfile::TempDir> {
        self._data_dir.take()
    }

    /// POSTs a GraphQL operation; `token` is an access token or API key.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// The JSON answer to a GraphQL operation.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.post(token, query, variables).await;
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.expect("JSON body")
    }

    /// Signs up a new organization with a unique owner; returns the session.
    pub async fn sign_up(&self) -> Session {
        let email = format!("owner-{}@example.com", Uuid::now_v7().simple());
        self.sign_up_as(&email, "Acme").await
    }

    pub async fn sign_up_as(&self, email: &str, organization: &str) -> Session {
        let body = self
            .gql(
                None,
                r#"mutation($input: SignUpInput!) { signUp(input: $input) {
                    accessToken refreshToken role organization { id } user { id } } }"#,
                json!({ "input": { "organizationName": organization, "timeZone": "Asia/Tehran",
                                   "name": "Owner", "email": email, "password": PASSWORD } }),
            )
            .await;
        Session::from_json(&body["data"]["signUp"], email)
    }

    /// Invites `email` with `role` and accepts the invitation; returns the new member's session.
    pub async fn add_member(&self, owner: &Session, role: &str) -> Session {
        let email = format!("member-{}@example.com", Uuid::now_v7().simple());
        let body = self
            .gql(
                Some(&owner.access_token),
                r#"mutation($input: InviteMemberInput!) { inviteMember(input: $input) { invitationToken member { id } } }"#,
                json!({ "input": { "email": email, "role": role } }),
            )
            .await;
        let token = body["data"]["inviteMember"]["invitationToken"]
            .as_str()
            .unwrap_or_else(|| panic!("invited: {body}"))
            .to_owned();
        let member_id = body["data"]["inviteMember"]["member"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let body = self
            .gql(
                None,
                r#"mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) {
                    accessToken refreshToken role organization { id } user { id } } }"#,
                json!({ "input": { "token": token, "password": PASSWORD, "name": "Member" } }),
            )
            .await;
        let mut session = Session::from_json(&body["data"]["acceptInvitation"], &email);
        session.member_id = Some(member_id);
        session
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in member.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
    pub organization_id: String,
    pub user_id: String,
    pub role: String,
    pub member_id: Option<String>,
}

impl Session {
    fn from_json(value: &Value, email: &str) -> Session {
        let text = |v: &Value| {
            v.as_str()
                .unwrap_or_else(|| panic!("session field missing in {value}"))
                .to_owned()
        };
        Session {
            email: email.to_owned(),
            access_token: text(&value["accessToken"]),
            refresh_token: text(&value["refreshToken"]),
            organization_id: text(&value["organization"]["id"]),
            user_id: text(&value["user"]["id"]),
            role: text(&value["role"]),
            member_id: None,
        }
    }
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// The `extensions.field` of the first error.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field in {body}"))
}

/// Every (code, path) of a BAD_USER_INPUT refusal's `extensions.problems`, in order.
pub fn problems(body: &Value) -> Vec<(String, String)> {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
    body["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {body}"))
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A server process of its own on `config`'s database and data folder.
pub struct Process {
    pub child: std::process::Child,
    pub url: String,
    pub addr: SocketAddr,
}

impl Process {
    /// Starts it and waits until it is ready; `run_jobs` runs its job runner and dispatcher.
    pub async fn start(config: &nazar::config::Config, run_jobs: bool) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nazar"));
        command
            .env_clear()
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DATA_DIR", &config.data_dir)
            .env("JWT_SECRET", JWT_SECRET)
            .env("RUN_JOBS", run_jobs.to_string())
            .env("WEBHOOK_ALLOW_LOOPBACK", "true")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(url) = &config.database_url {
            command.env("DATABASE_URL", url.expose());
        }
        if let Some(url) = &config.redis_url {
            command
                .env("REDIS_URL", url.expose())
                .env("CACHE_PREFIX", &config.cache_prefix);
        }
        command.env(
            "SUBSCRIPTIONS_PER_PRINCIPAL",
            config.subscriptions_per_principal.to_string(),
        );
        let child = command.spawn().expect("the server starts");
        let process = Process {
            child,
            url: format!("http://127.0.0.1:{port}"),
            addr: format!("127.0.0.1:{port}").parse().unwrap(),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(format!("{}/readyz", process.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await; // the process is starting up
        }
        panic!("the server process did not become ready");
    }

    /// The JSON answer to a GraphQL operation at `path`.
    pub async fn gql(&self, token: Option<&str>, path: &str, query: &str, variables: Value) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
