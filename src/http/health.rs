//! Liveness and readiness probes for load balancers and orchestrators.
use std::time::Duration;

use poem::{
    handler,
    http::StatusCode,
    web::{Data, Json},
};
use serde_json::{Value, json};

use crate::app::AppState;

/// Alive: the process answers. No dependency is checked.
#[handler]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Longest wait for the database's answer: a probe answers within a second whatever happens.
const DATABASE_PING: Duration = Duration::from_millis(800);

/// Ready: the database and the cache both answer. 503 otherwise, naming which one failed; a
/// dependency already known to be down is reported at once.
#[handler]
pub async fn readyz(Data(state): Data<&AppState>) -> (StatusCode, Json<Value>) {
    let database = async {
        if state.db.breaker().is_down() {
            return Err("known to be down".to_owned());
        }
        state.db.ping(DATABASE_PING).await
    };
    let (database, cache) = tokio::join!(database, state.cache.ping());
    if let Err(err) = &database {
        tracing::warn!(error = %err, "readiness: database unavailable");
    }
    if let Err(err) = &cache {
        tracing::warn!(error = %err, "readiness: cache unavailable");
    }
    let ok = database.is_ok() && cache.is_ok();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(json!({
            "status": if ok { "ready" } else { "unavailable" },
            "database": word(database.is_ok()),
            "cache": { "kind": state.cache.kind(), "status": word(cache.is_ok()) },
        })),
    )
}
