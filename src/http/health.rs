//! Liveness and readiness probes for load balancers and orchestrators.
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

/// Ready: the database and the cache both answer. 503 otherwise, naming which one failed.
#[handler]
pub async fn readyz(Data(state): Data<&AppState>) -> (StatusCode, Json<Value>) {
    let database = state.db.ping().await;
    let cache = state.cache.ping().await;
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
