//! The one typed configuration: command-line flags, each also read from the environment
//! (and a `.env` file). `nazar --help` documents every setting.
use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand};

/// A secret setting: never printed, not even by `Debug`.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// Nazar: a headless customer-feedback backend (GraphQL over HTTP).
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Database URL: `postgres://…` for PostgreSQL, `sqlite://…` for SQLite.
    /// Unset: SQLite at `<data-dir>/nazar.db`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<Secret>,

    /// Largest number of pooled database connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    pub database_max_connections: u32,

    /// Longest wait for a database connection, in milliseconds; past it the request gets
    /// SERVICE_UNAVAILABLE (503) instead of waiting on.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_MS", default_value_t = 2_000, global = true)]
    pub database_acquire_timeout_ms: u64,

    /// Redis URL for the shared cache and rate limits. Unset: an in-process cache.
    #[arg(long, env = "REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<Secret>,

    /// Prefix of every cache key, so several deployments can share one Redis.
    #[arg(long, env = "CACHE_PREFIX", default_value = "nazar:", global = true)]
    pub cache_prefix: String,

    /// Folder for local state: the SQLite database and the generated signing secret.
    #[arg(long, env = "DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Address and port to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8000", global = true)]
    pub bind: SocketAddr,

    /// Origins allowed to call the staff API from a browser (comma-separated, e.g.
    /// `https://app.example.com`). Empty: no cross-origin staff calls.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Request headers browsers may send on both endpoints (comma-separated), besides
    /// `Authorization` on the staff API: tracing and client-identification headers of the common
    /// GraphQL clients by default.
    #[arg(
        long,
        env = "CORS_ALLOWED_HEADERS",
        value_delimiter = ',',
        default_value = "content-type,accept,x-request-id,apollographql-client-name,apollographql-client-version,apollo-require-preflight,x-apollo-operation-name,traceparent,tracestate,baggage,sentry-trace",
        global = true
    )]
    pub cors_allowed_headers: Vec<String>,

    /// How long browsers may keep a preflight's answer, in seconds.
    #[arg(long, env = "CORS_MAX_AGE_SECS", default_value_t = 7200, global = true)]
    pub cors_max_age_secs: u32,

    /// Issuer (`iss`) of access tokens.
    #[arg(long, env = "JWT_ISSUER", default_value = "nazar", global = true)]
    pub jwt_issuer: String,

    /// Audience (`aud`) of access tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "nazar-api", global = true)]
    pub jwt_audience: String,

    /// Lifetime of an access token, in minutes.
    #[arg(long, env = "ACCESS_TOKEN_MINUTES", default_value_t = 15, global = true)]
    pub access_token_minutes: i64,

    /// Lifetime of a session (its refresh tokens), in days.
    #[arg(long, env = "REFRESH_TOKEN_DAYS", default_value_t = 30, global = true)]
    pub refresh_token_days: i64,

    /// HMAC secret that signs access tokens (at least 32 bytes). Unset: generated on first
    /// start and kept in `<data-dir>/jwt-secret`. Required in production.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<Secret>,

    /// Production mode: no GraphiQL, no introspection, no field suggestions, JSON logs,
    /// and JWT_SECRET required.
    #[arg(long, env = "PRODUCTION", default_value_t = false, global = true)]
    pub production: bool,

    /// TLS certificate chain (PEM). With --tls-key, the server speaks HTTPS itself.
    #[arg(long, env = "TLS_CERT_PATH", requires = "tls_key", global = true)]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM).
    #[arg(long, env = "TLS_KEY_PATH", requires = "tls_cert", global = true)]
    pub tls_key: Option<PathBuf>,

    /// Largest accepted request body without valid credentials (the public API), in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1 << 20, global = true)]
    pub max_body_bytes: usize,

    /// Largest accepted request body with valid credentials (a member's token or an API key),
    /// in bytes: room for bulk calls such as a CRM sync of 10,000 respondents.
    #[arg(long, env = "MAX_AUTHENTICATED_BODY_BYTES", default_value_t = 16 << 20, global = true)]
    pub max_authenticated_body_bytes: usize,

    /// Time a request may take before it is answered with TIMEOUT, in milliseconds.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 30_000, global = true)]
    pub request_timeout_ms: u64,

    /// Deepest query nesting accepted.
    #[arg(long, env = "MAX_QUERY_DEPTH", default_value_t = 12, global = true)]
    pub max_query_depth: usize,

    /// Largest query complexity accepted (each field counts 1, list fields times their page size).
    #[arg(long, env = "MAX_QUERY_COMPLEXITY", default_value_t = 5000, global = true)]
    pub max_query_complexity: usize,

    /// Most operations in one batched (JSON array) request; larger batches are refused.
    #[arg(long, env = "MAX_BATCH_SIZE", default_value_t = 10, global = true)]
    pub max_batch_size: usize,

    /// Longest query text accepted, in bytes (inputs belong in variables).
    #[arg(long, env = "MAX_QUERY_BYTES", default_value_t = 100_000, global = true)]
    pub max_query_bytes: usize,

    /// Most selections a document may expand to, every fragment counted as often as it is
    /// spread; measured before the document is expanded.
    #[arg(long, env = "MAX_QUERY_SELECTIONS", default_value_t = 5_000, global = true)]
    pub max_query_selections: usize,

    /// Most root fields (aliases included) in one request, over every operation of a batch.
    #[arg(long, env = "MAX_ROOT_FIELDS", default_value_t = 100, global = true)]
    pub max_root_fields: usize,

    /// Most mutations (root fields of mutation operations) in one request, over a batch.
    #[arg(long, env = "MAX_WRITES", default_value_t = 20, global = true)]
    pub max_writes: usize,

    /// Longest persisted query the server learns, in bytes (longer ones still run).
    #[arg(long, env = "MAX_PERSISTED_QUERY_BYTES", default_value_t = 32 << 10, global = true)]
    pub max_persisted_query_bytes: usize,

    /// Bytes of persisted queries kept (in Redis, or in each process); the least recently
    /// used are forgotten first.
    #[arg(long, env = "PERSISTED_QUERY_STORE_BYTES", default_value_t = 16 << 20, global = true)]
    pub persisted_query_store_bytes: u64,

    /// New persisted queries one caller (client address, API key or member) may teach per
    /// minute.
    #[arg(
        long,
        env = "PERSISTED_QUERIES_LEARNED_PER_MINUTE",
        default_value_t = 60,
        global = true
    )]
    pub persisted_queries_learned_per_minute: u64,

    /// Operations per minute one client address may ask for on the public API
    /// (`/public/graphql` and calls without credentials on `/graphql`): each root field of each
    /// operation counts one; 0 turns the limit off.
    #[arg(long, env = "PUBLIC_RATE_LIMIT_PER_ADDRESS", default_value_t = 600, global = true)]
    pub public_rate_limit_per_address: u64,

    /// Public writes per minute to one form, from every address together; 0 turns it off.
    #[arg(long, env = "PUBLIC_RATE_LIMIT_PER_FORM", default_value_t = 6000, global = true)]
    pub public_rate_limit_per_form: u64,

    /// Reverse proxies in front of the server that append to `X-Forwarded-For`: the client
    /// address is the entry that many places from the end. 0: the connection's own address.
    #[arg(long, env = "TRUSTED_PROXY_HOPS", default_value_t = 0, global = true)]
    pub trusted_proxy_hops: usize,

    /// Whether this instance runs background jobs (counts rebuilds…). Any number of
    /// instances may; with `false` an instance only serves requests and leaves the jobs it
    /// causes to the others.
    #[arg(long, env = "RUN_JOBS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub run_jobs: bool,

    /// Whether webhooks may go to loopback addresses (127.0.0.0/8, ::1, `localhost`): a
    /// receiver on the same machine. Refused by default.
    #[arg(long, env = "WEBHOOK_ALLOW_LOOPBACK", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhook_allow_loopback: bool,

    /// Whether webhooks may go to private, shared and link-local networks (and loopback): a
    /// receiver inside the deployment's network. Refused by default.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhook_allow_private: bool,

    /// Seconds a webhook endpoint has to answer a delivery before the attempt counts as failed.
    #[arg(long, env = "WEBHOOK_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub webhook_timeout_secs: u64,

    /// Responses of one form whose report counts may wait for a fold before a report read
    /// folds some itself (so that reads stay fast when no instance runs the folder).
    #[arg(long, env = "PENDING_COUNTS_MAX", default_value_t = 1_000, global = true)]
    pub pending_counts_max: u64,

    /// Subscription connections (WebSocket, `/graphql/ws`) a member or an API key may hold at
    /// once, across all instances sharing Redis (each instance alone without it).
    #[arg(long, env = "SUBSCRIPTIONS_PER_PRINCIPAL", default_value_t = 20, global = true)]
    pub subscriptions_per_principal: usize,

    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20, global = true)]
    pub shutdown_grace_secs: u64,

    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(long, env = "RUST_LOG", default_value = "info,sqlx=warn,sea_orm=warn", global = true)]
    pub log_filter: String,
}

/// What to do; serving is the default.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the GraphQL schema (SDL) to standard output.
    Schema {
        /// The public (respondent) API's schema, served on `/public/graphql`.
        #[arg(long)]
        public: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the catalogue of problem codes and conversion notes (Markdown, as in the README).
    Codes,
}

impl Config {
    /// Reads `.env` (if present), the environment and the command line.
    pub fn load() -> Self {
        let _ = dotenvy::dotenv();
        Config::parse()
    }

    /// Defaults for embedding and tests: every setting as if none were given.
    pub fn defaults() -> Self {
        Config::parse_from(["nazar"])
    }

    /// The database URL in effect (SQLite in the data folder when none is set).
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("nazar.db").display()),
        }
    }
}
