//! Putting the parts together: state, schema, routes, listener, graceful shutdown.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use poem::{
    Server,
    listener::{Acceptor, AcceptorExt, BoxAcceptor, Listener, RustlsCertificate, RustlsConfig, TcpListener},
};

use crate::{
    BoxError,
    auth::{JwtKeys, Signer, jwt::server_secret},
    cache::Cache,
    clock::Clock,
    config::Config,
    db::{Db, PoolSettings},
    graphql::{self, PublicApi, QueryLimits, StaffApi},
    http,
    service::{
        auth::SessionSettings,
        event::Publisher,
        form::PublishedVersions,
        job::{Jobs, Work},
        rate_limit::PublicLimits,
        report::ReportCache,
        webhook::{self, Allowed, dispatch::Dispatcher},
    },
};

/// What resolvers and handlers share. Cheap to clone; nothing in it is per instance only
/// (the version cache holds published versions, which never change).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cache: Cache,
    pub sessions: SessionSettings,
    /// Invitation and resume tokens, address hashes.
    pub signer: Signer,
    /// Published versions' contents, read once per instance.
    pub versions: PublishedVersions,
    /// Limits of the public (respondent) API.
    pub public_limits: PublicLimits,
    /// Report results computed in this process.
    pub reports: ReportCache,
    /// Responses of a form whose counts may wait for a fold before a read folds some.
    pub pending_counts_max: u64,
    /// The time rate-limit and throttling windows, and background jobs, are read from.
    pub clock: Clock,
    /// Durable background work of this database.
    pub jobs: Jobs,
    /// Told when events commit (the dispatcher of this instance looks at once).
    pub events: Publisher,
    /// Delivers webhooks; knows what destinations the settings allow.
    pub webhooks: Dispatcher,
    /// Live subscriptions of this instance: figure feeds, connections per principal.
    pub live: crate::graphql::live::LiveState,
}

impl AppState {
    /// What report reads use.
    pub fn reads(&self) -> crate::service::report::Reads<'_> {
        crate::service::report::Reads {
            db: &self.db,
            cache: &self.cache,
            reports: &self.reports,
            pending_counts_max: self.pending_counts_max,
            versions: &self.versions,
            clock: &self.clock,
            jobs: &self.jobs,
        }
    }

    /// What taking responses uses.
    pub fn collect(&self) -> crate::service::response::submit::Collect<'_> {
        crate::service::response::submit::Collect {
            db: &self.db,
            cache: &self.cache,
            signer: &self.signer,
            versions: &self.versions,
            public_limits: self.public_limits,
            clock: &self.clock,
            events: &self.events,
        }
    }
}

/// A ready application: connected, migrated, with its schema.
pub struct App {
    pub config: Arc<Config>,
    pub state: AppState,
    pub staff: StaffApi,
    pub public: PublicApi,
}

impl App {
    /// Connects the database (and Redis when configured), applies migrations, builds the schema.
    pub async fn build(config: Config) -> Result<App, BoxError> {
        App::build_with_clock(config, Clock::system()).await
    }

    /// [`App::build`] with a clock of the caller's (tests set the time).
    pub async fn build_with_clock(config: Config, clock: Clock) -> Result<App, BoxError> {
        let pool = PoolSettings {
            max_connections: config.database_max_connections,
            acquire_timeout: Duration::from_millis(config.database_acquire_timeout_ms),
        };
        let db = Db::connect(&config.effective_database_url(), pool).await?;
        db.migrate().await.map_err(|e| format!("migrations failed: {e}"))?;
        let cache = match &config.redis_url {
            Some(url) => Cache::redis(url.expose(), config.cache_prefix.clone()).await?,
            None => Cache::memory(config.cache_prefix.clone()),
        };
        let secret = server_secret(&config)?;
        let sessions = SessionSettings {
            keys: JwtKeys::from_config(&config, &secret),
            session_lifetime: chrono::Duration::days(config.refresh_token_days.max(1)),
        };
        let jobs = Jobs::new(db.clone(), clock.clone());
        let events = Publisher::new(crate::service::live::Live::connect(cache.clone()).await);
        let webhooks = Dispatcher::new(
            db.clone(),
            clock.clone(),
            webhook::Settings {
                allowed: Allowed {
                    loopback: config.webhook_allow_loopback,
                    private: config.webhook_allow_private,
                },
                https_only: config.production,
            },
            Duration::from_secs(config.webhook_timeout_secs.max(1)),
            events.clone(),
        )
        .map_err(|e| format!("{e:?}"))?;
        let state = AppState {
            jobs,
            events,
            webhooks,
            live: crate::graphql::live::LiveState {
                figures: Default::default(),
                connections: crate::service::live::Connections::new(
                    cache.clone(),
                    clock.clone(),
                    config.subscriptions_per_principal,
                ),
            },
            db,
            cache,
            sessions,
            signer: Signer::new(secret.expose().as_bytes()),
            versions: PublishedVersions::new(),
            public_limits: PublicLimits {
                per_address: config.public_rate_limit_per_address,
                per_form: config.public_rate_limit_per_form,
            },
            reports: ReportCache::default(),
            pending_counts_max: config.pending_counts_max.max(1),
            clock,
        };
        let limits = QueryLimits {
            max_depth: config.max_query_depth,
            max_complexity: config.max_query_complexity,
            production: config.production,
        };
        let staff = StaffApi::build(graphql::schema_builder, limits, |b| b.data(state.clone()));
        let public = PublicApi::build(graphql::public_schema_builder, limits, |b| b.data(state.clone()));
        tracing::info!(
            database = ?state.db.backend(),
            cache = state.cache.kind(),
            production = config.production,
            "application ready"
        );
        Ok(App {
            config: Arc::new(config),
            state,
            staff,
            public,
        })
    }

