//! Tallies in storage: written in the transaction that starts, completes or deletes a response
//! (one statement), read summed over slots, rebuilt from the stored responses when what they
//! depend on changes (the organization's time zone).
use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use chrono_tz::Tz;
use entity::{pending_count, response, tally};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait, Set,
    sea_query::{Alias, Expr, Func, OnConflict, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use super::Counted;
use crate::{
    db::Db,
    error::AppResult,
    report::tally::{Entry, Grain, Key, Measure, all_time, contribution, counts, local_day, unspread},
    service::response::answers_of,
};

/// Rows each count is spread over: concurrent transactions of one form pick a slot at
/// random, so they rarely wait for each other's row locks.
pub const SLOTS: i16 = 8;
/// Rows per statement: within every backend's limit on bound parameters.
const CHUNK: usize = 500;

/// The time zone tallies are counted in: the organization's (UTC if it is not one).
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// Counts not spread over slots (see [`Entry::spread`]): they stay in slot 0.
pub type Unspread = HashSet<(String, Measure)>;

/// Whether the count under `key` is spread over slots: not the counts in `fixed`, nor the
/// exact seconds to complete (many values, rarely met by two writers at once).
fn spread(key: &Key, fixed: &Unspread) -> bool {
    !key.0.is_exact() && !fixed.contains(&(key.2.clone(), key.3))
}

fn rows(
    form_id: Uuid,
    slot: i16,
    counted: impl IntoIterator<Item = (Key, i64)>,
    fixed: &Unspread,
) -> Vec<tally::ActiveModel> {
    counted
        .into_iter()
        .map(|key_count| {
            let slot = if spread(&key_count.0, fixed) { slot } else { 0 };
            let ((grain, day, subject, measure, value), count) = key_count;
            tally::ActiveModel {
                form_id: Set(form_id),
                grain: Set(grain as i16),
                day: Set(day),
                subject: Set(subject),
                measure: Set(measure.as_str().to_owned()),
                value: Set(value),
                slot: Set(slot),
                count: Set(count),
            }
        })
        .collect()
}

async fn upsert(conn: &impl ConnectionTrait, rows: Vec<tally::ActiveModel>) -> AppResult<()> {
    for chunk in rows.chunks(CHUNK) {
        tally::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    tally::Column::FormId,
                    tally::Column::Grain,
                    tally::Column::Day,
                    tally::Column::Subject,
                    tally::Column::Measure,
                    tally::Column::Value,
                    tally::Column::Slot,
                ])
                .value(
                    tally::Column::Count,
                    Expr::cust(r#""tallies"."count" + "excluded"."count""#),
                )
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The summed count as a 64-bit integer (PostgreSQL sums BIGINT into NUMERIC).
fn summed() -> sea_orm::sea_query::SimpleExpr {
    Func::cast_as(Func::sum(Expr::col(tally::Column::Count)), Alias::new("BIGINT")).into()
}

/// Adds counts already gathered (bulk loads), spread evenly over the slots as concurrent
/// submissions would spread them (those in `fixed` stay in slot 0).
pub async fn add_counts(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    counted: std::collections::BTreeMap<Key, i64>,
    fixed: &Unspread,
) -> AppResult<()> {
    for slot in 0..SLOTS {
        let part = counted.iter().filter_map(|(key, count)| {
            let share = if !spread(key, fixed) {
                if slot == 0 { *count } else { 0 }
            } else {
                count / i64::from(SLOTS) + i64::from(i64::from(slot) < count % i64::from(SLOTS))
            };
            (share != 0).then(|| (key.clone(), share))
        });
        upsert(conn, rows(form_id, slot, part, fixed)).await?;
    }
    Ok(())
}

/// Adds (`sign` 1) or takes away (−1) counts of a form, in the caller's transaction.
pub async fn apply(txn: &impl ConnectionTrait, form_id: Uuid, zone: Tz, entries: &[Entry], sign: i64) -> AppResult<()> {
    let slot = rand::random_range(0..SLOTS);
    upsert(
        txn,
        rows(form_id, slot, counts(entries, zone, sign), &unspread(entries)),
    )
    .await
}

/// The rows of the response itself and of the questions counted (every row without keys),
/// without times and total scores unless counted, of a table of counts whose subject and
/// measure columns are these.
pub fn subjects<C: ColumnTrait>(subject: C, measure: C, counted: &Counted) -> Condition {
    let mut condition = Condition::all();
    if let Some(keys) = &counted.keys {
        condition = condition.add(subject.is_in(std::iter::once(String::new()).chain(keys.iter().cloned())));
    }
    if !counted.times {
        // Named positively, so an index by (subject, measure) reads only these rows: a day
        // can hold many more times to complete than anything else.
        let measures = Measure::ALL.into_iter().filter(|m| !m.is_time()).map(Measure::as_str);
        condition = condition.add(measure.is_in(measures));
    }
    condition
}

/// How a read of the tallies hands over times to complete.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Times {
    /// Bins and sums, and the exact seconds of the bins the median lies in (what figures
    /// need; see [`crate::report::times`]).
    Kept,
    /// Every exact second, no bins or sums: counts that others are subtracted from (the
    /// rest of a breakdown).
    Exact,
}

fn tally_subjects(counted: &Counted, times: Times) -> Condition {
    let condition = subjects(tally::Column::Subject, tally::Column::Measure, counted);
    if times == Times::Exact && counted.times {
        condition.add(tally::Column::Measure.is_not_in([Measure::DurationBin.as_str(), Measure::DurationSum.as_str()]))
    } else {
        condition
    }
}

/// Earliest and latest days a range may name.
fn bounds() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default(),
    )
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn last_of_month(day: NaiveDate) -> NaiveDate {
    first_of_month(day)
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(day)
}

