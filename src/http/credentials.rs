//! Reads the `Authorization` header once per HTTP request: an access token or an API key.
use poem::http::{HeaderMap, header::AUTHORIZATION};

use crate::{
    app::AppState,
    error::AppError,
    graphql::context::RequestAuth,
    service::{self, rate_limit::Quota},
};

/// The request's caller, and for an API key the limit its requests are charged against.
/// A database that cannot be reached makes the caller [`RequestAuth::Unavailable`] (the
/// request is refused with 503), any other failure [`RequestAuth::Failed`].
pub async fn resolve(state: &AppState, headers: &HeaderMap) -> (RequestAuth, Option<Quota>) {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return (RequestAuth::Anonymous, None);
    };
    let bearer = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = bearer.filter(|t| !t.is_empty()) else {
        return (
            RequestAuth::Refused("use `Authorization: Bearer <token>`".to_owned()),
            None,
        );
    };
    let conn = state.db.conn();
    let result = if service::api_key::is_api_key(token) {
        service::api_key::authenticate(conn, token)
            .await
            .map(|(p, quota)| (p, Some(quota)))
    } else {
        service::auth::authenticate(conn, &state.sessions.keys, token)
            .await
            .map(|p| (p, None))
    };
    match result {
        Ok((principal, quota)) => (RequestAuth::Authenticated(principal), quota),
        Err(AppError::Unauthenticated(why)) => (RequestAuth::Refused(why), None),
        Err(AppError::Unavailable(detail)) => {
            tracing::warn!(error = %detail, "could not check credentials");
            (RequestAuth::Unavailable, None)
        }
        Err(other) => {
            if let AppError::Internal(detail) = &other {
                tracing::error!(error = %detail, "could not check credentials");
            }
            (RequestAuth::Failed, None)
        }
    }
}
