//! Counts by segment in storage (`segment_tallies`): what finished responses add to each
//! value their respondents' attributes had at completion and to each month of tenure, folded
//! in by a durable job (never on the write path), so a breakdown by an attribute or by
//! tenure, and a filter naming one attribute's values, read a few rows instead of every
//! response.
//!
//! Exact at every moment: a finished response is either folded (`responses.segmented`, set in
//! the transaction that adds its counts) or read from the responses themselves with the
//! others not folded yet (the tail, found by a partial index). Responses without the attribute
//! (in progress, anonymous, declared later) are the form's tallies less every segment.
//! Deleting a folded response takes its counts away in the deleting transaction; a rebuild of
//! the tallies (a new time zone) empties the form's segments and folds again.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono_tz::Tz;
use entity::{form, response, segment_dimension, segment_tally};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
    sea_query::{Expr as Sql, ExprTrait, LockBehavior, LockType, OnConflict},
};
use uuid::Uuid;

use super::{Counted, Period, SegmentRead, tally as stored};
use crate::{
    db::Db,
    error::{AppError, AppResult},
    form::{answer::Checked, model::FormDef, response::ResponseStatus},
    logic::expr::Value,
    report::{
        figures::Counts,
        segment::{self as pure, Key},
        tally::{Grain, Measure, all_time, single_valued},
    },
    service::response::answers_of,
};

/// Responses a fold reads at a time.
pub const FOLD_PAGE: u64 = 2_000;
/// Most distinct values of one attribute a form's counts by segment keep: past them the
/// attribute (a name, an email) would add a form's counts again for nearly every response, so
/// its segments are deleted and breakdowns and filters by it read the responses.
pub const MAX_SEGMENTS: usize = 200;
/// Finished responses not folded yet, read by one breakdown, past which it asks for a fold.
pub const FOLD_AT: i64 = 500;
/// Rows per statement: within every backend's limit on bound parameters.
const CHUNK: usize = 500;

/// Finished and not folded yet: the tail a read sums from the responses. Written with
/// literals so that both backends see the partial index `ix_responses_form_unsegmented`.
pub fn unfolded(backend: DbBackend) -> Sql {
    unfolded_flag(backend).and(Sql::col((response::Entity, response::Column::Status)).is_in([
        ResponseStatus::Completed.as_str(),
        ResponseStatus::Disqualified.as_str(),
    ]))
}

/// Not folded yet, as the partial index's predicate reads (a literal, not a parameter).
fn unfolded_flag(backend: DbBackend) -> Sql {
    Sql::cust(match backend {
        DbBackend::Sqlite => r#""responses"."segmented" = 0"#,
        _ => r#""responses"."segmented" = false"#,
    })
}