/// What a month's rows cost to read beyond a day's, in day rows: with times to complete kept by
/// bin, a busy form's month holds about as many counts as one of its days (at a million
/// responses: 315 against 311).
const MONTH_IN_DAYS: i64 = 1;

/// One part of a range of local days: the rows of `grain` from the first day to the last,
/// added (`1`) or taken away (`-1`).
pub type Part = (Grain, NaiveDate, NaiveDate, i64);

/// The rows a range of local days `from..=to` (either open, not both) reads: month rows for
/// the whole months inside it and day rows for the rest; where a partial month covers most of
/// its month, that month's row less the days outside the range (a month's row is always the
/// sum of its days'). So a range costs at most one row per month plus about a month of days
/// in all; empty parts left out. Without either bound: the all-time rows.
pub fn period_parts(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<Part> {
    if from.is_none() && to.is_none() {
        return vec![(Grain::All, all_time(), all_time(), 1)];
    }
    let (min, max) = bounds();
    let (from, to) = (from.unwrap_or(min).max(min), to.unwrap_or(max).min(max));
    let first_full = if from.day() == 1 {
        from
    } else {
        last_of_month(from).succ_opt().unwrap_or(max).min(max)
    };
    let last_full = if to == last_of_month(to) {
        first_of_month(to)
    } else {
        first_of_month(to).pred_opt().map(first_of_month).unwrap_or(min)
    };
    // Every bound stays within four-digit years: SQLite compares dates as text.
    let mut days: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    if first_full <= last_full {
        parts.push((Grain::Month, first_full, last_full, 1));
        days.push((from, first_full.pred_opt().unwrap_or(min)));
        if let Some(after) = last_of_month(last_full).succ_opt().filter(|d| *d <= to) {
            days.push((after, to));
        }
    } else if first_of_month(from) == first_of_month(to) {
        days.push((from, to));
    } else {
        // Parts of two neighbouring months.
        days.push((from, last_of_month(from)));
        days.push((first_of_month(to), to));
    }
    for (a, b) in days.into_iter().filter(|(a, b)| a <= b) {
        // Each run of days lies within one month.
        let (start, end) = (first_of_month(a), last_of_month(a));
        let inside = (b - a).num_days() + 1;
        let outside = (a - start).num_days() + (end - b).num_days();
        if outside + MONTH_IN_DAYS < inside {
            parts.push((Grain::Month, start, start, 1));
            if let Some(before) = a.pred_opt().filter(|d| *d >= start) {
                parts.push((Grain::Day, start, before, -1));
            }
            if let Some(after) = b.succ_opt().filter(|d| *d <= end) {
                parts.push((Grain::Day, after, end, -1));
            }
        } else {
            parts.push((Grain::Day, a, b, 1));
        }
    }
    parts.retain(|(_, a, b, _)| a <= b);
    parts
}

/// Runs `parts` (each a plain range of rows, its `count` column signed) as one statement
/// (`UNION ALL`), summed by the columns `keys` in the database, and reads each sum with `row`
/// (its key and count); zero sums left out. One plain range per part, not an `OR` of them:
/// SQLite's planner read a whole form's counts for an `OR` of a period's ranges. Summed in
/// the database: a 90-day period's parts hold about three times the rows of their sum, and
/// rows cost more to hand over than to add up.
pub async fn summed_union<K: Ord>(
    conn: &impl ConnectionTrait,
    parts: Vec<SelectStatement>,
    keys: &[&'static str],
    row: impl Fn(&QueryResult) -> Result<(K, i64), DbErr>,
) -> AppResult<BTreeMap<K, i64>> {
    let mut parts = parts.into_iter();
    let mut summed: BTreeMap<K, i64> = BTreeMap::new();
    let Some(mut union) = parts.next() else {
        return Ok(summed);
    };
    for part in parts {
        union.union(UnionType::All, part);
    }
    let mut statement = Query::select();
    for key in keys {
        statement.column(Alias::new(*key)).group_by_col(Alias::new(*key));
    }
    statement
        .expr_as(
            Func::cast_as(Func::sum(Expr::col(Alias::new("count"))), Alias::new("BIGINT")),
            Alias::new("count"),
        )
        .from_subquery(union, Alias::new("parts"));
    for result in conn
        .query_all_raw(conn.get_database_backend().build(&statement))
        .await?
    {
        let (key, count) = row(&result)?;
        *summed.entry(key).or_default() += count;
    }
    summed.retain(|_, count| *count != 0);
    Ok(summed)
}

/// A table's `count` column times `sign`, as a part of [`summed_union`] selects it.
pub fn signed_count<C: ColumnTrait>(count: C, sign: i64) -> Expr {
    sea_orm::sea_query::ExprTrait::mul(Expr::col(count), sign)
}

/// A form's counted rows in `part`, their counts signed: (the bucket of their day, or 0
/// without `starts`; subject, measure, value, count).
fn part_of(
    form_id: Uuid,
    (grain, first, last, sign): Part,
    counted: &Counted,
    starts: Option<&[NaiveDate]>,
    times: Times,
) -> SelectStatement {
    rows_of(form_id, sign, starts)
        .filter(tally::Column::Grain.eq(grain as i16))
        .filter(tally::Column::Day.between(first, last))
        .filter(tally_subjects(counted, times))
        .into_query()
}

/// The exact seconds to complete of `part` (of the bins `bins` only, when given), in the
/// columns of [`part_of`], the bin as the subject.
fn exact_part_of(
    form_id: Uuid,
    (grain, first, last, sign): Part,
    bins: Option<&[String]>,
    starts: Option<&[NaiveDate]>,
) -> SelectStatement {
    let mut select = rows_of(form_id, sign, starts).filter(tally::Column::Grain.eq(grain.exact() as i16));
    if let Some(bins) = bins {
        select = select.filter(tally::Column::Subject.is_in(bins.iter().cloned()));
    }
    select
        .filter(tally::Column::Measure.eq(Measure::Duration.as_str()))
        .filter(tally::Column::Day.between(first, last))
        .into_query()
}

/// A form's tallies as a part selects them: the bucket of the row's day (`starts`) or 0,
/// subject, measure, value, and the count times `sign`.
fn rows_of(form_id: Uuid, sign: i64, starts: Option<&[NaiveDate]>) -> sea_orm::Select<tally::Entity> {
    let bucket = match starts {
        Some(starts) => bucket_of(Expr::col((tally::Entity, tally::Column::Day)), starts),
        None => Expr::val(0i32),
    };
    tally::Entity::find()
        .select_only()
        .column_as(bucket, "bucket")
        .column(tally::Column::Subject)
        .column(tally::Column::Measure)
        .column(tally::Column::Value)
        .column_as(signed_count(tally::Column::Count, sign), "count")
        .filter(tally::Column::FormId.eq(form_id))
}

/// (subject, measure, value) and the count of a row of [`part_of`], the bucket skipped.
fn counted_row(row: &QueryResult, skip: usize) -> Result<((String, String, String), i64), DbErr> {
    Ok((
        (
            row.try_get_by_index::<String>(skip)?,
            row.try_get_by_index::<String>(skip + 1)?,
            row.try_get_by_index::<String>(skip + 2)?,
        ),
        row.try_get_by_index::<i64>(skip + 3)?,
    ))
}

/// A form's counts on `parts`, summed over slots and parts in the database, per bucket of
/// `starts` (all in bucket 0 without): (bucket index, subject, measure, value, count), zero
/// counts left out; times to complete as `times` says. With [`Times::Kept`] a second
/// statement reads the exact seconds of each bucket's median bins: run both in one snapshot.
async fn counts_on(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    parts: &[Part],
    counted: &Counted,
    starts: Option<&[NaiveDate]>,
    times: Times,
    tail: Tail,
) -> AppResult<Vec<(usize, String, Measure, String, i64)>> {
    let main = parts
        .iter()
        .map(|part| part_of(form_id, *part, counted, starts, times))
        .collect();
    let mut out = summed_by_bucket(conn, main).await?;
    let Tail { counts: tail, exact } = tail;
    if !tail.is_empty() {
        out.extend(tail);
        out = summed_counts(out);
    }
    if !counted.times {
        return Ok(summed_counts(out));
    }
    // The bins whose seconds are read, per bucket (every bin for exact counts).
    let wanted: Option<HashSet<(usize, String)>> = match times {
        Times::Exact => None,
        Times::Kept => {
            let mut bins: BTreeMap<usize, Vec<(i64, u64)>> = BTreeMap::new();
            for (bucket, _, measure, value, count) in &out {
                if let (Measure::DurationBin, Ok(lower), Ok(count)) = (measure, value.parse(), u64::try_from(*count)) {
                    bins.entry(*bucket).or_default().push((lower, count));
                }
            }
            let wanted: HashSet<(usize, String)> = bins
                .into_iter()
                .flat_map(|(bucket, mut bins)| {
                    bins.sort_unstable();
                    crate::report::times::median_bins(&bins)
                        .into_iter()
                        .map(move |lower| (bucket, lower.to_string()))
                })
                .collect();
            if wanted.is_empty() {
                return Ok(summed_counts(out));
            }
            Some(wanted)
        }
    };
    for (bucket, bin, seconds, count) in exact {
        if wanted.as_ref().is_none_or(|w| w.contains(&(bucket, bin))) {
            out.push((bucket, String::new(), Measure::Duration, seconds, count));
        }
    }
    let bins: Option<Vec<String>> = wanted.as_ref().map(|wanted| {
        let mut bins: Vec<String> = wanted.iter().map(|(_, bin)| bin.clone()).collect();
        bins.sort();
        bins.dedup();
        bins
    });
    let exact = parts
        .iter()
        .map(|part| exact_part_of(form_id, *part, bins.as_deref(), starts))
        .collect();
    for (bucket, bin, _, seconds, count) in summed_by_bucket(conn, exact).await? {
        if wanted.as_ref().is_none_or(|w| w.contains(&(bucket, bin))) {
            out.push((bucket, String::new(), Measure::Duration, seconds, count));
        }
    }
    Ok(summed_counts(out))
}

/// Counts with equal (bucket, subject, measure, value) summed, zero counts left out.
fn summed_counts(counts: Vec<(usize, String, Measure, String, i64)>) -> Vec<(usize, String, Measure, String, i64)> {
    let mut out: BTreeMap<(usize, String, Measure, String), i64> = BTreeMap::new();
    for (bucket, subject, measure, value, count) in counts {
        *out.entry((bucket, subject, measure, value)).or_default() += count;
    }
    out.into_iter()
        .filter(|(_, count)| *count != 0)
        .map(|((bucket, subject, measure, value), count)| (bucket, subject, measure, value, count))
        .collect()
}

/// The counts of the responses whose counts are pending, as the tallies would hold them, per
/// bucket: everything but the exact seconds to complete (in `counts`; with [`Times::Kept`]
/// the times as bins and sums), and those seconds by bin (in `exact`), for the reader to
/// keep those it needs.
#[derive(Default)]
struct Tail {
    counts: Vec<(usize, String, Measure, String, i64)>,
    /// (bucket, bin, seconds, count).
    exact: Vec<(usize, String, String, i64)>,
}

/// The [`Tail`] of `form_id` over local days `from..=to` (either open), per bucket of
/// `starts` (all in bucket 0 without): aggregate SQL over the stored responses whose counts
/// are pending, counted the tallies' way. Nothing to read when none is pending.
async fn tail_of(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    counted: &Counted,
    starts: Option<&[NaiveDate]>,
    times: Times,
) -> AppResult<Tail> {
    if !pending_at_least(conn, form_id, 1).await? {
        return Ok(Tail::default());
    }
    let Some(zone) = zone_of_form(conn, form_id).await? else {
        return Ok(Tail::default());
    };
    let grouping = starts.map(|starts| super::filter::Grouping::buckets(starts, zone));
    let period = super::Period { from, to };
    let grouped = super::filter::grouped_counts(
        conn,
        form_id,
        Some(&pending_of(form_id)),
        period,
        zone,
        grouping.as_ref(),
        counted,
    )
    .await?;
    let mut tail = Tail::default();
    for (key, counts) in grouped {
        let bucket = match (starts, key) {
            (None, _) => 0,
            (Some(_), Some(key)) => match key.parse::<usize>() {
                Ok(bucket) => bucket,
                Err(_) => continue,
            },
            (Some(_), None) => continue,
        };
        for (subject, measure, value, count) in counts {
            if measure != Measure::Duration {
                tail.counts.push((bucket, subject, measure, value, count));
                continue;
            }
            if !counted.times {
                continue;
            }
            let Ok(seconds) = value.parse::<i64>() else { continue };
            let (bin, sums) = crate::report::times::counted(seconds, count);
            if times == Times::Kept {
                tail.counts
                    .push((bucket, String::new(), Measure::DurationBin, bin.to_string(), count));
                for (name, amount) in sums {
                    tail.counts
                        .push((bucket, String::new(), Measure::DurationSum, name.to_owned(), amount));
                }
            }
            tail.exact.push((bucket, bin.to_string(), value, count));
        }
    }
    Ok(tail)
}

/// The time zone `form_id` counts days in (its organization's); `None` when the form is gone.
pub async fn zone_of_form(conn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<Option<Tz>> {
    let name: Option<Option<String>> = entity::form::Entity::find_by_id(form_id)
        .select_only()
        .column_as(entity::organization::Column::TimeZone, "time_zone")
        .inner_join(entity::organization::Entity)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(name.map(|n| n.map_or(Tz::UTC, |n| zone(&n))))
}

/// A form's counts over local days `from..=to` (either open), summed over slots: all-time
/// rows without a range; otherwise month rows for the whole months inside it and day rows for
/// the rest, so a range costs at most one row per month plus two months of days; plus the
/// responses whose counts are pending, aggregated from the stored responses. Times to
/// complete as `times` says. Several statements: read in one snapshot.
pub async fn counts_between(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    counted: &Counted,
    times: Times,
) -> AppResult<Vec<(String, Measure, String, i64)>> {
    let parts = period_parts(from, to);
    let tail = tail_of(conn, form_id, (from, to), counted, None, times).await?;
    Ok(counts_on(conn, form_id, &parts, counted, None, times, tail)
        .await?
        .into_iter()
        .map(|(_, subject, measure, value, count)| (subject, measure, value, count))
        .collect())
}

/// The index of the bucket a `day` column falls in, the buckets starting on `starts`
/// (ascending; the first bucket takes every day before the second).
pub fn bucket_of(day: Expr, starts: &[NaiveDate]) -> Expr {
    let mut bucket = sea_orm::sea_query::CaseStatement::new();
    for (i, start) in starts.iter().enumerate().skip(1) {
        bucket = bucket.case(
            sea_orm::sea_query::ExprTrait::lt(day.clone(), *start),
            Expr::val((i - 1) as i32),
        );
    }
    Expr::Case(Box::new(bucket.finally(Expr::val((starts.len().max(1) - 1) as i32))))
}

/// A form's counts per bucket of `from..=to`, the buckets starting on `starts` (ascending, the
/// first at or before `from`), summed over slots and days in the database: (bucket index,
/// subject, measure, value, count), zero counts left out. Where every bucket starts on the
/// first of a month (Gregorian months, quarters, years), the whole months inside the range are
/// read from month rows and only the partial months at its ends from day rows. Times to
/// complete as [`Times::Kept`] gives them, each bucket with its median's seconds (two
/// statements: read in one snapshot).
pub async fn counts_by_bucket(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    starts: &[NaiveDate],
    (from, to): (NaiveDate, NaiveDate),
    counted: &Counted,
) -> AppResult<Vec<(usize, String, Measure, String, i64)>> {
    let monthly = starts.iter().all(|s| s.day() == 1);
    let first_full = if from.day() == 1 {
        from
    } else {
        last_of_month(from).succ_opt().unwrap_or(to)
    };
    let last_full = if to == last_of_month(to) {
        first_of_month(to)
    } else {
        first_of_month(to).pred_opt().map(first_of_month).unwrap_or(from)
    };
    let mut parts: Vec<Part> = Vec::new();
    if monthly && first_full <= last_full {
        parts.push((Grain::Month, first_full, last_full, 1));
        if let Some(before) = first_full.pred_opt() {
            parts.push((Grain::Day, from, before, 1));
        }
        if let Some(after) = last_of_month(last_full).succ_opt() {
            parts.push((Grain::Day, after, to, 1));
        }
    } else {
        parts.push((Grain::Day, from, to, 1));
    }
    parts.retain(|(_, a, b, _)| a <= b);
    let tail = tail_of(
        conn,
        form_id,
        (Some(from), Some(to)),
        counted,
        Some(starts),
        Times::Kept,
    )
    .await?;
    counts_on(conn, form_id, &parts, counted, Some(starts), Times::Kept, tail).await
}

/// Runs `parts` (each selecting bucket, subject, measure, value and a signed count) with
/// [`summed_union`]: (bucket index, subject, measure, value, count), zero counts left out.
pub async fn summed_by_bucket(
    conn: &impl ConnectionTrait,
    parts: Vec<SelectStatement>,
) -> AppResult<Vec<(usize, String, Measure, String, i64)>> {
    let summed = summed_union(conn, parts, &["bucket", "subject", "measure", "value"], |row| {
        let bucket = row.try_get_by_index::<i32>(0)?;
        let (rest, count) = counted_row(row, 1)?;
        Ok(((bucket, rest), count))
    })
    .await?;
    Ok(summed
        .into_iter()
        .filter_map(|((bucket, (subject, measure, value)), count)| {
            Some((
                usize::try_from(bucket).ok()?,
                subject,
                Measure::parse(&measure)?,
                value,
                count,
            ))
        })
        .collect())
}

/// The form's freshness stamp: it grows with every change to its responses, so a result
/// cached under an older stamp is never served again. Read from the database, a stamp cannot
/// miss a change the way a cache's invalidation message can. The changes counted in the
/// tallies and those of responses whose counts are pending, in one statement: a fold moving
/// the second into the first leaves the stamp as it was.
pub async fn stamp(conn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<i64> {
    use sea_orm::sea_query::{ExprTrait, SubQueryStatement};
    let tallied = tally::Entity::find()
        .select_only()
        .column_as(summed(), "count")
        .filter(tally::Column::FormId.eq(form_id))
        .filter(tally::Column::Grain.eq(Grain::All as i16))
        .filter(tally::Column::Day.eq(all_time()))
        .filter(tally::Column::Subject.eq(""))
        .filter(tally::Column::Measure.eq(Measure::Changes.as_str()))
        .filter(tally::Column::Value.eq(""))
        .into_query();
    let pending = pending_count::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col(pending_count::Column::Changes)),
                Alias::new("BIGINT"),
            )),
            "changes",
        )
        .filter(pending_count::Column::FormId.eq(form_id))
        .into_query();
    let scalar = |select: SelectStatement| {
        Expr::expr(Func::coalesce([
            Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(select))),
            Expr::val(0i64),
        ]))
    };
    let statement = Query::select()
        .expr_as(
            Func::cast_as(scalar(tallied).add(scalar(pending)), Alias::new("BIGINT")),
            "stamp",
        )
        .to_owned();
    let row = conn.query_one(&statement).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// Marks a response just stored as counted nowhere yet: its counts wait for a fold (one row of
