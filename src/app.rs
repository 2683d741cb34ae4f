//! Putting the parts together: state, schema, routes, listener, graceful shutdown.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use poem::{
    Server,
    listener::{Acceptor, AcceptorExt, BoxAcceptor, Listener, RustlsCertificate, RustlsConfig, TcpListener},
};

use crate::{
    BoxError,
    auth::JwtKeys,
    cache::Cache,
    config::Config,
    db::Db,
    graphql::{self, AppSchema, QueryLimits},
    http,
    service::auth::SessionSettings,
};

/// What resolvers and handlers share. Cheap to clone; nothing in it is per instance only.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cache: Cache,
    pub sessions: SessionSettings,
}

/// A ready application: connected, migrated, with its schema.
pub struct App {
    pub config: Arc<Config>,
    pub state: AppState,
    pub schema: AppSchema,
}

impl App {
    /// Connects the database (and Redis when configured), applies migrations, builds the schema.
    pub async fn build(config: Config) -> Result<App, BoxError> {
        let db = Db::connect(&config.effective_database_url(), config.database_max_connections).await?;
        db.migrate().await.map_err(|e| format!("migrations failed: {e}"))?;
        let cache = match &config.redis_url {
            Some(url) => Cache::redis(url.expose(), config.cache_prefix.clone()).await?,
            None => Cache::memory(config.cache_prefix.clone()),
        };
        let sessions = SessionSettings {
            keys: JwtKeys::from_config(&config)?,
            session_lifetime: chrono::Duration::days(config.refresh_token_days.max(1)),
        };
        let state = AppState { db, cache, sessions };
        let limits = QueryLimits {
            max_depth: config.max_query_depth,
            max_complexity: config.max_query_complexity,
            production: config.production,
        };
        let schema = graphql::schema_builder(limits).data(state.clone()).finish();
        tracing::info!(
            database = ?state.db.backend(),
            cache = state.cache.kind(),
            production = config.production,
            "application ready"
        );
        Ok(App {
            config: Arc::new(config),
            state,
            schema,
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
        let App { config, state, schema } = self.app;
        let tls = config.tls_cert.is_some();
        tracing::info!(addr = %self.addr, tls, "serving /graphql, /healthz, /readyz");
        let routes = http::routes(state, schema, &config);
        let grace = Duration::from_secs(config.shutdown_grace_secs);
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(grace))
            .await?;
        tracing::info!("stopped");
        Ok(())
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
