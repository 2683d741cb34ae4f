//! Reports: a form's figures read from its tallies ([`tally`]) and cached, open-text answers,
//! and saved report definitions.
//!
//! Caching: a result is cached under the form's freshness stamp, read from the database on
//! every request (a sum over a few rows). Every write that changes a form's responses moves
//! the stamp in its own transaction, so a report asked for after a submission was acknowledged
//! includes it, and a cache that was unreachable while changes happened can never serve an
//! older result when it comes back: that result is under an older stamp. Results are kept in
//! this process (concurrent requests for a missing one wait for a single computation) and in
//! the shared cache (Redis when configured) for the other instances; when Redis fails, reports
//! are computed, never refused. Open texts (personal data) are never cached.
use crate::codes::ProblemCode;
pub mod analysis;
pub mod filter;
pub mod history;
pub mod segment;
pub mod tally;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{answer, form, report};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    now,
    page::{self, Page, PageRequest},
};
use crate::{
    auth::Tenant,
    error::{AppError, AppResult},
    form::{Problem, model::FormDef},
    logic::{
        check::{Catalogue, Scalar, check_filter},
        expr::Expr,
    },
    report::figures::{FormFigures, figures},
    service::form::PublishedVersions,
};

/// How long a computed result stays in the shared cache (a newer stamp replaces it sooner).
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// Most forms in one saved report.
pub const MAX_FORMS: usize = 50;

/// Which questions' figures a request reads: every question's, or only those feeding some
/// metrics. A report computes only what is needed (the response figures always: they are
/// cheap); the need is part of the cache key.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Need {
    /// Every question (a request that lists questions).
    pub all: bool,
    /// The metrics whose questions are read.
    pub metrics: std::collections::BTreeSet<crate::form::kind::Metric>,
    /// Times to complete and total scores (their distributions are the costliest counts), also
    /// of a request that lists every question.
    pub times: bool,
}

impl Need {
    /// The headline figures: NPS, CSAT and CES with the counts and times (journeys, live
    /// reports).
    pub fn headline() -> Need {
        use crate::form::kind::Metric;
        Need {
            all: false,
            metrics: [Metric::Nps, Metric::Csat, Metric::Ces].into_iter().collect(),
            times: true,
        }
    }
}

/// What to count, as the counting queries take it.
#[derive(Clone, Debug, Default)]
pub struct Counted {
    /// The questions to count (every one without keys).
    pub keys: Option<Vec<String>>,
    /// Only numbers are needed of them (metric questions): other answer queries are skipped.
    pub numbers_only: bool,
    /// Count times to complete and total scores.
    pub times: bool,
}

impl Counted {
    /// Everything.
    pub fn all() -> Counted {
        Counted {
            keys: None,
            numbers_only: false,
            times: true,
        }
    }
}

impl Need {
    pub fn all() -> Need {
        Need {
            all: true,
            metrics: Default::default(),
            times: true,
        }
    }

    /// What to count for `def`.
    pub fn counted(&self, def: &FormDef) -> Counted {
        let keys = self.keys(def);
        let numbers_only = keys.as_ref().is_some_and(|keys| {
            keys.iter().all(|k| {
                def.questions().find(|q| q.key == *k).is_some_and(|q| {
                    crate::report::tally::single_valued(q.rules.kind()) && !q.rules.kind().has_options()
                })
            })
        });
        Counted {
            keys,
            numbers_only,
            times: self.times,
        }
    }

    /// The question keys to count in `def`, or `None` for all of them.
    pub fn keys(&self, def: &FormDef) -> Option<Vec<String>> {
        if self.all {
            return None;
        }
        Some(
            def.metric_questions()
                .into_iter()
                .filter(|(m, _)| self.metrics.contains(m))
                .map(|(_, q)| q.key.clone())
                .collect(),
        )
    }

    /// The need's part of a cache key.
    pub fn key_part(&self) -> String {
        if self.all {
            if self.times { "all+times" } else { "all" }.to_owned()
        } else {
            let metrics: Vec<String> = self.metrics.iter().map(|m| format!("{m:?}")).collect();
            format!("{}{}", metrics.join("+"), if self.times { "+times" } else { "" })
        }
    }
}