/// its own, where writing the tallies would update rows every concurrent submission shares),
/// and reports add them from the stored response meanwhile. In the caller's transaction.
pub async fn mark_pending(txn: &impl ConnectionTrait, row: &response::Model) -> AppResult<()> {
    pending_count::Entity::insert(pending_row(row))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The record [`mark_pending`] writes for a response just stored.
pub fn pending_row(row: &response::Model) -> pending_count::ActiveModel {
    pending_count::ActiveModel {
        organization_id: Set(row.organization_id),
        response_id: Set(row.id),
        form_id: Set(row.form_id),
        changes: Set(1),
    }
}

/// Counts one more change of a response whose counts are pending, so the fold will count it
/// as it is now; `false` when they are in the tallies already (the caller then writes what
/// changed itself). Waits for a fold that holds the row, so it sees the fold's outcome.
pub async fn touch_pending(txn: &impl ConnectionTrait, row: &response::Model) -> AppResult<bool> {
    use sea_orm::sea_query::ExprTrait;
    let updated = pending_count::Entity::update_many()
        .col_expr(
            pending_count::Column::Changes,
            Expr::col(pending_count::Column::Changes).add(1),
        )
        .filter(pending_count::Column::OrganizationId.eq(row.organization_id))
        .filter(pending_count::Column::ResponseId.eq(row.id))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// Takes a response's counts out of the pending ones (it is being deleted), in the caller's
/// transaction: `true` when they were pending (then nothing of it is in the tallies), `false`
/// when they are in the tallies. Either way the form's stamp grows. Waits for a fold that
/// holds the row, so it sees the fold's outcome.
pub async fn take_pending(txn: &impl ConnectionTrait, row: &response::Model) -> AppResult<bool> {
    let mut select = pending_count::Entity::find()
        .filter(pending_count::Column::OrganizationId.eq(row.organization_id))
        .filter(pending_count::Column::ResponseId.eq(row.id));
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let Some(pending) = select.one(txn).await? else {
        return Ok(false);
    };
    pending_count::Entity::delete_many()
        .filter(pending_count::Column::OrganizationId.eq(row.organization_id))
        .filter(pending_count::Column::ResponseId.eq(row.id))
        .exec(txn)
        .await?;
    // Its changes move to the tallies, and one more for the deletion.
    add_changes(txn, row.form_id, i64::from(pending.changes) + 1).await?;
    Ok(true)
}

/// Adds `n` changes to a form's freshness stamp, in the caller's transaction.
async fn add_changes(txn: &impl ConnectionTrait, form_id: Uuid, n: i64) -> AppResult<()> {
    let change = (Grain::All, all_time(), String::new(), Measure::Changes, String::new());
    let slot = rand::random_range(0..SLOTS);
    upsert(txn, rows(form_id, slot, [(change, n)], &Unspread::new())).await
}

/// The responses of `form_id` whose counts are pending, as a filter over the responses.
pub fn pending_of(form_id: Uuid) -> Expr {
    use sea_orm::sea_query::ExprTrait;
    let ids = pending_count::Entity::find()
        .select_only()
        .column(pending_count::Column::ResponseId)
        .filter(pending_count::Column::FormId.eq(form_id))
        .into_query();
    Expr::col((response::Entity, response::Column::Id)).in_subquery(ids)
}

/// Whether `form_id` has at least `n` responses whose counts are pending (reads at most `n`
/// entries of the index).
pub async fn pending_at_least(conn: &impl ConnectionTrait, form_id: Uuid, n: u64) -> AppResult<bool> {
    let found: Option<Uuid> = pending_count::Entity::find()
        .select_only()
        .column(pending_count::Column::ResponseId)
        .filter(pending_count::Column::FormId.eq(form_id))
        .order_by_asc(pending_count::Column::ResponseId)
        .offset(n.saturating_sub(1))
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// Responses a fold moves into the tallies per transaction.
pub const FOLD_BATCH: u64 = 1_000;

/// The time zone `form_id` counts days in, read under a lock of the form's row (PostgreSQL;
/// SQLite has one writer): `exclusive` for a rebuild of its counts, shared for a fold, so
/// folds run beside each other but never beside a rebuild. `None` when the form is gone.
async fn locked_zone(txn: &impl ConnectionTrait, form_id: Uuid, exclusive: bool) -> AppResult<Option<Tz>> {
    let mut select = entity::form::Entity::find_by_id(form_id)
        .select_only()
        .column(entity::form::Column::OrganizationId);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = if exclusive {
            select.lock_exclusive()
        } else {
            select.lock_shared()
        };
    }
    let Some(organization_id) = select.into_tuple::<Uuid>().one(txn).await? else {
        return Ok(None);
    };
    let name: Option<String> = entity::organization::Entity::find_by_id(organization_id)
        .select_only()
        .column(entity::organization::Column::TimeZone)
        .into_tuple()
        .one(txn)
        .await?;
    Ok(Some(name.map_or(Tz::UTC, |n| zone(&n))))
}

/// Moves the counts of up to `batch` pending responses of `form_id` into the tallies, in one
/// transaction that also deletes their pending rows, so each is counted exactly once whatever
/// fails or runs beside it: the rows are locked (on PostgreSQL skipping those another fold
/// holds; SQLite has one writer), each count is written once per batch, and a response
/// deleted meanwhile is found gone. Counted in the organization's time zone as it is when
/// the fold runs. How many it folded.
pub async fn fold(db: &Db, form_id: Uuid, batch: u64) -> AppResult<u64> {
    let txn = db.begin_write().await?;
    let Some(zone) = locked_zone(&txn, form_id, false).await? else {
        txn.rollback().await?;
        return Ok(0);
    };
    // Claimed by deleting them (in this transaction: a rollback puts them back), through the
    // form's index, the oldest first: one statement whose cost does not depend on how many
    // wait (a delete by a list of ids may be planned as a scan of every pending row).
    let mut oldest = Query::select()
        .columns([pending_count::Column::OrganizationId, pending_count::Column::ResponseId])
        .from(pending_count::Entity)
        .and_where(pending_count::Column::FormId.eq(form_id))
        .order_by(pending_count::Column::ResponseId, sea_orm::Order::Asc)
        .limit(batch.max(1))
        .to_owned();
    if db.backend() == sea_orm::DbBackend::Postgres {
        oldest.lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        );
    }
    let claimed = pending_count::Entity::delete_many()
        .filter(sea_orm::sea_query::ExprTrait::in_subquery(
            Expr::tuple([
                Expr::col((pending_count::Entity, pending_count::Column::OrganizationId)),
                Expr::col((pending_count::Entity, pending_count::Column::ResponseId)),
            ]),
            oldest,
        ))
        .exec_with_returning(&txn)
        .await?;
    if claimed.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    let ids: Vec<Uuid> = claimed.iter().map(|p| p.response_id).collect();
    let mut total: BTreeMap<Key, i64> = BTreeMap::new();
    let mut fixed = Unspread::new();
    let changes = (Grain::All, all_time(), String::new(), Measure::Changes, String::new());
    for part in ids.chunks(CHUNK) {
        let responses = response::Entity::find()
            .filter(response::Column::Id.is_in(part.to_vec()))
            .all(&txn)
            .await?;
        let mut answers = answers_of(&txn, part.to_vec()).await?;
        for row in &responses {
            let entries = contribution_of(row, &answers.remove(&row.id).unwrap_or_default())?;
            fixed.extend(unspread(&entries));
            for (key, count) in counts(&entries, zone, 1) {
                if key != changes {
                    *total.entry(key).or_default() += count;
                }
            }
        }
    }
    let moved: i64 = claimed.iter().map(|p| i64::from(p.changes)).sum();
    *total.entry(changes).or_default() += moved;
    let slot = rand::random_range(0..SLOTS);
    upsert(&txn, rows(form_id, slot, total, &fixed)).await?;
    txn.commit().await?;
    Ok(claimed.len() as u64)
}

/// What a stored response contributes.
pub fn contribution_of(row: &response::Model, answers: &[crate::form::answer::Checked]) -> AppResult<Vec<Entry>> {
    Ok(contribution(
        crate::service::response::status_of(row)?,
        row.started_at,
        row.completed_at,
        row.duration_seconds,
        row.total_score,
        answers,
    ))
}

/// Recomputes a form's tallies and its responses' local completion days from its stored
/// responses, in `zone` (the freshness stamp only grows). Reads the responses a page at a time; the counts are written in one transaction.
pub async fn rebuild(db: &Db, form_id: Uuid, zone: Tz) -> AppResult<()> {
    const PAGE: u64 = 1_000;
    let txn = db.begin_write().await?;
    // No fold runs beside: the responses it would count are counted here.
    if locked_zone(&txn, form_id, true).await?.is_none() {
        txn.rollback().await?;
        return Ok(());
    }
    tally::Entity::delete_many()
        .filter(tally::Column::FormId.eq(form_id))
        .filter(tally::Column::Measure.ne(Measure::Changes.as_str()))
        .exec(&txn)
        .await?;
    // Segments count by local day and tenure: they are folded again after the rebuild.
    super::segment::reset(&txn, form_id).await?;
    let mut total: std::collections::BTreeMap<Key, i64> = std::collections::BTreeMap::new();
    let mut pending_changes = 0i64;
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = response::Entity::find()
            .filter(response::Column::FormId.eq(form_id))
            .order_by_asc(response::Column::Id)
            .limit(PAGE);
        if let Some(after) = after {
            select = select.filter(response::Column::Id.gt(after));
        }
        let page = select.all(&txn).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let mut answers = answers_of(&txn, page.iter().map(|r| r.id).collect()).await?;
        // Local completion days that moved with the zone, a statement per day.
        let mut moved: std::collections::BTreeMap<NaiveDate, Vec<Uuid>> = std::collections::BTreeMap::new();
        for row in &page {
            let day = row.completed_at.map(|at| local_day(at, zone));
            if let Some(day) = day
                && row.completed_day != Some(day)
            {
                moved.entry(day).or_default().push(row.id);
            }
        }
        for (day, ids) in moved {
            response::Entity::update_many()
                .col_expr(response::Column::CompletedDay, Expr::value(day))
                .filter(response::Column::Id.is_in(ids.clone()))
                .exec(&txn)
                .await?;
            // The attribute snapshots carry the day too (filters find them by it).
            entity::response_attribute::Entity::update_many()
                .col_expr(entity::response_attribute::Column::CompletedDay, Expr::value(day))
                .filter(entity::response_attribute::Column::OrganizationId.eq(last.organization_id))
                .filter(entity::response_attribute::Column::ResponseId.is_in(ids))
                .exec(&txn)
                .await?;
        }
        for row in &page {
            let entries = contribution_of(row, &answers.remove(&row.id).unwrap_or_default())?;
            for (key, count) in counts(&entries, zone, 1) {
                if key.3 != Measure::Changes {
                    *total.entry(key).or_default() += count;
                }
            }
        }
        // Counted now: the page's pending counts are pending no more (exactly those: a response
        // stored meanwhile and not read here stays pending, for the next fold).
        let ids: Vec<Uuid> = page.iter().map(|r| r.id).collect();
        let pending: Vec<(Uuid, i32)> = pending_count::Entity::find()
            .select_only()
            .column(pending_count::Column::ResponseId)
            .column(pending_count::Column::Changes)
            .filter(pending_count::Column::OrganizationId.eq(last.organization_id))
            .filter(pending_count::Column::ResponseId.is_in(ids))
            .into_tuple()
            .all(&txn)
            .await?;
        if !pending.is_empty() {
            pending_changes += pending.iter().map(|(_, c)| i64::from(*c)).sum::<i64>();
            pending_count::Entity::delete_many()
                .filter(pending_count::Column::OrganizationId.eq(last.organization_id))
                .filter(pending_count::Column::ResponseId.is_in(pending.into_iter().map(|(id, _)| id)))
                .exec(&txn)
                .await?;
        }
        if (page.len() as u64) < PAGE {
            break;
        }
    }
    let change = (Grain::All, all_time(), String::new(), Measure::Changes, String::new());
    total.insert(change, 1 + pending_changes);
    upsert(&txn, rows(form_id, 0, total, &Unspread::new())).await?;
    txn.commit().await?;
    Ok(())
}

