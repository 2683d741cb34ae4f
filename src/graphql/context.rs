//! What resolvers read from the request context, without `unwrap`.
use async_graphql::Context;
use entity::organization;
use tokio::sync::OnceCell;

use crate::{
    app::AppState,
    auth::{Action, Principal, Tenant},
    error::{AppError, AppResult},
    service,
};

/// Values loaded at most once per operation, whatever the number of fields that ask for them.
#[derive(Default)]
pub struct OperationScope {
    organization: OnceCell<organization::Model>,
    /// Batch loaders of forms' versions and contents.
    pub form_loaders: std::sync::OnceLock<super::form::FormLoaders>,
    /// An organization's attribute catalogue, for the checks of conditions.
    pub attributes: OnceCell<(uuid::Uuid, std::sync::Arc<crate::logic::check::Catalogue>)>,
}

/// The outcome of reading the request's credentials, decided once per HTTP request.
#[derive(Debug, Clone)]
pub enum RequestAuth {
    /// No credentials were sent.
    Anonymous,
    /// Valid credentials.
    Authenticated(Principal),
    /// Credentials were sent but refused; the message says why.
    Refused(String),
    /// Credentials could not be checked: the database could not be reached; already logged.
    Unavailable,
    /// Credentials could not be checked: a fault of ours; already logged.
    Failed,
}

pub trait ContextExt {
    fn state(&self) -> AppResult<&AppState>;
    /// The caller, or UNAUTHENTICATED.
    fn principal(&self) -> AppResult<&Principal>;
    /// The caller's tenant if they may do `action`, or UNAUTHENTICATED / FORBIDDEN.
    fn authorize(&self, action: Action) -> AppResult<Tenant> {
        self.principal()?.authorize(action)
    }
    /// The caller's organization, read once per operation (every `organization` field of a
    /// list shares it).
    fn organization(&self, tenant: Tenant) -> impl Future<Output = AppResult<organization::Model>> + Send;
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
            Ok(RequestAuth::Unavailable) => Err(AppError::Unavailable("credentials could not be checked".to_owned())),
            Ok(RequestAuth::Failed) => Err(AppError::Internal("credentials could not be checked".to_owned())),
            Ok(RequestAuth::Anonymous) | Err(_) => Err(AppError::Unauthenticated(
                "sign in: send `Authorization: Bearer <access token or API key>`".to_owned(),
            )),
        }
    }

    async fn organization(&self, tenant: Tenant) -> AppResult<organization::Model> {
        let conn = self.state()?.db.conn();
        let Ok(scope) = self.data::<OperationScope>() else {
            return service::organization::get(conn, tenant).await;
        };
        let org = scope
            .organization
            .get_or_try_init(|| service::organization::get(conn, tenant))
            .await?;
        // A principal acts in one organization, so the memo always holds the tenant's.
        debug_assert_eq!(org.id, tenant.organization_id);
        Ok(org.clone())
    }
}
