//! What resolvers read from the request context, without `unwrap`.
use async_graphql::Context;

use crate::{
    app::AppState,
    auth::{Action, Principal, Tenant},
    error::{AppError, AppResult},
};

/// The outcome of reading the request's credentials, decided once per HTTP request.
#[derive(Debug, Clone)]
pub enum RequestAuth {
    /// No credentials were sent.
    Anonymous,
    /// Valid credentials.
    Authenticated(Principal),
    /// Credentials were sent but refused; the message says why.
    Refused(String),
    /// Credentials could not be checked (the database failed); already logged.
    Unavailable,
}

pub trait ContextExt {
    fn state(&self) -> AppResult<&AppState>;
    /// The caller, or UNAUTHENTICATED.
    fn principal(&self) -> AppResult<&Principal>;
    /// The caller's tenant if they may do `action`, or UNAUTHENTICATED / FORBIDDEN.
    fn authorize(&self, action: Action) -> AppResult<Tenant> {
        self.principal()?.authorize(action)
    }
}

impl ContextExt for Context<'_> {
    fn state(&self) -> AppResult<&AppState> {
        self.data::<AppState>()
            .map_err(|_| AppError::Internal("application state missing from schema".to_owned()))
    }

    fn principal(&self) -> AppResult<&Principal> {
        match self.data::<RequestAuth>() {
            Ok(RequestAuth::Authenticated(principal)) => Ok(principal),
            Ok(RequestAuth::Refused(why)) => Err(AppError::Unauthenticated(why.clone())),
            Ok(RequestAuth::Unavailable) => Err(AppError::Internal("credentials could not be checked".to_owned())),
            Ok(RequestAuth::Anonymous) | Err(_) => Err(AppError::Unauthenticated(
                "sign in: send `Authorization: Bearer <access token or API key>`".to_owned(),
            )),
        }
    }
}