/// Folds a form's counts of days before `today` (and of months before its month) from every
/// slot into slot 0, and drops the rows of those days that count nothing: past days are
/// rarely written again, so reading a period then sums one row per count instead of one per
/// slot. Every sum stays what it was (the freshness stamp does not move). Rows written to
/// those days later (a late completion, a deletion) are folded at the next run.
///
/// PostgreSQL moves the rows in one statement (the deleted rows are the ones added, whatever
/// ran meanwhile); SQLite has one writer, so a transaction of two statements is as safe.
pub async fn settle(db: &Db, form_id: Uuid, today: NaiveDate) -> AppResult<()> {
    use sea_orm::{DbBackend, Statement};
    let backend = db.backend();
    let month = first_of_month(today);
    let p = |i: usize| match backend {
        DbBackend::Postgres => format!("${i}"),
        _ => "?".to_owned(),
    };
    let past = |slots: &str| {
        format!(
            r#""form_id" = {form} AND {slots} AND (("grain" IN ({day_grain}, {exact_day}) AND "day" < {today}) OR ("grain" IN ({month_grain}, {exact_month}) AND "day" < {month}))"#,
            form = p(1),
            day_grain = Grain::Day as i16,
            exact_day = Grain::ExactDay as i16,
            month_grain = Grain::Month as i16,
            exact_month = Grain::ExactMonth as i16,
            today = p(2),
            month = p(3),
        )
    };
    let values = || -> Vec<sea_orm::Value> { vec![form_id.into(), today.into(), month.into()] };
    let columns = r#""grain", "day", "subject", "measure", "value""#;
    let add = r#"ON CONFLICT ("form_id", "grain", "day", "subject", "measure", "value", "slot")
        DO UPDATE SET "count" = "tallies"."count" + "excluded"."count""#;
    let txn = db.begin_write().await?;
    match backend {
        DbBackend::Postgres => {
            let sql = format!(
                r#"WITH "moved" AS (DELETE FROM "tallies" WHERE {past} RETURNING {columns}, "count")
                INSERT INTO "tallies" ("form_id", {columns}, "slot", "count")
                SELECT $1, {columns}, 0, CAST(SUM("count") AS BIGINT) FROM "moved" GROUP BY {columns}
                {add}"#,
                past = past(r#""slot" > 0"#),
            );
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, values()))
                .await?;
        }
        _ => {
            let sql = format!(
                r#"INSERT INTO "tallies" ("form_id", {columns}, "slot", "count")
                SELECT "form_id", {columns}, 0, SUM("count") FROM "tallies" WHERE {past}
                GROUP BY "form_id", {columns} {add}"#,
                past = past(r#""slot" > 0"#),
            );
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, values()))
                .await?;
            let sql = format!(r#"DELETE FROM "tallies" WHERE {}"#, past(r#""slot" > 0"#));
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, values()))
                .await?;
        }
    }
    let sql = format!(
        r#"DELETE FROM "tallies" WHERE {} AND "count" = 0"#,
        past(r#""slot" = 0"#)
    );
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values()))
        .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    /// How many times the parts count `day`: month parts count every day of their months.
    fn times_counted(parts: &[Part], day: NaiveDate) -> i64 {
        parts
            .iter()
            .filter(|(grain, a, b, _)| match grain {
                Grain::Month => first_of_month(day) >= *a && first_of_month(day) <= *b,
                _ => day >= *a && day <= *b,
            })
            .map(|p| p.3)
            .sum()
    }

    #[test]
    fn the_parts_of_a_range_count_each_of_its_days_once_and_no_other() {
        let mut rng = StdRng::seed_from_u64(16);
        let origin = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut took_away = 0;
        for _ in 0..2_000 {
            let from = origin + chrono::Duration::days(rng.random_range(0..700));
            let to = from + chrono::Duration::days(rng.random_range(0..200));
            let (from, to) = match rng.random_range(0..6) {
                0 => (None, Some(to)),
                1 => (Some(from), None),
                _ => (Some(from), Some(to)),
            };
            let parts = period_parts(from, to);
            took_away += parts.iter().filter(|p| p.3 < 0).count();
            // An open end adds no part of days no response can have (past the last day).
            let last = bounds().1;
            assert!(
                parts
                    .iter()
                    .all(|(grain, a, _, _)| *grain != Grain::Day || *a < first_of_month(last)),
                "{from:?}..{to:?}: {parts:?}"
            );
            // Months past one part of a month are read whole, so at most a month of days.
            let day_rows: i64 = parts
                .iter()
                .filter(|p| p.0 == Grain::Day)
                .map(|(_, a, b, _)| (*b - *a).num_days() + 1)
                .sum();
            assert!(day_rows <= 2 * (15 + MONTH_IN_DAYS), "{from:?}..{to:?}: {parts:?}");
            let window = (
                origin - chrono::Duration::days(40),
                origin + chrono::Duration::days(960),
            );
            let mut day = window.0;
            while day <= window.1 {
                let inside = from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t);
                assert_eq!(
                    times_counted(&parts, day),
                    i64::from(inside),
                    "{day} in {from:?}..{to:?}: {parts:?}"
                );
                day = day.succ_opt().unwrap();
            }
        }
        assert!(took_away > 100, "ranges taking days away from a month: {took_away}");
    }
}