/// Whether a form has finished responses not folded yet, so a read skips the scan of the tail
/// when there is none. One seek of the partial index per finished status: ordered by its last
/// column, so that the planner reads the index rather than the table (it cannot tell that
/// almost no finished response is unfolded).
pub async fn any_unfolded(conn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<bool> {
    let flag = unfolded_flag(conn.get_database_backend());
    for status in [ResponseStatus::Completed, ResponseStatus::Disqualified] {
        let found: Option<Uuid> = response::Entity::find()
            .select_only()
            .column(response::Column::Id)
            .filter(response::Column::FormId.eq(form_id))
            .filter(response::Column::Status.eq(status.as_str()))
            .filter(flag.clone())
            .order_by_asc(response::Column::CompletedDay)
            .limit(1)
            .into_tuple()
            .one(conn)
            .await?;
        if found.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Adds to `out` what finished responses add (times `sign`) to their segments.
fn counted_of(
    rows: &[response::Model],
    answers: &mut HashMap<Uuid, Vec<Checked>>,
    snapshots: &mut HashMap<Uuid, Vec<(String, Value)>>,
    zone: Tz,
    sign: i64,
    out: &mut BTreeMap<Key, i64>,
) -> AppResult<()> {
    for row in rows {
        let (Some(day), Some(snapshot)) = (row.completed_day, snapshots.remove(&row.id)) else {
            continue;
        };
        let entries = stored::contribution_of(row, &answers.remove(&row.id).unwrap_or_default())?;
        pure::add(out, &entries, &pure::segments_of(day, &snapshot), zone, sign);
    }
    Ok(())
}

/// Adds counts to a form's segments, in key order (so concurrent writers lock rows in one
/// order), zero counts left out.
async fn upsert(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    form_id: Uuid,
    counts: BTreeMap<Key, i64>,
) -> AppResult<()> {
    let rows: Vec<segment_tally::ActiveModel> = counts
        .into_iter()
        .filter(|(_, count)| *count != 0)
        .map(
            |((dimension, grain, subject, day, measure, value, segment), count)| segment_tally::ActiveModel {
                organization_id: Set(organization_id),
                form_id: Set(form_id),
                dimension: Set(dimension),
                grain: Set(grain as i16),
                day: Set(day),
                subject: Set(subject),
                measure: Set(measure.as_str().to_owned()),
                value: Set(value),
                segment: Set(segment),
                count: Set(count),
            },
        )
        .collect();
    for chunk in rows.chunks(CHUNK) {
        segment_tally::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    segment_tally::Column::OrganizationId,
                    segment_tally::Column::FormId,
                    segment_tally::Column::Dimension,
                    segment_tally::Column::Grain,
                    segment_tally::Column::Subject,
                    segment_tally::Column::Day,
                    segment_tally::Column::Measure,
                    segment_tally::Column::Value,
                    segment_tally::Column::Segment,
                ])
                .value(
                    segment_tally::Column::Count,
                    Sql::cust(r#""segment_tallies"."count" + "excluded"."count""#),
                )
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// How a fold reads and writes: `page` responses read at a time, `pages` pages per
/// transaction, their counts summed in memory and written once at its end.
#[derive(Clone, Copy, Debug)]
pub struct Batches {
    pub page: u64,
    pub pages: u64,
    /// Most distinct values of one attribute kept ([`MAX_SEGMENTS`]).
    pub segments: usize,
}

impl Batches {
    /// The fold's batches on `backend`. On PostgreSQL ten pages a transaction: every page adds
    /// to the same all-time and month rows, which are then written once per ten pages (at a
    /// million responses most of a fold's writes). SQLite has one writer: a fold holds it for
    /// one page at a time, so that submissions wait no longer.
    pub fn of(backend: DbBackend) -> Batches {
        Batches {
            page: FOLD_PAGE,
            pages: if backend == DbBackend::Postgres { 10 } else { 1 },
            segments: MAX_SEGMENTS,
        }
    }
}

/// Folds a form's finished responses that are not folded yet into its segments, a few pages
/// per transaction ([`Batches::of`]), and returns how many it folded. Safe beside other folds
/// and deletions: a page locks its responses (on PostgreSQL skipping those another
/// transaction holds; SQLite has one writer).
///
/// Status by status, each in order of completion day (the order of the partial index, so a
/// page is one seek, not a sort of the whole tail): a transaction then adds to the rows of a
/// few days rather than of every day the history spans, which is what makes a first fold of a
/// long history fast.
pub async fn fold(db: &Db, form_id: Uuid, zone: Tz) -> AppResult<u64> {
    fold_in_batches(db, form_id, zone, Batches::of(db.backend())).await
}

/// [`fold`] in the given batches.
pub async fn fold_in_batches(db: &Db, form_id: Uuid, zone: Tz, batches: Batches) -> AppResult<u64> {
    let batches = Batches {
        page: Ord::max(batches.page, 1),
        pages: Ord::max(batches.pages, 1),
        ..batches
    };
    let mut folded = 0;
    for status in [ResponseStatus::Completed, ResponseStatus::Disqualified] {
        folded += fold_status(db, form_id, status, zone, batches).await?;
    }
    Ok(folded)
}

/// [`fold`] of the responses of one finished status.
async fn fold_status(db: &Db, form_id: Uuid, status: ResponseStatus, zone: Tz, batches: Batches) -> AppResult<u64> {
    let backend = db.backend();
    let mut folded = 0;
    loop {
        let txn = db.begin_write().await?;
        let mut counts = BTreeMap::new();
        let mut organization_id = None;
        let mut done = false;
        for _ in 0..batches.pages {
            // The responses of the pages before are folded now: the partial index has them no more.
            let mut select = response::Entity::find()
                .filter(response::Column::FormId.eq(form_id))
                .filter(response::Column::Status.eq(status.as_str()))
                .filter(unfolded_flag(backend))
                .order_by_asc(response::Column::CompletedDay)
                .limit(batches.page);
            if backend == DbBackend::Postgres {
                select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            }
            let rows = select.all(&txn).await?;
            let Some(first) = rows.first() else {
                done = true;
                break;
            };
            organization_id = Some(first.organization_id);
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let mut answers = answers_of(&txn, ids.clone()).await?;
            let mut snapshots = super::filter::snapshots_of(&txn, first.organization_id, &ids).await?;
            counted_of(&rows, &mut answers, &mut snapshots, zone, 1, &mut counts)?;
            for part in ids.chunks(CHUNK) {
                response::Entity::update_many()
                    .col_expr(response::Column::Segmented, Sql::value(true))
                    .filter(response::Column::Id.is_in(part.to_vec()))
                    .exec(&txn)
                    .await?;
            }
            folded += rows.len() as u64;
            if (rows.len() as u64) < batches.page {
                done = true;
                break;
            }
        }
        if let Some(organization_id) = organization_id {
            admit(&txn, organization_id, form_id, &mut counts, batches.segments).await?;
            upsert(&txn, organization_id, form_id, counts).await?;
        }
        txn.commit().await?;
        if done {
            return Ok(folded);
        }
    }
}

/// Admits a fold's `counts` (in its transaction): the values of each attribute join those
/// folded before; an attribute that now has more than `max` distinct values is overflowed (its
/// segments deleted, never folded again) and its counts left out, as are those of an attribute
/// overflowed before. Each attribute's row is locked (PostgreSQL; SQLite has one writer), so
/// concurrent folds agree on its values.
async fn admit(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    form_id: Uuid,
    counts: &mut BTreeMap<Key, i64>,
    max: usize,
) -> AppResult<()> {
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for key in counts.keys().filter(|key| pure::daily(&key.0)) {
        seen.entry(key.0.clone()).or_default().insert(key.6.clone());
    }
    if seen.is_empty() {
        return Ok(());
    }
    segment_dimension::Entity::insert_many(seen.keys().map(|dimension| segment_dimension::ActiveModel {
        organization_id: Set(organization_id),
        form_id: Set(form_id),
        dimension: Set(dimension.clone()),
        segments: Set("[]".to_owned()),
        overflowed: Set(false),
    }))
    .on_conflict_do_nothing()
    .exec_without_returning(txn)
    .await?;
    let mut select = segment_dimension::Entity::find()
        .filter(segment_dimension::Column::OrganizationId.eq(organization_id))
        .filter(segment_dimension::Column::FormId.eq(form_id))
        .filter(segment_dimension::Column::Dimension.is_in(seen.keys().cloned()))
        .order_by_asc(segment_dimension::Column::Dimension);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock(LockType::Update);
    }
    let mut gone = BTreeSet::new();
    for row in select.all(txn).await? {
        let Some(values) = seen.get(&row.dimension) else {
            continue;
        };
        if row.overflowed {
            gone.insert(row.dimension);
            continue;
        }
        let mut known: BTreeSet<String> = serde_json::from_str(&row.segments).unwrap_or_default();
        let before = known.len();
        known.extend(values.iter().cloned());
        let mut update = segment_dimension::ActiveModel {
            organization_id: Set(row.organization_id),
            form_id: Set(row.form_id),
            dimension: Set(row.dimension.clone()),
            ..Default::default()
        };
        if known.len() > max {
            segment_tally::Entity::delete_many()
                .filter(segment_tally::Column::OrganizationId.eq(organization_id))
                .filter(segment_tally::Column::FormId.eq(form_id))
                .filter(segment_tally::Column::Dimension.eq(row.dimension.as_str()))
                .exec(txn)
                .await?;
            update.segments = Set("[]".to_owned());
            update.overflowed = Set(true);
            gone.insert(row.dimension);
        } else if known.len() > before {
            update.segments = Set(serde_json::to_string(&known).map_err(|e| AppError::Internal(e.to_string()))?);
        } else {
            continue;
        }
        update.update(txn).await?;
    }
    counts.retain(|key, _| !gone.contains(&key.0));
    Ok(())
}

/// A form's attributes with too many values to keep segments of ([`admit`]).
pub async fn overflowed(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    form_id: Uuid,
) -> AppResult<BTreeSet<String>> {
    let rows: Vec<String> = segment_dimension::Entity::find()
        .select_only()
        .column(segment_dimension::Column::Dimension)
        .filter(segment_dimension::Column::OrganizationId.eq(organization_id))
        .filter(segment_dimension::Column::FormId.eq(form_id))
        .filter(segment_dimension::Column::Overflowed.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Whether a form keeps segments of `dimension` (not overflowed: [`admit`]).
async fn kept(conn: &impl ConnectionTrait, organization_id: Uuid, form_id: Uuid, dimension: &str) -> AppResult<bool> {
    Ok(!overflowed(conn, organization_id, form_id).await?.contains(dimension))
}

/// Takes a folded response's counts away from its segments, in the caller's transaction (the
/// response locked, about to be deleted with its answers and snapshot).
pub async fn take_away(
    txn: &impl ConnectionTrait,
    row: &response::Model,
    answers: Vec<Checked>,
    zone: Tz,
) -> AppResult<()> {
    if !row.segmented {
        return Ok(());
    }
    let mut snapshots = super::filter::snapshots_of(txn, row.organization_id, &[row.id]).await?;
    let mut answers = HashMap::from([(row.id, answers)]);
    let mut counts = BTreeMap::new();
    counted_of(
        std::slice::from_ref(row),
        &mut answers,
        &mut snapshots,
        zone,
        -1,
        &mut counts,
    )?;
    let gone = overflowed(txn, row.organization_id, row.form_id).await?;
    counts.retain(|key, _| !gone.contains(&key.0));
    upsert(txn, row.organization_id, row.form_id, counts).await
}

/// Empties a form's segments and marks its responses not folded, in the caller's transaction
/// (a rebuild of its counts; the fold that follows counts them again).
pub async fn reset(txn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<()> {
    segment_tally::Entity::delete_many()
        .filter(segment_tally::Column::FormId.eq(form_id))
        .exec(txn)
        .await?;
    // The values folded are folded again; an attribute with too many stays without segments.
    segment_dimension::Entity::delete_many()
        .filter(segment_dimension::Column::FormId.eq(form_id))
        .filter(segment_dimension::Column::Overflowed.eq(false))
        .exec(txn)
        .await?;
    response::Entity::update_many()
        .col_expr(response::Column::Segmented, Sql::value(false))
        .filter(response::Column::FormId.eq(form_id))
        .filter(response::Column::Segmented.eq(true))
        .exec(txn)
        .await?;
    Ok(())
}

/// A form's folded counts of `dimension` over `period`, by segment (only the segments `only`
/// names, if given), as the tallies count them: (segment, counts). `None` when the period needs
/// day rows the dimension does not keep (tenure is kept by month and all time).
pub async fn folded_counts(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    form_id: Uuid,
    dimension: &str,
    only: Option<&[String]>,
    period: Period,
    counted: &Counted,
) -> AppResult<Option<BTreeMap<String, Counts>>> {
    let daily = pure::daily(dimension);
    if daily && !kept(conn, organization_id, form_id, dimension).await? {
        return Ok(None);
    }
    let range = if period.from.is_none() && period.to.is_none() {
        vec![(Grain::All, all_time(), all_time(), 1)]
    } else {
        stored::period_parts(period.from, period.to)
    };
    if range.is_empty() {
        return Ok(Some(BTreeMap::new()));
    }
    if !daily && range.iter().any(|(grain, _, _, _)| *grain == Grain::Day) {
        return Ok(None);
    }
    // One plain range of rows per part, its counts signed, summed in one statement.
    let parts = range
        .into_iter()
        .map(|(grain, first, last, sign)| {
            let mut condition = Condition::all()
                .add(segment_tally::Column::OrganizationId.eq(organization_id))
                .add(segment_tally::Column::FormId.eq(form_id))
                .add(segment_tally::Column::Dimension.eq(dimension))
                .add(segment_tally::Column::Grain.eq(grain as i16))
                .add(segment_tally::Column::Day.between(first, last))
                .add(read_of(counted));
            if let Some(only) = only {
                condition = condition.add(segment_tally::Column::Segment.is_in(only.iter().cloned()));
            }
            segment_tally::Entity::find()
                .select_only()
                .column(segment_tally::Column::Segment)
                .column(segment_tally::Column::Subject)
                .column(segment_tally::Column::Measure)
                .column(segment_tally::Column::Value)
                .column_as(stored::signed_count(segment_tally::Column::Count, sign), "count")
                .filter(condition)
                .into_query()
        })
        .collect();
    let keys = ["segment", "subject", "measure", "value"];
    let summed = stored::summed_union(conn, parts, &keys, |row| {
        Ok((
            (
                row.try_get_by_index::<String>(0)?,
                row.try_get_by_index::<String>(1)?,
                row.try_get_by_index::<String>(2)?,
                row.try_get_by_index::<String>(3)?,
            ),
            row.try_get_by_index::<i64>(4)?,
        ))
    })
    .await?;
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for ((segment, subject, measure, value), count) in summed {
        if let Some(measure) = Measure::parse(&measure) {
            out.entry(segment).or_default().push((subject, measure, value, count));
        }
    }
    Ok(Some(out))
}

/// The rows of `counted` a read by segment takes: its questions' (every one without keys) and
/// the response's, each measure named (times to complete and total scores only when counted),
/// so that the index (…, segment, subject, measure, day) reads each measure's days as one
/// range rather than every time to complete of every day.
fn read_of(counted: &Counted) -> Condition {
    let condition = stored::subjects(segment_tally::Column::Subject, segment_tally::Column::Measure, counted);
    if !counted.times {
        // The measures are named already.
        return condition;
    }
    let measures = Measure::ALL
        .into_iter()
        .filter(|m| *m != Measure::Changes)
        .map(Measure::as_str);
    condition.add(segment_tally::Column::Measure.is_in(measures))
}

/// The counts of the responses a filter selects, over `period`, from the counts by segment
/// when they can answer it ([`SegmentRead`], from `Filter::segment_read`), else `None`. `def`
/// is what the filter reads (every question of every published version, by key):
/// - a filter naming one segment: the segment's counts over `period`;
/// - over all time (no `period`), a filter also bounding the completion day and requiring
///   questions answered: the segment's counts over those days, when they prove that every
///   folded response there was completed and answered the questions (else `None`: the caller
///   reads the responses), counted as over all time ([`pure::over_all_time`]);
///
/// and, either way, the responses not folded yet that the whole filter (`condition`) selects.
pub async fn filtered_counts(
    conn: &impl ConnectionTrait,
    (form, def): (&form::Model, &FormDef),
    read: &SegmentRead,
    condition: &Sql,
    (period, zone): (Period, Tz),
    counted: &Counted,
) -> AppResult<Option<Counts>> {
    if counted.times && !pure::daily(&read.dimension) {
        return Ok(None);
    }
    let narrowed = read.days.is_some() || !read.answered.is_empty();
    let over = match (narrowed, period.from.is_some() || period.to.is_some()) {
        (false, _) => period,
        (true, false) => {
            let (from, to) = read.days.unwrap_or_default();
            Period { from, to }
        }
        (true, true) => return Ok(None),
    };
    let mut questions = Vec::new();
    for key in &read.answered {
        let Some(question) = def.questions().find(|q| q.key == *key) else {
            return Ok(None);
        };
        questions.push((key.clone(), single_valued(question.rules.kind())));
    }
    // Every question named (so the read is one index range per question and measure), the
    // questions to prove answered among them, which are left out of what is returned.
    let mut reading = counted.clone();
    let keys = reading
        .keys
        .get_or_insert_with(|| def.questions().map(|q| q.key.clone()).collect());
    keys.extend(read.answered.iter().cloned());
    let Some(folded) = folded_counts(
        conn,
        form.organization_id,
        form.id,
        &read.dimension,
        Some(&read.values),
        over,
        &reading,
    )
    .await?
    else {
        return Ok(None);
    };
    let mut counts: Counts = folded.into_values().flatten().collect();
    if narrowed {
        if !pure::all_answered(&counts, &questions) {
            return Ok(None);
        }
        counts = pure::over_all_time(counts);
    }
    if let Some(keys) = &counted.keys {
        counts.retain(|(subject, _, _, _)| subject.is_empty() || keys.contains(subject));
    }
    if any_unfolded(conn, form.id).await? {
        let tail = condition.clone().and(unfolded(conn.get_database_backend()));
        counts.extend(super::filter::counts(conn, form.id, Some(&tail), period, zone, counted).await?);
    }
    Ok(Some(super::filter::merge(counts)))
}

/// `total` less every group's counts (the responses in none of the groups), zero counts left
/// out; the freshness stamp's changes are not counts of responses.
pub fn rest_of<'a>(total: Counts, groups: impl IntoIterator<Item = &'a Counts>) -> Counts {
    let mut left: BTreeMap<(String, Measure, String), i64> = BTreeMap::new();
    for (subject, measure, value, count) in total {
        if measure != Measure::Changes {
            *left.entry((subject, measure, value)).or_default() += count;
        }
    }
    for counts in groups {
        for (subject, measure, value, count) in counts {
            *left.entry((subject.clone(), *measure, value.clone())).or_default() -= count;
        }
    }
    left.into_iter()
        .filter(|(_, count)| *count != 0)
        .map(|((subject, measure, value), count)| (subject, measure, value, count))
        .collect()
}

/// A form's folded counts of the segments `only` of a dimension kept by day, per bucket of
/// `from..=to` (buckets starting on `starts`, as [`stored::counts_by_bucket`]): (bucket index,
/// subject, measure, value, count), zero counts left out; `None` when the form keeps no
/// segments of the dimension (too many values).
#[allow(clippy::too_many_arguments)]
pub async fn folded_by_bucket(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    form_id: Uuid,
    dimension: &str,
    only: &[String],
    starts: &[chrono::NaiveDate],
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
    counted: &Counted,
) -> AppResult<Option<Vec<(usize, String, Measure, String, i64)>>> {
    if !kept(conn, organization_id, form_id, dimension).await? {
        return Ok(None);
    }
    let part = segment_tally::Entity::find()
        .select_only()
        .column_as(
            stored::bucket_of(Sql::col((segment_tally::Entity, segment_tally::Column::Day)), starts),
            "bucket",
        )
        .column(segment_tally::Column::Subject)
        .column(segment_tally::Column::Measure)
        .column(segment_tally::Column::Value)
        .column_as(stored::signed_count(segment_tally::Column::Count, 1), "count")
        .filter(segment_tally::Column::OrganizationId.eq(organization_id))
        .filter(segment_tally::Column::FormId.eq(form_id))
        .filter(segment_tally::Column::Dimension.eq(dimension))
        .filter(segment_tally::Column::Grain.eq(Grain::Day as i16))
        .filter(segment_tally::Column::Day.between(from, to))
        .filter(segment_tally::Column::Segment.is_in(only.iter().cloned()))
        .filter(read_of(counted))
        .into_query();
    stored::summed_by_bucket(conn, vec![part]).await.map(Some)
}