    /// Binds the configured address (port 0 picks a free one), with TLS when configured.
    pub async fn bind(self) -> Result<BoundApp, BoxError> {
        let listener = TcpListener::bind(self.config.bind);
        let acceptor = match (&self.config.tls_cert, &self.config.tls_key) {
            (Some(cert), Some(key)) => {
                let cert = std::fs::read(cert).map_err(|e| format!("cannot read {}: {e}", cert.display()))?;
                let key = std::fs::read(key).map_err(|e| format!("cannot read {}: {e}", key.display()))?;
                let tls = RustlsConfig::new().fallback(RustlsCertificate::new().cert(cert).key(key));
                listener.rustls(tls).into_acceptor().await?.boxed()
            }
            _ => listener.into_acceptor().await?.boxed(),
        };
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or("the listener has no address")?;
        Ok(BoundApp {
            app: self,
            acceptor,
            addr,
        })
    }
}

/// An application bound to its address, ready to serve.
pub struct BoundApp {
    app: App,
    acceptor: BoxAcceptor,
    addr: SocketAddr,
}

impl BoundApp {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes; in-flight requests then get the grace period to finish.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), BoxError> {
        let App {
            config,
            state,
            staff,
            public,
        } = self.app;
        let tls = config.tls_cert.is_some();
        tracing::info!(addr = %self.addr, tls, "serving /graphql, /graphql/ws, /public/graphql, /healthz, /readyz");
        let maintenance = tokio::spawn(maintain(state.clone()));
        let relay = tokio::spawn(state.events.live().clone().relay());
        let renewer = tokio::spawn(state.live.connections.clone().renewer());
        let runner = config.run_jobs.then(|| {
            tokio::spawn(state.jobs.clone().runner(Arc::new(Work {
                db: state.db.clone(),
                clock: state.clock.clone(),
            })))
        });
        let dispatcher = config.run_jobs.then(|| tokio::spawn(state.webhooks.clone().runner()));
        let folder = config
            .run_jobs
            .then(|| tokio::spawn(crate::service::report::folder(state.db.clone())));
        let routes = http::routes(state, staff, public, &config);
        let grace = Duration::from_secs(config.shutdown_grace_secs);
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(grace))
            .await?;
        maintenance.abort();
        relay.abort();
        renewer.abort();
        for task in [runner, dispatcher, folder].into_iter().flatten() {
            task.abort();
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Housekeeping every instance runs hourly (idempotent, so instances need no coordination):
/// idempotency keys older than their retention are forgotten, and webhook deliveries settled
/// more than 30 days ago with their log and events.
async fn maintain(state: AppState) {
    use crate::service::{response::idempotency, webhook::dispatch};
    let hour = Duration::from_secs(3600);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + hour, hour);
    loop {
        tick.tick().await;
        let before = state.clock.now() - chrono::Duration::days(idempotency::RETENTION_DAYS);
        match idempotency::purge(state.db.conn(), before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(keys = n, "forgot expired idempotency keys"),
            Err(err) => tracing::warn!(error = ?err, "could not forget expired idempotency keys"),
        }
        let before = state.clock.now() - chrono::Duration::days(dispatch::RETENTION_DAYS);
        match dispatch::purge(state.db.conn(), before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "forgot old webhook deliveries"),
            Err(err) => tracing::warn!(error = ?err, "could not forget old webhook deliveries"),
        }
    }
}

/// Completes at SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
