//! Per-request batch loaders: the versions and the contents asked for by any number of forms
//! in one operation load in one query per table.
use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, dataloader::DataLoader, dataloader::Loader};
use entity::form_version;
use uuid::Uuid;

use crate::{
    db::Db,
    error::{AppError, AppResult},
    form::model::SectionDef,
    graphql::context::{ContextExt, OperationScope},
    service::form::store,
};

/// Version rows by id.
pub struct VersionLoader(Db);

impl Loader<Uuid> for VersionLoader {
    type Value = Arc<form_version::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = crate::service::form::versions_by_id(self.0.conn(), keys.to_vec()).await?;
        Ok(rows.into_iter().map(|row| (row.id, Arc::new(row))).collect())
    }
}

/// Every version of a form, oldest first, by form id.
pub struct FormVersionsLoader(Db);

impl Loader<Uuid> for FormVersionsLoader {
    type Value = Arc<Vec<Arc<form_version::Model>>>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = crate::service::form::versions_of_forms(self.0.conn(), keys.to_vec()).await?;
        let mut by_form: HashMap<Uuid, Vec<Arc<form_version::Model>>> = HashMap::new();
        for row in rows {
            by_form.entry(row.form_id).or_default().push(Arc::new(row));
        }
        Ok(by_form.into_iter().map(|(id, rows)| (id, Arc::new(rows))).collect())
    }
}

/// Sections with their questions and options, by version id.
pub struct SectionsLoader(Db);

impl Loader<Uuid> for SectionsLoader {
    type Value = Arc<Vec<SectionDef>>;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let sections = store::load_sections(self.0.conn(), keys).await?;
        Ok(sections.into_iter().map(|(id, s)| (id, Arc::new(s))).collect())
    }
}

/// The loaders of one operation. Ids reach them only from rows already read within the
/// caller's organization.
pub struct FormLoaders {
    pub versions: DataLoader<VersionLoader>,
    pub versions_of_form: DataLoader<FormVersionsLoader>,
    pub sections: DataLoader<SectionsLoader>,
}

/// How long a loader gathers keys before it queries: long enough for a page of 100 forms to
/// ask for all their versions. Unoptimised builds resolve fields many times slower, so their
/// window is wider.
const BATCH_WINDOW: std::time::Duration = if cfg!(debug_assertions) {
    std::time::Duration::from_millis(5)
} else {
    std::time::Duration::from_millis(1)
};

impl FormLoaders {
    pub fn new(db: &Db) -> Self {
        FormLoaders {
            versions: DataLoader::new(VersionLoader(db.clone()), tokio::spawn).delay(BATCH_WINDOW),
            versions_of_form: DataLoader::new(FormVersionsLoader(db.clone()), tokio::spawn).delay(BATCH_WINDOW),
            sections: DataLoader::new(SectionsLoader(db.clone()), tokio::spawn).delay(BATCH_WINDOW),
        }
    }

    /// This operation's loaders, created on first use.
    pub fn of<'a>(ctx: &'a Context<'_>) -> AppResult<&'a FormLoaders> {
        let state = ctx.state()?;
        let scope = ctx
            .data::<OperationScope>()
            .map_err(|_| AppError::Internal("operation scope missing".to_owned()))?;
        Ok(scope.form_loaders.get_or_init(|| FormLoaders::new(&state.db)))
    }
}