/// One part of a computed result: a report (key `None`), a breakdown's group or a series'
/// bucket (its key), with its figures.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Part {
    pub key: Option<String>,
    pub figures: FormFigures,
}

/// Results computed in this process, by cache key.
#[derive(Clone)]
pub struct ReportCache(moka::future::Cache<String, Arc<Vec<Part>>>);

impl Default for ReportCache {
    fn default() -> Self {
        ReportCache(
            moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        )
    }
}

/// A period of local days, either end open.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    /// Checks the order of the ends; `field` names the input.
    pub fn check(self, field: &str) -> AppResult<Period> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(AppError::problem(Problem::new(
                format!("{field}.from"),
                ProblemCode::RangeInverted,
                "`from` is after `to`",
            )));
        }
        Ok(self)
    }
}

/// The version a form's report describes: the published one, else the draft.
async fn version_of(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    form: &form::Model,
) -> AppResult<Option<(Uuid, Arc<FormDef>)>> {
    if let Some(id) = form.published_version_id {
        return Ok(Some((id, versions.get(conn, form.id, id, "id").await?)));
    }
    let Some(id) = form.draft_version_id else {
        return Ok(None);
    };
    let version = super::form::version(conn, Tenant::trusted(form.organization_id), id).await?;
    Ok(Some((
        id,
        Arc::new(super::form::store::load_def(conn, &version).await?),
    )))
}

/// What a filter of `form`'s responses may read: the version a report describes, then the
/// questions only older published versions have (in a last section of their own), newest
/// first: keys are stable across versions, so a filter reads an answer whichever version it
/// was given in.
async fn filter_def(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    form: &form::Model,
) -> AppResult<Arc<FormDef>> {
    match form.published_version_id {
        Some(published) => {
            versions
                // Boxed: the read's future is large, and the cache's wraps it.
                .filterable(form.id, published, Box::pin(filter_def_read(conn, versions, form)))
                .await
        }
        None => Box::pin(filter_def_read(conn, versions, form)).await,
    }
}

/// [`filter_def`] read from the database.
async fn filter_def_read(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    form: &form::Model,
) -> AppResult<Arc<FormDef>> {
    use entity::form_version;
    use sea_orm::{QueryOrder, QuerySelect};
    let (current, def) = match version_of(conn, versions, form).await? {
        Some(found) => found,
        None => return Ok(Arc::new(FormDef::new(Vec::new(), Default::default()))),
    };
    let older: Vec<Uuid> = form_version::Entity::find()
        .select_only()
        .column(form_version::Column::Id)
        .filter(form_version::Column::FormId.eq(form.id))
        .filter(form_version::Column::PublishedAt.is_not_null())
        .filter(form_version::Column::Id.ne(current))
        .order_by_desc(form_version::Column::PublishedAt)
        .into_tuple()
        .all(conn)
        .await?;
    if older.is_empty() {
        return Ok(def);
    }
    let mut known: std::collections::HashSet<String> = def.questions().map(|q| q.key.clone()).collect();
    let mut extra = Vec::new();
    for id in older {
        let version = versions.get(conn, form.id, id, "id").await?;
        for question in version.questions() {
            if known.insert(question.key.clone()) {
                let mut question = question.clone();
                question.show_if = None;
                question.require_if = None;
                extra.push(question);
            }
        }
    }
    if extra.is_empty() {
        return Ok(def);
    }
    let mut merged = (*def).clone();
    merged.sections.push(crate::form::model::SectionDef {
        uid: Uuid::nil(),
        title: Default::default(),
        description: Default::default(),
        questions: extra,
        show_if: None,
        skips: Vec::new(),
        end_if: None,
        disqualify_if: None,
    });
    Ok(Arc::new(merged))
}

/// A report filter, checked against the form it runs on.
#[derive(Clone, Debug)]
pub struct Filter {
    pub expr: Expr,
    /// The organization's attribute catalogue it was checked against.
    catalogue: Arc<Catalogue>,
}

