//! Forms: creation, the lifecycle (draft → published → closed → archived), versions, lists.
//!
//! A form has at most one draft version and at most one current published version. Every edit
//! goes to the draft; when there is none (the form is published) the edit first copies the
//! published version into a new draft numbered one higher, so a published version never
//! changes. Edits lock the form row (PostgreSQL `FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), so
//! concurrent editors never lose each other's changes.
use crate::codes::ProblemCode;
pub mod edit;
pub mod store;

use std::{collections::HashMap, sync::Arc};

use entity::{form, form_question, form_section, form_version};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use serde_json::json;

use super::{
    event::{self, Event, EventType, Publisher},
    now,
    page::{self, Page, PageRequest},
};
use crate::{
    auth::Tenant,
    db::Db,
    error::{AppError, AppResult, code},
    form::{
        Problem, document, google,
        kind::QuestionKind,
        model::{self, FormDef, FormSettings, Text},
    },
    ids::{NodeKind, global},
};

/// Longest touchpoint label.
pub const MAX_TOUCHPOINT_CHARS: usize = 100;

/// Where a form stands in its lifecycle.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum FormStatus {
    /// Never published: only staff see it.
    Draft,
    /// A version is published and collects responses.
    Published,
    /// Published before, no longer collecting responses; can be reopened.
    Closed,
    /// Put away: read-only, out of default lists; can be restored.
    Archived,
}

