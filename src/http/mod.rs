//! The HTTP surface: `/graphql` (the staff API and the public operations; POST for
//! operations, GET for GraphiQL outside production), `/public/graphql` (the respondents' API
//! alone: any origin, no credentials), `/healthz`, `/readyz`.
mod answer;
pub(crate) mod credentials;
mod graphql;
mod health;
mod observe;
pub mod persisted;

use std::time::Duration;

use poem::{Endpoint, EndpointExt, Route, get, http::Method, middleware::Cors};

pub use persisted::{PersistedQueries, PersistedSettings};

use crate::{
    app::AppState,
    config::Config,
    graphql::{PublicApi, StaffApi, guard::DocumentLimits},
};

/// Settings of the GraphQL endpoint.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    pub max_authenticated_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_batch_size: usize,
    /// What one document may cost before it runs.
    pub document: DocumentLimits,
    /// Most root fields in one request, over a batch.
    pub max_root_fields_per_request: usize,
    /// Most mutation root fields in one request, over a batch.
    pub max_writes_per_request: usize,
    /// Serve GraphiQL on `GET /graphql` (off in production).
    pub graphiql: bool,
    /// Proxies whose `X-Forwarded-For` entries are trusted.
    pub trusted_proxy_hops: usize,
}

impl HttpSettings {
    pub fn from_config(config: &Config) -> Self {
        HttpSettings {
            max_body_bytes: config.max_body_bytes,
            max_authenticated_body_bytes: config.max_authenticated_body_bytes.max(config.max_body_bytes),
            request_timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
            max_batch_size: config.max_batch_size.max(1),
            document: DocumentLimits {
                max_bytes: config.max_query_bytes.max(1),
                max_selections: config.max_query_selections.max(1),
                ..DocumentLimits::default()
            },
            max_root_fields_per_request: config.max_root_fields.max(1),
            max_writes_per_request: config.max_writes.max(1),
            graphiql: !config.production,
            trusted_proxy_hops: config.trusted_proxy_hops,
        }
    }
}

impl PersistedSettings {
    pub fn from_config(config: &Config) -> Self {
        PersistedSettings {
            max_query_bytes: config.max_persisted_query_bytes,
            store_bytes: config.persisted_query_store_bytes,
            learned_per_minute: config.persisted_queries_learned_per_minute,
        }
    }
}

/// Response headers browsers may read.
const EXPOSED_HEADERS: [&str; 5] = [
    "x-request-id",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "retry-after",
];

/// The request headers browsers may send: the configured ones (lowercased, deduplicated).
fn allowed_headers(config: &Config) -> Vec<String> {
    let mut headers: Vec<String> = config
        .cors_allowed_headers
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    headers.sort();
    headers.dedup();
    headers
}

/// CORS of the staff API: only the configured origins, with credentials.
fn staff_cors(config: &Config) -> Cors {
    let cors = Cors::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(allowed_headers(config))
        .allow_header("authorization")
        .expose_headers(EXPOSED_HEADERS)
        .allow_credentials(true)
        .max_age(config.cors_max_age_secs as i32);
    let origins: Vec<&str> = config
        .cors_origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        // poem's Cors answers every origin when none is listed; refuse them all instead.
        cors.allow_origins_fn(|_| false)
    } else {
        cors.allow_origins(origins)
    }
}

/// CORS of the public API: any origin, no credentials (forms are embedded on customers'
/// own sites; a form's allowed origins are checked by the submission rules).
fn public_cors(config: &Config) -> Cors {
    Cors::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(allowed_headers(config))
        .expose_headers(EXPOSED_HEADERS)
        .allow_credentials(false)
        .max_age(config.cors_max_age_secs as i32)
}

/// Every route with its middleware.
pub fn routes(state: AppState, staff: StaffApi, public: PublicApi, config: &Config) -> impl Endpoint + 'static {
    let settings = HttpSettings::from_config(config);
    let persisted = PersistedQueries::new(&state.cache, PersistedSettings::from_config(config));
    Route::new()
        .at(
            "/graphql",
            get(graphql::graphql_get)
                .post(graphql::graphql_post)
                .with(staff_cors(config)),
        )
        .at("/graphql/ws", get(graphql::graphql_ws))
        .at(
            "/public/graphql",
            get(graphql::public_graphql_get)
                .post(graphql::public_graphql_post)
                .with(public_cors(config)),
        )
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .data(state)
        .data(staff)
        .data(public)
        .data(settings)
        .data(persisted)
        .around(observe::observe)
}