impl Filter {
    /// Checks `expr` as a filter of `form`'s report (the version the report describes, the
    /// organization's catalogue); problems name `path.nodes[i]`.
    pub async fn check(
        conn: &impl ConnectionTrait,
        versions: &PublishedVersions,
        form: &form::Model,
        expr: Expr,
        path: &str,
    ) -> AppResult<Filter> {
        let catalogue = super::attribute::catalogue(conn, form.organization_id).await?;
        let def = filter_def(conn, versions, form).await?;
        AppError::invalid(check_filter(&def, &catalogue, &expr, path))?;
        Ok(Filter {
            expr,
            catalogue: Arc::new(catalogue),
        })
    }

    /// The part of a cache key that names the filter: a digest of its canonical text.
    fn key(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.expr.to_string().as_bytes());
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// A filter the counts by segment can answer ([`Filter::segment_read`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentRead {
    /// The segments' dimension (an attribute's values).
    pub dimension: String,
    /// The segments selected: the attribute's values.
    pub values: Vec<String>,
    /// The completion days the filter bounds, when it bounds them.
    pub days: Option<filter::DayBounds>,
    /// The keys of the questions the filter requires answered.
    pub answered: Vec<String>,
}

/// The parts of a conjunction, conjunctions inside it opened.
fn conjuncts(children: &[Expr]) -> Vec<&Expr> {
    children
        .iter()
        .flat_map(|c| match c {
            Expr::And(inner) => conjuncts(inner),
            other => vec![other],
        })
        .collect()
}

impl Filter {
    /// The segment a filter selects, when it is exactly "this text or boolean attribute had one
    /// of these values at completion": (dimension, values). Such a filter reads the folded
    /// counts by segment and the responses not folded yet.
    pub fn segment(&self) -> Option<(String, Vec<String>)> {
        self.segment_read()
            .filter(|read| read.days.is_none() && read.answered.is_empty())
            .map(|read| (read.dimension, read.values))
    }

