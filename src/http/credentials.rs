//! Reads the `Authorization` header once per HTTP request: an access token or an API key.
use poem::http::{HeaderMap, header::AUTHORIZATION};

use crate::{
    app::AppState,
    error::AppError,
    graphql::context::RequestAuth,
    service::{self, api_key::RateLimitStatus},
};

/// The request's caller, and the API key's rate-limit standing when one was used.
/// `Err` only for RATE_LIMITED, which is answered before anything runs.
pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(RequestAuth, Option<RateLimitStatus>), AppError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok((RequestAuth::Anonymous, None));
    };
    let bearer = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = bearer.filter(|t| !t.is_empty()) else {
        return Ok((
            RequestAuth::Refused("use `Authorization: Bearer <token>`".to_owned()),
            None,
        ));
    };
    let conn = state.db.conn();
    let result = if service::api_key::is_api_key(token) {
        service::api_key::authenticate(conn, &state.cache, token)
            .await
            .map(|(p, status)| (p, Some(status)))
    } else {
        service::auth::authenticate(conn, &state.sessions.keys, token)
            .await
            .map(|p| (p, None))
    };
    match result {
        Ok((principal, status)) => Ok((RequestAuth::Authenticated(principal), status)),
        Err(AppError::Unauthenticated(why)) => Ok((RequestAuth::Refused(why), None)),
        Err(err @ AppError::RateLimited { .. }) => Err(err),
        Err(other) => {
            if let AppError::Internal(detail) = &other {
                tracing::error!(error = %detail, "could not check credentials");
            }
            Ok((RequestAuth::Unavailable, None))
        }
    }
}