impl FormStatus {
    pub const ALL: [FormStatus; 4] = [
        FormStatus::Draft,
        FormStatus::Published,
        FormStatus::Closed,
        FormStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FormStatus::Draft => "DRAFT",
            FormStatus::Published => "PUBLISHED",
            FormStatus::Closed => "CLOSED",
            FormStatus::Archived => "ARCHIVED",
        }
    }

    pub fn parse(value: &str) -> Option<FormStatus> {
        FormStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

pub fn status_of(form: &form::Model) -> AppResult<FormStatus> {
    FormStatus::parse(&form.status).ok_or_else(|| AppError::Internal(format!("unknown form status {}", form.status)))
}

pub fn settings_of(form: &form::Model) -> AppResult<FormSettings> {
    store::from_json(&form.settings, "form settings")
}

pub fn title_of(form: &form::Model) -> AppResult<Text> {
    store::from_json(&form.title, "form title")
}

/// A form after a change, with the version the change went to.
#[derive(Clone, Debug)]
pub struct Edited {
    pub form: form::Model,
    pub version: form_version::Model,
    pub def: Arc<FormDef>,
}

/// Checks and trims a touchpoint label; blank means none.
pub fn check_touchpoint(touchpoint: Option<String>, field: &str) -> AppResult<Option<String>> {
    let Some(touchpoint) = touchpoint else {
        return Ok(None);
    };
    let trimmed = touchpoint.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > MAX_TOUCHPOINT_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("must have at most {MAX_TOUCHPOINT_CHARS} characters"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

fn scoped(tenant: Tenant) -> sea_orm::Select<form::Entity> {
    form::Entity::find().filter(form::Column::OrganizationId.eq(tenant.organization_id))
}

pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<form::Model> {
    scoped(tenant)
        .filter(form::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("form"))
}

/// A form by its public identifier, whatever its organization (the public API).
pub async fn by_public_id(conn: &impl ConnectionTrait, public_id: &str) -> AppResult<Option<form::Model>> {
    Ok(form::Entity::find()
        .filter(form::Column::PublicId.eq(public_id))
        .one(conn)
        .await?)
}

/// The form row, locked until the transaction ends.
async fn lock(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<form::Model> {
    let mut select = scoped(tenant).filter(form::Column::Id.eq(id));
    if conn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(conn).await?.ok_or_else(|| AppError::not_found("form"))
}

pub async fn version(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<form_version::Model> {
    form_version::Entity::find()
        .filter(form_version::Column::OrganizationId.eq(tenant.organization_id))
        .filter(form_version::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("form version"))
}

/// The version to evaluate conditions on, with its content. Members of the form's
/// organization (`tenant`) may name any version of it (default: the published one, else the
/// draft). Anyone else reaches only a PUBLISHED form and the versions it has published
/// (default: the current one); everything else is NOT_FOUND, as if it did not exist.
pub async fn version_for_evaluation(
    conn: &impl ConnectionTrait,
    tenant: Option<Tenant>,
    form_id: Uuid,
    version_id: Option<Uuid>,
) -> AppResult<(form_version::Model, FormDef)> {
    let form = form::Entity::find_by_id(form_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("form"))?;
    let member = tenant.is_some_and(|t| t.organization_id == form.organization_id);
    if !member && status_of(&form)? != FormStatus::Published {
        return Err(AppError::not_found("form"));
    }
    let id = match version_id {
        Some(id) => id,
        None if member => form
            .published_version_id
            .or(form.draft_version_id)
            .ok_or_else(|| AppError::not_found("form version"))?,
        None => form
            .published_version_id
            .ok_or_else(|| AppError::not_found("form version"))?,
    };
    let mut select = form_version::Entity::find()
        .filter(form_version::Column::FormId.eq(form.id))
        .filter(form_version::Column::Id.eq(id));
    if !member {
        select = select.filter(form_version::Column::PublishedAt.is_not_null());
    }
    let version = select
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("form version"))?;
    let def = store::load_def(conn, &version).await?;
    Ok((version, def))
}

/// Published versions' contents, kept in this process. A published version never changes, so
/// an entry is never stale and instances need not share it; concurrent misses of one version
/// load it once.
#[derive(Clone)]
pub struct PublishedVersions {
    versions: moka::future::Cache<Uuid, (Uuid, Arc<FormDef>)>,
    /// What a report filter of a form may read while a version is its published one, by
    /// (form, published version): that version's questions, then those only versions published
    /// before it have. Never stale: a version becomes published only by being published as the
    /// form's current version (see [`publish`]), so the versions published before it are fixed.
    filterable: moka::future::Cache<(Uuid, Uuid), Arc<FormDef>>,
}

impl Default for PublishedVersions {
    fn default() -> Self {
        Self::new()
    }
}

impl PublishedVersions {
    pub fn new() -> Self {
        PublishedVersions {
            versions: moka::future::Cache::builder().max_capacity(2_000).build(),
            filterable: moka::future::Cache::builder().max_capacity(2_000).build(),
        }
    }

    /// What a report filter of `form_id` may read while `published` is its published version:
    /// from this process, else `load`ed once however many requests wait for it.
    pub async fn filterable(
        &self,
        form_id: Uuid,
        published: Uuid,
        load: impl std::future::Future<Output = AppResult<Arc<FormDef>>>,
    ) -> AppResult<Arc<FormDef>> {
        self.filterable
            .try_get_with((form_id, published), load)
            .await
            .map_err(|err| (*err).clone())
    }

    /// The content of `version_id` if it is a published version of `form_id`; NOT_FOUND
    /// (naming `field`) otherwise.
    pub async fn get(
        &self,
        conn: &impl ConnectionTrait,
        form_id: Uuid,
        version_id: Uuid,
        field: &str,
    ) -> AppResult<Arc<FormDef>> {
        let load = async {
            let version = form_version::Entity::find_by_id(version_id)
                .filter(form_version::Column::PublishedAt.is_not_null())
                .one(conn)
                .await?
                .ok_or_else(|| {
                    AppError::refused(code::NOT_FOUND, Some(field), "not a published version of this form")
                })?;
            let def = store::load_def(conn, &version).await?;
            Ok::<_, AppError>((version.form_id, Arc::new(def)))
        };
        let (owner, def) = self
            .versions
            .try_get_with(version_id, load)
            .await
            .map_err(|err| (*err).clone())?;
        if owner != form_id {
            return Err(AppError::refused(
                code::NOT_FOUND,
                Some(field),
                "not a published version of this form",
            ));
        }
        Ok(def)
    }
}

/// Every version of each of `form_ids`, oldest first: one query.
pub async fn versions_of_forms(
    conn: &impl ConnectionTrait,
    form_ids: Vec<Uuid>,
) -> AppResult<Vec<form_version::Model>> {
    if form_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(form_version::Entity::find()
        .filter(form_version::Column::FormId.is_in(form_ids))
        .order_by_asc(form_version::Column::Number)
        .all(conn)
        .await?)
}

/// What lists of forms can be narrowed to.
#[derive(Debug, Default)]
pub struct FormFilter {
    /// Only these statuses; empty means every status but ARCHIVED.
    pub statuses: Vec<FormStatus>,
    pub touchpoint: Option<String>,
    /// Words of the title in any of its languages (Persian letters and ZWNJ normalised).
    pub search: Option<String>,
    /// Changed (edited, published, closed, archived, settings) at or after this time.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    pub sort: page::Sort,
}

/// The tenant's forms that pass `filter`, in its order.
pub async fn list(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    filter: FormFilter,
    request: PageRequest,
) -> AppResult<Page<form::Model>> {
    let mut select = scoped(tenant);
    if filter.statuses.is_empty() {
        select = select.filter(form::Column::Status.ne(FormStatus::Archived.as_str()));
    } else {
        select = select.filter(form::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(touchpoint) = filter.touchpoint {
        select = select.filter(form::Column::Touchpoint.eq(touchpoint.trim()));
    }
    if let Some(search) = filter.search {
        select = select.filter(page::words_in(form::Column::SearchText, &search));
    }
    if let Some(since) = filter.updated_since {
        select = select.filter(form::Column::UpdatedAt.gte(since));
    }
    let order = filter.sort.order(form::Column::Id, form::Column::UpdatedAt);
    page::fetch(conn, select, order, request).await
}

/// A new form: its first version's content, its touchpoint and settings.
#[derive(Debug)]
pub struct NewForm {
    pub def: FormDef,
    pub touchpoint: Option<String>,
    pub settings: FormSettings,
}

/// Creates a form with a draft version 1. Problems are reported with paths under `input`.
pub async fn create(db: &Db, tenant: Tenant, new: NewForm) -> AppResult<Edited> {
    let mut problems: Vec<Problem> = model::check_draft(&new.def)
        .into_iter()
        .map(|p| Problem {
            path: format!("input.{}", p.path),
            ..p
        })
        .collect();
    model::check_settings(&new.settings, "input.settings", &mut problems);
    AppError::invalid(problems)?;
    let touchpoint = check_touchpoint(new.touchpoint, "input.touchpoint")?;
    let txn = db.begin_write().await?;
    let edited = insert_form(&txn, tenant, new.def, touchpoint, new.settings).await?;
    txn.commit().await?;
    Ok(edited)
}

async fn insert_form(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    def: FormDef,
    touchpoint: Option<String>,
    settings: FormSettings,
) -> AppResult<Edited> {
    let at = now();
    let form_id = Uuid::now_v7();
    let version_id = Uuid::now_v7();
    let form = form::ActiveModel {
        id: Set(form_id),
        organization_id: Set(tenant.organization_id),
        public_id: Set(Some(crate::auth::token::random_token(9))),
        status: Set(FormStatus::Draft.as_str().to_owned()),
        touchpoint: Set(touchpoint),
        title: Set(store::to_json(&def.title)),
        default_locale: Set(def.default_locale.clone()),
        search_text: Set(model::search_text(&def.title)),
        settings: Set(store::to_json(&settings)),
        draft_version_id: Set(Some(version_id)),
        published_version_id: Set(None),
        latest_version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        published_at: Set(None),
        closed_at: Set(None),
        archived_at: Set(None),
    }
    .insert(conn)
    .await?;
    let version = insert_version(conn, tenant, form_id, version_id, 1, &def).await?;
    Ok(Edited {
        form,
        version,
        def: Arc::new(def),
    })
}

async fn insert_version(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    form_id: Uuid,
    version_id: Uuid,
    number: i32,
    def: &FormDef,
) -> AppResult<form_version::Model> {
    let at = now();
    let mut row = form_version::ActiveModel {
        id: Set(version_id),
        organization_id: Set(tenant.organization_id),
        form_id: Set(form_id),
        number: Set(number),
        published_at: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    };
    store::set_head(&mut row, def);
    let version = row.insert(conn).await?;
    store::write_sections(conn, tenant.organization_id, version_id, def).await?;
    Ok(version)
}

/// What every published version of a form said about its questions: the identity behind each
/// key ever published, and each published question's kind. Keys and kinds of published
/// questions are frozen; a published key never names another question.
#[derive(Debug, Default)]
pub struct History {
    pub uid_of_key: HashMap<String, Uuid>,
    pub published: HashMap<Uuid, (String, QuestionKind)>,
}

async fn history(conn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<History> {
    // The form row was read within the tenant, so its versions are the tenant's.
    let published: Vec<Uuid> = versions_of_forms(conn, vec![form_id])
        .await?
        .into_iter()
        .filter(|v| v.published_at.is_some())
        .map(|v| v.id)
        .collect();
    let mut history = History::default();
    if published.is_empty() {
        return Ok(history);
    }
    let rows: Vec<(Uuid, String, String)> = form_question::Entity::find()
        .select_only()
        .column(form_question::Column::Uid)
        .column(form_question::Column::Key)
        .column(form_question::Column::Kind)
        .filter(form_question::Column::VersionId.is_in(published))
        .into_tuple()
        .all(conn)
        .await?;
    for (uid, key, kind) in rows {
        let kind =
            QuestionKind::parse(&kind).ok_or_else(|| AppError::Internal(format!("unknown stored kind {kind}")))?;
        history.uid_of_key.insert(key.clone(), uid);
        history.published.insert(uid, (key, kind));
    }
    Ok(history)
}

/// What an edit addresses: a form, or a section or question of its draft (by stable uid).
#[derive(Copy, Clone, Debug)]
pub enum Target {
    Form(Uuid),
    Section(Uuid),
    Question(Uuid),
}

/// The form that holds a section or question (in any of its versions).
async fn form_of(conn: &impl ConnectionTrait, tenant: Tenant, target: Target) -> AppResult<Uuid> {
    let version_id: Option<Uuid> = match target {
        Target::Form(id) => return Ok(id),
        Target::Section(uid) => {
            form_section::Entity::find()
                .select_only()
                .column(form_section::Column::VersionId)
                .filter(form_section::Column::OrganizationId.eq(tenant.organization_id))
                .filter(form_section::Column::Uid.eq(uid))
                .into_tuple()
                .one(conn)
                .await?
        }
        Target::Question(uid) => {
            form_question::Entity::find()
                .select_only()
                .column(form_question::Column::VersionId)
                .filter(form_question::Column::OrganizationId.eq(tenant.organization_id))
                .filter(form_question::Column::Uid.eq(uid))
                .into_tuple()
                .one(conn)
                .await?
        }
    };
    let what = if matches!(target, Target::Section(_)) {
        "section"
    } else {
        "question"
    };
    let version_id = version_id.ok_or_else(|| AppError::not_found(what))?;
    Ok(version(conn, tenant, version_id).await?.form_id)
}

fn refuse_archived(form: &form::Model) -> AppResult<()> {
    if status_of(form)? == FormStatus::Archived {
        return Err(AppError::conflict(
            "id",
            "the form is archived: restore it before changing it",
        ));
    }
    Ok(())
}

/// Runs `change` on the draft of the form that `target` names (starting a draft from the
/// published version if there is none), checks the result and saves it, in one transaction.
pub async fn edit<R>(
    db: &Db,
    tenant: Tenant,
    target: Target,
    change: impl FnOnce(&mut FormDef, &History) -> AppResult<R>,
) -> AppResult<(Edited, R)> {
    let txn = db.begin_write().await?;
    let form_id = form_of(&txn, tenant, target).await?;
    let form = lock(&txn, tenant, form_id).await?;
    refuse_archived(&form)?;
    let history = history(&txn, form.id).await?;
    let at = now();
    let (version, mut def, new_draft) = match form.draft_version_id {
        Some(id) => {
            let version = version(&txn, tenant, id).await?;
            let def = store::load_def(&txn, &version).await?;
            (version, def, false)
        }
        None => {
            let published_id = form
                .published_version_id
                .ok_or_else(|| AppError::Internal(format!("form {} has no version", form.id)))?;
            let published = version(&txn, tenant, published_id).await?;
            let def = store::load_def(&txn, &published).await?;
            let number = form.latest_version + 1;
            let version = insert_version(&txn, tenant, form.id, Uuid::now_v7(), number, &def).await?;
            (version, def, true)
        }
    };
    let result = change(&mut def, &history)?;
    // The operations check their own inputs with input paths; this is the safety net that
    // keeps every stored draft valid whatever the operation.
    AppError::invalid(model::check_draft(&def))?;
    store::write_sections(&txn, tenant.organization_id, version.id, &def).await?;
    let mut version = version.into_active_model();
    store::set_head(&mut version, &def);
    version.updated_at = Set(at);
    let version = version.update(&txn).await?;
    let mut row = form.into_active_model();
    row.title = Set(store::to_json(&def.title));
    row.default_locale = Set(def.default_locale.clone());
    row.search_text = Set(model::search_text(&def.title));
    row.updated_at = Set(at);
    if new_draft {
        row.draft_version_id = Set(Some(version.id));
        row.latest_version = Set(version.number);
    }
    let form = row.update(&txn).await?;
    txn.commit().await?;
    Ok((
        Edited {
            form,
            version,
            def: Arc::new(def),
        },
        result,
    ))
}

/// Changes the touchpoint and the collection settings (`None` keeps each). Not versioned:
/// applies at once, also to a published form.
pub async fn update_settings(
    db: &Db,
    tenant: Tenant,
    id: Uuid,
    touchpoint: Option<Option<String>>,
    change: Option<impl FnOnce(&mut FormSettings)>,
) -> AppResult<form::Model> {
    let touchpoint = touchpoint
        .map(|t| check_touchpoint(t, "input.touchpoint"))
        .transpose()?;
    let txn = db.begin_write().await?;
    let form = lock(&txn, tenant, id).await?;
    refuse_archived(&form)?;
    let mut settings = settings_of(&form)?;
    let quota_before = settings.response_quota;
    if let Some(change) = change {
        change(&mut settings);
        let mut problems = Vec::new();
        model::check_settings(&settings, "input.settings", &mut problems);
        AppError::invalid(problems)?;
    }
    if settings.response_quota != quota_before {
        // The counter is kept only under a quota: the next completion recounts.
        crate::service::response::store::reset_counter(&txn, form.id).await?;
    }
    let mut row = form.into_active_model();
    if let Some(touchpoint) = touchpoint {
        row.touchpoint = Set(touchpoint);
    }
    row.settings = Set(store::to_json(&settings));
    row.updated_at = Set(now());
    let form = row.update(&txn).await?;
    txn.commit().await?;
    Ok(form)
}

fn transition_refused(form: &form::Model, action: &str) -> AppError {
    AppError::conflict(
        "id",
        format!("a {} form cannot be {action}", form.status.to_lowercase()),
    )
}

/// Publishes the draft: every publish check must pass; the version is then frozen and the form
/// collects responses with it. Publishing a closed form reopens it.
pub async fn publish(db: &Db, events: &Publisher, tenant: Tenant, id: Uuid) -> AppResult<Edited> {
    let txn = db.begin_write().await?;
    let form = lock(&txn, tenant, id).await?;
    if status_of(&form)? == FormStatus::Archived {
        return Err(transition_refused(&form, "published"));
    }
    let draft_id = form
        .draft_version_id
        .ok_or_else(|| AppError::conflict("id", "nothing to publish: the form has no unpublished changes"))?;
    let draft = version(&txn, tenant, draft_id).await?;
    let def = store::load_def(&txn, &draft).await?;
    let attributes = if def.reads_attributes() {
        super::attribute::catalogue(&txn, tenant.organization_id).await?
    } else {
        Default::default()
    };
    let problems = model::check_publishable(&def, &attributes);
    if !problems.is_empty() {
        return Err(AppError::Problems {
            code: code::FORM_NOT_PUBLISHABLE,
            message: format!(
                "the form cannot be published yet: {} problem(s), listed in extensions.problems",
                problems.len()
            ),
            problems,
        });
    }
    let at = now();
    let mut version = draft.into_active_model();
    version.published_at = Set(Some(at));
    version.updated_at = Set(at);
    let version = version.update(&txn).await?;
    let mut row = form.into_active_model();
    row.status = Set(FormStatus::Published.as_str().to_owned());
    row.published_version_id = Set(Some(version.id));
    row.draft_version_id = Set(None);
    row.published_at = Set(Some(at));
    row.closed_at = Set(None);
    row.updated_at = Set(at);
    let form = row.update(&txn).await?;
    // Past days' counts are folded into one row each, daily from the first publication on.
    crate::service::job::ensure(
        &txn,
        at,
        at + crate::service::report::SETTLE_EVERY,
        tenant.organization_id,
        crate::service::job::Kind::SettleCounts,
        form.id,
    )
    .await?;
    let data = json!({
        "form": { "id": global(NodeKind::Form, form.id), "publicId": form.public_id },
        "version": { "id": global(NodeKind::FormVersion, version.id) },
    });
    let change = event::record(
        &txn,
        Event::new(at, tenant.organization_id, EventType::FormPublished, form.id, data).of_form(form.id),
    )
    .await?;
    txn.commit().await?;
    events.committed(&[change]).await;
    Ok(Edited {
        form,
        version,
        def: Arc::new(def),
    })
}

/// A lifecycle move that changes only the form row.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// PUBLISHED → CLOSED.
    Close,
    /// CLOSED → PUBLISHED.
    Reopen,
    /// Anything but ARCHIVED → ARCHIVED.
    Archive,
    /// ARCHIVED → CLOSED if it was ever published, else DRAFT.
    Restore,
}

pub async fn transition(
    db: &Db,
    events: &Publisher,
    tenant: Tenant,
    id: Uuid,
    transition: Transition,
) -> AppResult<form::Model> {
    let txn = db.begin_write().await?;
    let form = lock(&txn, tenant, id).await?;
    let status = status_of(&form)?;
    let at = now();
    let mut row = form.clone().into_active_model();
    match (transition, status) {
        (Transition::Close, FormStatus::Published) => {
            row.status = Set(FormStatus::Closed.as_str().to_owned());
            row.closed_at = Set(Some(at));
        }
        (Transition::Reopen, FormStatus::Closed) => {
            row.status = Set(FormStatus::Published.as_str().to_owned());
            row.closed_at = Set(None);
        }
        (Transition::Archive, s) if s != FormStatus::Archived => {
            row.status = Set(FormStatus::Archived.as_str().to_owned());
            row.archived_at = Set(Some(at));
        }
        (Transition::Restore, FormStatus::Archived) => {
            let back = if form.published_version_id.is_some() {
                FormStatus::Closed
            } else {
                FormStatus::Draft
            };
            row.status = Set(back.as_str().to_owned());
            row.archived_at = Set(None);
        }
        (transition, _) => {
            let action = match transition {
                Transition::Close => "closed",
                Transition::Reopen => "reopened",
                Transition::Archive => "archived",
                Transition::Restore => "restored",
            };
            return Err(transition_refused(&form, action));
        }
    }
    row.updated_at = Set(at);
    let form = row.update(&txn).await?;
    let mut changes = Vec::new();
    if transition == Transition::Close {
        let data = json!({ "form": { "id": global(NodeKind::Form, form.id), "publicId": form.public_id } });
        let event = Event::new(at, tenant.organization_id, EventType::FormClosed, form.id, data).of_form(form.id);
        changes.push(event::record(&txn, event).await?);
    }
    txn.commit().await?;
    if !changes.is_empty() {
        events.committed(&changes).await;
    }
    Ok(form)
}

/// Drops the draft of a published form, back to the published version.
pub async fn discard_draft(db: &Db, tenant: Tenant, id: Uuid) -> AppResult<form::Model> {
    let txn = db.begin_write().await?;
    let form = lock(&txn, tenant, id).await?;
    refuse_archived(&form)?;
    let (Some(draft), Some(_)) = (form.draft_version_id, form.published_version_id) else {
        return Err(AppError::conflict(
            "id",
            "only a published form's unpublished changes can be discarded (delete a never-published form instead)",
        ));
    };
    form_version::Entity::delete_many()
        .filter(form_version::Column::OrganizationId.eq(tenant.organization_id))
        .filter(form_version::Column::Id.eq(draft))
        .exec(&txn)
        .await?;
    let published = version(&txn, tenant, form.published_version_id.unwrap_or(draft)).await?;
    let title = published.title.clone();
    let mut row = form.into_active_model();
    row.draft_version_id = Set(None);
    row.latest_version = Set(published.number);
    row.search_text = Set(model::search_text(&store::from_json(&title, "title")?));
    row.title = Set(title);
    row.default_locale = Set(published.default_locale.clone());
    row.updated_at = Set(now());
    let form = row.update(&txn).await?;
    txn.commit().await?;
    Ok(form)
}

/// Deletes a form that was never published (nothing can have answered it).
pub async fn delete(db: &Db, tenant: Tenant, id: Uuid) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let form = lock(&txn, tenant, id).await?;
    if form.published_version_id.is_some() {
        return Err(AppError::conflict(
            "id",
            "a form that was published keeps its versions for its responses: archive it instead",
        ));
    }
    form::Entity::delete_by_id(form.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A new draft form with the structure, keys and option values of `id`'s newest version (its
/// draft, else its published version), its touchpoint and settings; new identities throughout.
pub async fn duplicate(db: &Db, tenant: Tenant, id: Uuid, title: Option<Text>) -> AppResult<Edited> {
    let txn = db.begin_write().await?;
    let source = get(&txn, tenant, id).await?;
    let version_id = source
        .draft_version_id
        .or(source.published_version_id)
        .ok_or_else(|| AppError::Internal(format!("form {} has no version", source.id)))?;
    let mut def = store::load_def(&txn, &version(&txn, tenant, version_id).await?).await?;
    def.renew_identities();
    if let Some(title) = title {
        def.title = title;
        let mut problems = Vec::new();
        model::check_text(&def.title, &def.locales, model::MAX_TITLE_CHARS, "title", &mut problems);
        AppError::invalid(problems)?;
    }
    let edited = insert_form(&txn, tenant, def, source.touchpoint.clone(), settings_of(&source)?).await?;
    txn.commit().await?;
    Ok(edited)
}

/// The document of a form version (default: the draft, else the published version) with the
/// form's touchpoint and settings.
pub async fn export(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    id: Uuid,
    version_id: Option<Uuid>,
) -> AppResult<String> {
    let form = get(conn, tenant, id).await?;
    let version_id = match version_id {
        Some(version_id) => version_id,
        None => form
            .draft_version_id
            .or(form.published_version_id)
            .ok_or_else(|| AppError::Internal(format!("form {} has no version", form.id)))?,
    };
    let version = version(conn, tenant, version_id).await?;
    if version.form_id != form.id {
        return Err(AppError::not_found("version"));
    }
    let def = store::load_def(conn, &version).await?;
    Ok(document::export(&def, form.touchpoint.as_deref(), &settings_of(&form)?))
}

/// The problems of a form document, as [`import`] would report them; none when it imports.
pub async fn check_document(conn: &impl ConnectionTrait, tenant: Tenant, text: &str) -> AppResult<Vec<Problem>> {
    let value = match document::parse_json(text) {
        Ok(value) => value,
        Err(problem) => return Ok(vec![problem]),
    };
    let catalogue = super::attribute::catalogue(conn, tenant.organization_id).await?;
    Ok(document::import_value(&value, &catalogue).err().unwrap_or_default())
}

/// Creates a draft form from a form document (an export, a template), checked like
/// authoring plus every condition check; refused with every problem at once, at its JSON path.
pub async fn import(db: &Db, tenant: Tenant, text: &str, title: Option<Text>) -> AppResult<Edited> {
    // Size, depth and syntax first, before any database work.
    let value = document::parse_json(text).map_err(AppError::problem)?;
    let catalogue = super::attribute::catalogue(db.conn(), tenant.organization_id).await?;
    let imported = document::import_value(&value, &catalogue).map_err(AppError::problems)?;
    create_imported(db, tenant, imported, title).await
}

/// Creates a draft form from the JSON of a Google form (`forms.get`) written in `locale`;
/// returns it with the report on every item.
pub async fn import_google(
    db: &Db,
    tenant: Tenant,
    text: &str,
    locale: &str,
    title: Option<Text>,
) -> AppResult<(Edited, Vec<google::ItemReport>)> {
    if !model::is_locale(locale) {
        return Err(AppError::problem(Problem::new(
            "input.locale",
            ProblemCode::InvalidLocale,
            format!("`{locale}` is not a language tag such as fa, en or en-GB"),
        )));
    }
    let value = document::parse_json(text).map_err(AppError::problem)?;
    let conversion = google::convert(&value, locale).map_err(AppError::problems)?;
    // The converted conditions read only the form's own answers: no catalogue is needed.
    let def = &conversion.imported.def;
    let mut problems = document::at_root(model::check_draft(def));
    problems.extend(document::at_root(crate::logic::check::check(def, &Default::default())));
    AppError::invalid(problems)?;
    let edited = create_imported(db, tenant, conversion.imported, title).await?;
    Ok((edited, conversion.items))
}

async fn create_imported(
    db: &Db,
    tenant: Tenant,
    imported: document::Imported,
    title: Option<Text>,
) -> AppResult<Edited> {
    let document::Imported {
        mut def,
        touchpoint,
        settings,
    } = imported;
    if let Some(title) = title {
        def.title = title;
        let mut problems = Vec::new();
        model::check_text(
            &def.title,
            &def.locales,
            model::MAX_TITLE_CHARS,
            "input.title",
            &mut problems,
        );
        AppError::invalid(problems)?;
    }
    let touchpoint = check_touchpoint(touchpoint, "$.touchpoint")?;
    let txn = db.begin_write().await?;
    let edited = insert_form(&txn, tenant, def, touchpoint, settings).await?;
    txn.commit().await?;
    Ok(edited)
}

/// Versions by id (forms' draft and published versions, for lists): one query.
pub async fn versions_by_id(conn: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<Vec<form_version::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(form_version::Entity::find()
        .filter(form_version::Column::Id.is_in(ids))
        .all(conn)
        .await?)
}