    /// How the counts by segment may answer the filter: when it is one conjunction of exactly
    /// one test "this text or boolean attribute had one of these values at completion", any
    /// bounds on the completion day and any questions required answered (`plan = "pro" AND
    /// answer(nps) IS ANSWERED AND response(completed_on) >= date(…)`).
    pub fn segment_read(&self) -> Option<SegmentRead> {
        use crate::logic::expr::{CompareOp, Operand, SetOp, Value};
        let parts = match &self.expr {
            Expr::And(children) => conjuncts(children),
            other => vec![other],
        };
        let mut segment = None;
        let mut days: Option<filter::DayBounds> = None;
        let mut answered = Vec::new();
        for part in parts {
            let (name, values) = match part {
                Expr::Compare {
                    subject: Operand::Attribute(name),
                    op: CompareOp::Eq,
                    value,
                } => (name, std::slice::from_ref(value)),
                Expr::Contains {
                    subject: Operand::Attribute(name),
                    op: SetOp::ContainsAny,
                    values,
                } => (name, values.as_slice()),
                Expr::Answered {
                    subject: Operand::Answer(key),
                    answered: true,
                } => {
                    answered.push(key.clone());
                    continue;
                }
                _ => {
                    let bounds = filter::day_term(part)?;
                    days = Some(days.map_or(bounds, |d| filter::narrowed(d, bounds)));
                    continue;
                }
            };
            let scalar = self.catalogue.get(name)?;
            let texts = values
                .iter()
                .map(|v| match (scalar, v) {
                    (Scalar::Text, Value::Text(t)) => Some(t.clone()),
                    (Scalar::Bool, Value::Bool(b)) => Some(b.to_string()),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>()?;
            if segment.is_some() {
                return None;
            }
            segment = Some((crate::report::segment::attribute_dimension(name), texts));
        }
        let (dimension, values) = segment?;
        Some(SegmentRead {
            dimension,
            values,
            days,
            answered,
        })
    }

    /// The SQL condition on a response row that holds when the filter does, for `form`.
    pub async fn sql(
        &self,
        conn: &impl ConnectionTrait,
        versions: &PublishedVersions,
        form: &form::Model,
    ) -> AppResult<sea_orm::sea_query::Expr> {
        let def = filter_def(conn, versions, form).await?;
        filter::compile(
            &self.expr,
            &filter::Types {
                form_id: form.id,
                def: &def,
                catalogue: &self.catalogue,
            },
        )
    }
}

/// The ids of `form`'s responses (any status) that `expr` selects, checked as a filter first.
pub async fn select(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    form: &form::Model,
    expr: Expr,
) -> AppResult<Vec<Uuid>> {
    let checked = Filter::check(conn, versions, form, expr, "filter").await?;
    let condition = checked.sql(conn, versions, form).await?;
    filter::selected_ids(conn, form.id, &condition).await
}

/// A form's figures over `period`, of the responses `filter` selects (all of them without
/// one), cached under the form's freshness stamp. Unfiltered figures come from the tallies;
/// filtered ones from aggregate SQL over the stored responses, counted the tallies' way and
/// made into figures by the same code.
pub async fn form_figures(
    state: &Reads<'_>,
    form: &form::Model,
    period: Period,
    filter: Option<&Filter>,
    need: &Need,
) -> AppResult<Arc<FormFigures>> {
    let conn = state.db.conn();
    let stamp = fresh_stamp(state, form.id).await?;
    let Some((version, def)) = version_of(conn, state.versions, form).await? else {
        return Ok(Arc::new(figures(
            &FormDef::new(Vec::new(), Default::default()),
            &Vec::new(),
        )));
    };
    let counted = need.counted(&def);
    let count = || async {
        // The tallies and the responses whose counts are pending, like counts folded by
        // segment and the responses not folded yet, are read in one snapshot, so a fold
        // committing between them cannot count its responses twice or not at all; so are the
        // tallies and the exact seconds of their times' median.
        let snapshot = state.db.begin_read().await?;
        let counts = counts_of(&snapshot, state.versions, form, period, filter, &counted).await;
        snapshot.commit().await?;
        counts
    };
    if form.published_version_id.is_none() {
        // A draft changes without a stamp; it has no responses to count anyway.
        return Ok(Arc::new(figures(&def, &count().await?)));
    }
    let key = format!(
        "report:5:{}:{}:{}:{}:{stamp}:{}:{}",
        form.id,
        version,
        period.from.map_or(String::new(), |d| d.to_string()),
        period.to.map_or(String::new(), |d| d.to_string()),
        filter.map_or(String::new(), Filter::key),
        need.key_part(),
    );
    let parts = cached(state, key, || async {
        Ok(vec![Part {
            key: None,
            figures: figures(&def, &count().await?),
        }])
    })
    .await?;
    Ok(Arc::new(
        parts
            .first()
            .map(|p| p.figures.clone())
            .unwrap_or_else(|| figures(&def, &Vec::new())),
    ))
}

/// A form's counts over `period` of the responses `filter` selects (all without one), read
/// through `conn` (one snapshot): the tallies without a filter; with one, the counts by segment
/// when they can answer it, else aggregate SQL over the responses.
async fn counts_of(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    form: &form::Model,
    period: Period,
    filter: Option<&Filter>,
    counted: &Counted,
) -> AppResult<crate::report::figures::Counts> {
    match filter {
        None => tally::counts_between(conn, form.id, (period.from, period.to), counted, tally::Times::Kept).await,
        Some(filter) => {
            let zone = zone_of(conn, form).await?;
            let condition = filter.sql(conn, versions, form).await?;
            if let Some(read) = filter.segment_read() {
                let readable = filter_def(conn, versions, form).await?;
                let scope = (period, zone);
                if let Some(counts) =
                    segment::filtered_counts(conn, (form, &readable), &read, &condition, scope, counted).await?
                {
                    return Ok(counts);
                }
            }
            self::filter::counts(conn, form.id, Some(&condition), period, zone, counted).await
        }
    }
}

/// The form's freshness stamp, read once the responses a read will aggregate from the stored
/// answers are at most [`Reads::pending_counts_max`]: past it the reader folds batches
/// itself (a folder may not be running, or not keeping up), so every read stays bounded.
pub async fn fresh_stamp(state: &Reads<'_>, form_id: Uuid) -> AppResult<i64> {
    let conn = state.db.conn();
    while tally::pending_at_least(conn, form_id, state.pending_counts_max).await? {
        if tally::fold(state.db, form_id, tally::FOLD_BATCH).await? == 0 {
            // Other folds hold them all: they are being folded.
            break;
        }
    }
    tally::stamp(conn, form_id).await
}

/// The organization's time zone, which local days are counted in.
pub async fn zone_of(conn: &impl ConnectionTrait, form: &form::Model) -> AppResult<chrono_tz::Tz> {
    super::organization::get(conn, Tenant::trusted(form.organization_id))
        .await
        .map(|o| tally::zone(&o.time_zone))
}

/// What report reads use: the database, the shared cache and this process's results, the
/// published versions, the clock, and the background jobs a breakdown may ask for.
#[derive(Clone, Copy)]
pub struct Reads<'a> {
    pub db: &'a crate::db::Db,
    pub cache: &'a crate::cache::Cache,
    pub reports: &'a ReportCache,
    /// Responses of a form whose counts may wait for a fold before a read folds some.
    pub pending_counts_max: u64,
    pub versions: &'a crate::service::form::PublishedVersions,
    pub clock: &'a crate::clock::Clock,
    pub jobs: &'a crate::service::job::Jobs,
}

/// A result under `key` (which must name the form's freshness stamp): from this process, else
/// the shared cache, else computed once however many requests wait for it, and shared.
pub async fn cached<F, Fut>(state: &Reads<'_>, key: String, compute: F) -> AppResult<Arc<Vec<Part>>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<Vec<Part>>>,
{
    let load = async {
        if let Some(bytes) = state.cache.get(&key).await
            && let Ok(cached) = serde_json::from_slice::<Vec<Part>>(&bytes)
        {
            return Ok(Arc::new(cached));
        }
        let result = compute().await?;
        if let Ok(bytes) = serde_json::to_vec(&result) {
            state.cache.set(&key, &bytes, CACHE_TTL).await;
        }
        Ok::<_, AppError>(Arc::new(result))
    };
    state
        .reports
        .0
        .try_get_with(key.clone(), load)
        .await
        .map_err(|err| (*err).clone())
}

/// Rebuilds a form's counts and local completion days in its organization's time zone as it
/// is now (the durable job a change of zone enqueues).
pub async fn rebuild_form(db: &crate::db::Db, organization_id: Uuid, form_id: Uuid) -> AppResult<()> {
    let organization = super::organization::get(db.conn(), Tenant::trusted(organization_id)).await?;
    let zone = tally::zone(&organization.time_zone);
    tally::rebuild(db, form_id, zone).await?;
    segment::fold(db, form_id, zone).await?;
    Ok(())
}

/// Forms one pass of [`fold_pending`] reads at a time.
const FOLD_FORMS: u64 = 100;
/// The pause of [`folder`] after a pass that found few pending counts, so that the next
/// pass folds a batch rather than a response at a time.
pub const FOLD_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Folds the pending counts of every form into the tallies, batch by batch, until none is
/// left that another folder does not hold; how many responses it folded. Safe on several
/// instances at once ([`tally::fold`]).
pub async fn fold_pending(db: &crate::db::Db) -> AppResult<u64> {
    use sea_orm::QuerySelect;
    let mut folded = 0;
    loop {
        let forms: Vec<Uuid> = entity::pending_count::Entity::find()
            .select_only()
            .column(entity::pending_count::Column::FormId)
            .distinct()
            .limit(FOLD_FORMS)
            .into_tuple()
            .all(db.conn())
            .await?;
        let mut pass = 0;
        for form_id in forms {
            loop {
                let n = tally::fold(db, form_id, tally::FOLD_BATCH).await?;
                pass += n;
                if n < tally::FOLD_BATCH {
                    break;
                }
            }
        }
        folded += pass;
        if pass == 0 {
            return Ok(folded);
        }
    }
}

/// Folds pending counts for as long as the process lives (every instance runs one): again at
/// once after a pass that folded full batches, else after [`FOLD_POLL`]. Nothing is lost when
/// it stops: the pending rows wait in the database, and reads count them meanwhile.
pub async fn folder(db: crate::db::Db) {
    loop {
        match fold_pending(&db).await {
            Ok(n) if n >= tally::FOLD_BATCH => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = ?err, "could not fold pending counts"),
        }
        tokio::time::sleep(FOLD_POLL).await;
    }
}

/// Folds a form's finished responses not folded yet into its counts by segment (the durable
/// job a breakdown that read many of them asks for; the daily settling folds too).
pub async fn fold_form(db: &crate::db::Db, organization_id: Uuid, form_id: Uuid) -> AppResult<()> {
    let organization = super::organization::get(db.conn(), Tenant::trusted(organization_id)).await?;
    segment::fold(db, form_id, tally::zone(&organization.time_zone)).await?;
    Ok(())
}

/// How long after settling a form's past counts the next settling runs.
pub const SETTLE_EVERY: chrono::Duration = chrono::Duration::days(1);

/// Folds a form's counts of the days before its local today into one row each (the durable
/// job a form's first publication starts), and asks for the next run [`SETTLE_EVERY`] later.
/// The job of a form that no longer exists ends.
pub async fn settle_form(
    db: &crate::db::Db,
    now: DateTime<Utc>,
    organization_id: Uuid,
    form_id: Uuid,
) -> AppResult<()> {
    let exists = form::Entity::find_by_id(form_id)
        .filter(form::Column::OrganizationId.eq(organization_id))
        .one(db.conn())
        .await?
        .is_some();
    if !exists {
        return Ok(());
    }
    let organization = super::organization::get(db.conn(), Tenant::trusted(organization_id)).await?;
    let zone = tally::zone(&organization.time_zone);
    tally::settle(db, form_id, crate::report::tally::local_day(now, zone)).await?;
    segment::fold(db, form_id, zone).await?;
    let txn = db.begin_write().await?;
    super::job::enqueue_at(
        &txn,
        now,
        now + SETTLE_EVERY,
        organization_id,
        super::job::Kind::SettleCounts,
        form_id,
        serde_json::json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Enqueues, in the caller's transaction, a rebuild of every form of an organization: their
/// local days follow a new time zone.
pub async fn rebuild_organization(txn: &impl ConnectionTrait, now: DateTime<Utc>, tenant: Tenant) -> AppResult<()> {
    use sea_orm::QuerySelect;
    let forms: Vec<Uuid> = form::Entity::find()
        .select_only()
        .column(form::Column::Id)
        .filter(form::Column::OrganizationId.eq(tenant.organization_id))
        .into_tuple()
        .all(txn)
        .await?;
    for form_id in forms {
        super::job::enqueue(
            txn,
            now,
            tenant.organization_id,
            super::job::Kind::RebuildCounts,
            form_id,
            serde_json::json!({}),
        )
        .await?;
    }
    Ok(())
}

/// One open-text answer.
#[derive(Clone, Debug)]
pub struct OpenText {
    pub response_id: Uuid,
    pub text: String,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Which responses a list reads: those completed in a period of local days (in a zone) that a
/// filter (as SQL) selects.
pub struct Scope {
    pub period: Period,
    pub zone: chrono_tz::Tz,
    pub filter: Option<sea_orm::sea_query::Expr>,
}

/// Open-text answers to a question of a form, of completed responses in `scope`, in response
/// order; `search` matches every word with the Persian normalisation. Erased texts are left
/// out.
pub async fn open_texts(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    key: &str,
    search: Option<&str>,
    scope: Scope,
    request: PageRequest,
) -> AppResult<Page<OpenText>> {
    let Scope { period, zone, filter } = scope;
    let mut select = answer::Entity::find()
        .filter(answer::Column::FormId.eq(form_id))
        .filter(answer::Column::QuestionKey.eq(key))
        .filter(answer::Column::CompletedAt.is_not_null())
        .filter(answer::Column::SearchText.is_not_null());
    if let Some(search) = search.filter(|s| !s.trim().is_empty()) {
        select = select.filter(page::words_in(answer::Column::SearchText, search));
    }
    let midnight = |day: NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(zone).earliest())
            .map(|t| t.to_utc())
    };
    if let Some(from) = period.from.and_then(midnight) {
        select = select.filter(answer::Column::CompletedAt.gte(from));
    }
    if let Some(filter) = filter {
        use sea_orm::sea_query::ExprTrait;
        select = select.filter(
            sea_orm::sea_query::Expr::col((answer::Entity, answer::Column::ResponseId))
                .in_subquery(filter::selected_ids_query(form_id, &filter)),
        );
    }
    if let Some(end) = period.to.and_then(|d| d.succ_opt()).and_then(midnight) {
        select = select.filter(answer::Column::CompletedAt.lt(end));
    }
    let page = page::fetch(conn, select, page::Order::by_id(answer::Column::ResponseId), request).await?;
    Ok(page.map(|row| OpenText {
        response_id: row.response_id,
        text: row.text_value.unwrap_or_default(),
        completed_at: row.completed_at,
    }))
}

/// What a saved report shows.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    pub forms: Vec<Uuid>,
    /// The metrics front ends show, in order (names of `ReportMetric`).
    pub metrics: Vec<String>,
    #[serde(default)]
    pub period: Period,
    /// Which responses count (every one without a filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expr>,
}

pub fn definition_of(row: &report::Model) -> AppResult<Definition> {
    serde_json::from_str(&row.definition).map_err(|e| AppError::internal("stored report definition", e))
}

async fn check_definition(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    tenant: Tenant,
    definition: &Definition,
) -> AppResult<()> {
    if definition.forms.is_empty() || definition.forms.len() > MAX_FORMS {
        return Err(AppError::bad_input("input.formIds", format!("1 to {MAX_FORMS} forms")));
    }
    for (i, id) in definition.forms.iter().enumerate() {
        if definition.forms[..i].contains(id) {
            return Err(AppError::bad_input(format!("input.formIds[{i}]"), "listed twice"));
        }
        match super::form::get(conn, tenant, *id).await {
            Ok(form) => {
                if let Some(filter) = &definition.filter {
                    Filter::check(conn, versions, &form, filter.clone(), "input.filter").await?;
                }
            }
            Err(AppError::NotFound(_)) => {
                return Err(AppError::refused(
                    crate::error::code::NOT_FOUND,
                    Some(&format!("input.formIds[{i}]")),
                    "form not found",
                ));
            }
            Err(err) => return Err(err),
        }
    }
    definition.period.check("input.period")?;
    Ok(())
}

fn scoped(tenant: Tenant) -> sea_orm::Select<report::Entity> {
    report::Entity::find().filter(report::Column::OrganizationId.eq(tenant.organization_id))
}

pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<report::Model> {
    scoped(tenant)
        .filter(report::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("report"))
}

pub async fn list(conn: &impl ConnectionTrait, tenant: Tenant, request: PageRequest) -> AppResult<Page<report::Model>> {
    page::fetch(conn, scoped(tenant), page::Order::by_id(report::Column::Id), request).await
}

pub async fn create(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    tenant: Tenant,
    name: &str,
    definition: Definition,
) -> AppResult<report::Model> {
    let name = super::validate::name(name, "input.name")?;
    check_definition(conn, versions, tenant, &definition).await?;
    let at = now();
    Ok(report::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(tenant.organization_id),
        name: Set(name),
        definition: Set(serde_json::to_string(&definition).map_err(|e| AppError::internal("report definition", e))?),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?)
}

pub async fn update(
    conn: &impl ConnectionTrait,
    versions: &PublishedVersions,
    tenant: Tenant,
    id: Uuid,
    name: Option<&str>,
    change: impl FnOnce(&mut Definition),
) -> AppResult<report::Model> {
    let row = get(conn, tenant, id).await?;
    let mut definition = definition_of(&row)?;
    change(&mut definition);
    check_definition(conn, versions, tenant, &definition).await?;
    let mut model = row.into_active_model();
    if let Some(name) = name {
        model.name = Set(super::validate::name(name, "input.name")?);
    }
    model.definition = Set(serde_json::to_string(&definition).map_err(|e| AppError::internal("report definition", e))?);
    model.updated_at = Set(now());
    Ok(model.update(conn).await?)
}

pub async fn delete(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<()> {
    get(conn, tenant, id).await?;
    report::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}
