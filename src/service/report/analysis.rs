//! A form's report split up: over time (series in the Gregorian or Persian calendar) and by a
//! dimension (breakdowns by an answer, an attribute as it was, tenure, channel, locale or a
//! hidden field). Each part's counts are gathered the way a report's are (the tallies'
//! day rows for an unfiltered series; aggregate SQL grouped by the part otherwise) and made
//! into figures by the same `figures` code, cached under the form's freshness stamp.
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{answer, answer_choice, form, response, response_attribute};
use sea_orm::{
    ConnectionTrait, DbBackend,
    sea_query::{Alias, Expr as Sql, ExprTrait},
};

use super::{
    Counted, Filter, Need, Part, Period, Reads, cached,
    filter::{self, Grouping},
    segment, tally, version_of, zone_of,
};
use crate::{
    error::{AppError, AppResult},
    form::{kind::QuestionKind, model::FormDef},
    logic::{check::Scalar, expr::ResponseField},
    report::{
        calendar::{self, Bucket, Calendar, Interval},
        figures::{Counts, FormFigures, figures},
        segment as segment_model,
        tally::{Measure, number_text},
    },
};

/// Most buckets in one series.
pub const MAX_BUCKETS: usize = 400;
/// Most groups a breakdown lists before folding the rest into one.
pub const MAX_GROUPS: usize = 50;
/// Most band boundaries.
pub const MAX_BANDS: usize = 20;

/// A form's current definition and freshness stamp, or an empty one.
async fn current(state: &Reads<'_>, form: &form::Model) -> AppResult<(String, Arc<FormDef>, i64)> {
    let conn = state.db.conn();
    let stamp = super::fresh_stamp(state, form.id).await?;
    Ok(match version_of(conn, state.versions, form).await? {
        Some((version, def)) => (version.to_string(), def, stamp),
        None => (
            String::new(),
            Arc::new(FormDef::new(Vec::new(), Default::default())),
            stamp,
        ),
    })
}

/// Computes under `key` (cached unless the form is a draft, which changes without a stamp).
async fn parts<F, Fut>(state: &Reads<'_>, form: &form::Model, key: String, compute: F) -> AppResult<Arc<Vec<Part>>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<Vec<Part>>>,
{
    if form.published_version_id.is_none() {
        return Ok(Arc::new(compute().await?));
    }
    cached(state, key, compute).await
}

fn filter_key(filter: Option<&Filter>) -> String {
    filter.map_or(String::new(), Filter::key)
}

/// The SQL condition of a filter, if there is one.
async fn condition(
    conn: &impl ConnectionTrait,
    state: &Reads<'_>,
    form: &form::Model,
    filter: Option<&Filter>,
) -> AppResult<Option<Sql>> {
    match filter {
        Some(f) => Ok(Some(f.sql(conn, state.versions, form).await?)),
        None => Ok(None),
    }
}

/// A series' figures per bucket of `from..=to`.
#[allow(clippy::too_many_arguments)]
pub async fn series(
    state: &Reads<'_>,
    form: &form::Model,
    from: NaiveDate,
    to: NaiveDate,
    filter: Option<&Filter>,
    interval: Interval,
    calendar: Calendar,
    need: &Need,
) -> AppResult<Vec<(Bucket, FormFigures)>> {
    let buckets = calendar::buckets(from, to, interval, calendar);
    if buckets.len() > MAX_BUCKETS {
        return Err(AppError::bad_input(
            "period",
            format!(
                "{} buckets: at most {MAX_BUCKETS} (choose a longer interval or a shorter period)",
                buckets.len()
            ),
        ));
    }
    let (version, def, stamp) = current(state, form).await?;
    let key = format!(
        "series:2:{}:{version}:{from}:{to}:{interval:?}:{calendar:?}:{stamp}:{}:{}",
        form.id,
        filter_key(filter),
        need.key_part()
    );
    let counted = need.counted(&def);
    let starts: Vec<NaiveDate> = buckets.iter().map(|b| b.start).collect();
    let computed = parts(state, form, key, || async {
        // One snapshot: counts folded by segment and the responses not folded yet agree.
        let snapshot = state.db.begin_read().await?;
        let conn = &snapshot;
        let mut per_bucket: Vec<Counts> = vec![Vec::new(); buckets.len()];
        match filter {
            None => {
                for (i, subject, measure, value, count) in
                    tally::counts_by_bucket(conn, form.id, &starts, (from, to), &counted).await?
                {
                    if let Some(bucket) = per_bucket.get_mut(i) {
                        bucket.push((subject, measure, value, count));
                    }
                }
            }
            Some(f) => {
                let zone = zone_of(conn, form).await?;
                let grouping = Grouping::buckets(&starts, zone);
                let mut sql = condition(conn, state, form, filter).await?;
                let mut tail = true;
                if let Some((dimension, values)) = f
                    .segment()
                    .filter(|(dimension, _)| !counted.times || segment_model::daily(dimension))
                {
                    // One segment's folded counts, and the responses not folded yet (all of
                    // them when the form keeps no segments of the attribute).
                    if let Some(folded) = segment::folded_by_bucket(
                        conn,
                        form.organization_id,
                        form.id,
                        &dimension,
                        &values,
                        &starts,
                        (from, to),
                        &counted,
                    )
                    .await?
                    {
                        for (i, subject, measure, value, count) in folded {
                            if let Some(bucket) = per_bucket.get_mut(i) {
                                bucket.push((subject, measure, value, count));
                            }
                        }
                        sql = sql.map(|s| s.and(segment::unfolded(conn.get_database_backend())));
                        tail = segment::any_unfolded(conn, form.id).await?;
                    }
                }
                let period = Period {
                    from: Some(from),
                    to: Some(to),
                };
                let rest = if tail {
                    filter::grouped_counts(conn, form.id, sql.as_ref(), period, zone, Some(&grouping), &counted).await?
                } else {
                    Default::default()
                };
                for (key, counts) in rest {
                    if let Some(i) = key.and_then(|k| k.parse::<usize>().ok())
                        && i < per_bucket.len()
                    {
                        per_bucket[i].extend(counts);
                    }
                }
            }
        }
        snapshot.commit().await?;
        Ok(buckets
            .iter()
            .zip(per_bucket)
            .map(|(b, counts)| Part {
                key: Some(b.label.clone()),
                figures: figures(&def, &filter::merge(counts)),
            })
            .collect())
    })
    .await?;
    Ok(buckets
        .into_iter()
        .zip(computed.iter().map(|p| p.figures.clone()))
        .collect())
}

/// What a breakdown splits responses by.
#[derive(Clone, Debug, PartialEq)]
pub enum Dimension {
    /// The answer to a question: each option (a multiple choice counts a response in each
    /// option it chose), each value, or bands of a number or scale.
    Answer { key: String, bands: Vec<f64> },
    /// A respondent attribute as it was at completion: each value, or bands of a number.
    Attribute { name: String, bands: Vec<f64> },
    /// Tenure at completion: the time from a date attribute (e.g. customer since) to the
    /// completion day, in bands of months.
    Tenure { attribute: String, months: Vec<u32> },
    /// A field of the response: channel, locale or status.
    Response(ResponseField),
    /// A hidden field's value.
    Hidden(String),
}

/// What a breakdown group holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, async_graphql::Enum)]
pub enum GroupKind {
    /// Responses with this value (or in this band).
    Value,
    /// Responses without a value (unanswered, no attribute, in progress).
    None,
    /// The smaller groups past the limit, folded together.
    Other,
}

/// One group of a breakdown.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub kind: GroupKind,
    /// The value (an option, a number, `true`/`false`, a channel…); for bands, their label.
    pub value: Option<String>,
    /// A band's bounds: `low ≤ x < high` (either open).
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub figures: FormFigures,
}

fn check_bands(bands: &[f64], field: &str) -> AppResult<()> {
    if bands.len() > MAX_BANDS {
        return Err(AppError::bad_input(field, format!("at most {MAX_BANDS} bounds")));
    }
    if bands.iter().any(|b| !b.is_finite()) || bands.windows(2).any(|w| w[0] >= w[1]) {
        return Err(AppError::bad_input(
            field,
            "bounds are finite numbers in increasing order",
        ));
    }
    Ok(())
}

/// The SQL key of a dimension and how to read a key back: (grouping, value of a key, band
/// bounds by index).
struct Keyed {
    grouping: Grouping,
    /// Band bounds (the groups are band indexes) or none (the groups are values).
    bands: Option<Vec<f64>>,
    /// Turns a key as the database returned it into the value's text.
    normalize: fn(&str) -> String,
}

fn as_text(key: &str) -> String {
    key.to_owned()
}

fn as_number(key: &str) -> String {
    key.parse::<f64>().map(number_text).unwrap_or_else(|_| key.to_owned())
}

fn as_bool(key: &str) -> String {
    match key {
        "1" | "true" | "t" => "true".to_owned(),
        "0" | "false" | "f" => "false".to_owned(),
        other => other.to_owned(),
    }
}

fn text_of(value: Sql) -> Sql {
    value.cast_as(Alias::new("TEXT"))
}

fn keyed(
    backend: DbBackend,
    def: &FormDef,
    catalogue: &std::collections::HashMap<String, Scalar>,
    dimension: &Dimension,
) -> AppResult<Keyed> {
    let g = Alias::new("bg");
    let same = |key: Sql| (key.clone(), key);
    let answers_on = |key: &str| {
        Sql::col((g.clone(), answer::Column::ResponseId))
            .equals((response::Entity, response::Column::Id))
            .and(Sql::col((g.clone(), answer::Column::QuestionKey)).eq(key))
    };
    let attribute_on = |name: &str| {
        Sql::col((g.clone(), response_attribute::Column::OrganizationId))
            .equals((response::Entity, response::Column::OrganizationId))
            .and(
                Sql::col((g.clone(), response_attribute::Column::ResponseId))
                    .equals((response::Entity, response::Column::Id)),
            )
            .and(Sql::col((g.clone(), response_attribute::Column::Name)).eq(name))
    };
    let banded = |value: Sql, bands: &[f64]| filter::band_index(value, bands.iter().map(|b| Sql::val(*b)).collect());
    Ok(match dimension {
        Dimension::Answer { key, bands } => {
            check_bands(bands, "by.answer.bands")?;
            let question = def
                .questions()
                .find(|q| q.key == *key && q.rules.kind() != QuestionKind::Hidden)
                .ok_or_else(|| AppError::bad_input("by.answer.key", format!("the form has no question `{key}`")))?;
            let kind = question.rules.kind();
            if kind.has_options() {
                if !bands.is_empty() {
                    return Err(AppError::bad_input(
                        "by.answer.bands",
                        "bands are for numbers and scales",
                    ));
                }
                let (by_start, by_finish) = same(Sql::col((g.clone(), answer_choice::Column::Value)));
                Keyed {
                    grouping: Grouping {
                        join: Some((answer_choice::Entity.into(), g.clone(), answers_on(key))),
                        by_start,
                        by_finish,
                    },
                    bands: None,
                    normalize: as_text,
                }
            } else {
                let numeric = matches!(
                    kind,
                    QuestionKind::Nps
                        | QuestionKind::Csat
                        | QuestionKind::Ces
                        | QuestionKind::Rating
                        | QuestionKind::Number
                );
                if !bands.is_empty() && !numeric {
                    return Err(AppError::bad_input(
                        "by.answer.bands",
                        "bands are for numbers and scales",
                    ));
                }
                let (column, normalize): (answer::Column, fn(&str) -> String) = match kind {
                    _ if numeric => (answer::Column::NumberValue, as_number),
                    QuestionKind::YesNo => (answer::Column::BoolValue, as_bool),
                    QuestionKind::Date => (answer::Column::DateValue, as_text),
                    _ => (answer::Column::TextValue, as_text),
                };
                let value = Sql::col((g.clone(), column));
                let key_sql = if bands.is_empty() {
                    text_of(value)
                } else {
                    banded(value, bands)
                };
                let (by_start, by_finish) = same(key_sql);
                Keyed {
                    grouping: Grouping {
                        join: Some((answer::Entity.into(), g.clone(), answers_on(key))),
                        by_start,
                        by_finish,
                    },
                    bands: (!bands.is_empty()).then(|| bands.clone()),
                    normalize,
                }
            }
        }
        Dimension::Hidden(key) => {
            def.questions()
                .find(|q| q.key == *key && q.rules.kind() == QuestionKind::Hidden)
                .ok_or_else(|| AppError::bad_input("by.hidden", format!("the form has no hidden field `{key}`")))?;
            let (by_start, by_finish) = same(Sql::col((g.clone(), answer::Column::TextValue)));
            Keyed {
                grouping: Grouping {
                    join: Some((answer::Entity.into(), g.clone(), answers_on(key))),
                    by_start,
                    by_finish,
                },
                bands: None,
                normalize: as_text,
            }
        }
        Dimension::Attribute { name, bands } => {
            check_bands(bands, "by.attribute.bands")?;
            let scalar = catalogue.get(name).ok_or_else(|| {
                AppError::bad_input("by.attribute.name", format!("the attribute catalogue has no `{name}`"))
            })?;
            if !bands.is_empty() && *scalar != Scalar::Number {
                return Err(AppError::bad_input(
                    "by.attribute.bands",
                    "bands are for number attributes",
                ));
            }
            let (column, normalize): (response_attribute::Column, fn(&str) -> String) = match scalar {
                Scalar::Text => (response_attribute::Column::TextValue, as_text),
                Scalar::Number => (response_attribute::Column::NumberValue, as_number),
                Scalar::Bool => (response_attribute::Column::BoolValue, as_bool),
                Scalar::Date => (response_attribute::Column::DateValue, as_text),
            };
            let value = Sql::col((g.clone(), column));
            let key_sql = if bands.is_empty() {
                text_of(value)
            } else {
                banded(value, bands)
            };
            let (by_start, by_finish) = same(key_sql);
            Keyed {
                grouping: Grouping {
                    join: Some((response_attribute::Entity.into(), g.clone(), attribute_on(name))),
                    by_start,
                    by_finish,
                },
                bands: (!bands.is_empty()).then(|| bands.clone()),
                normalize,
            }
        }
        Dimension::Tenure { attribute, months } => {
            if catalogue.get(attribute) != Some(&Scalar::Date) {
                return Err(AppError::bad_input(
                    "by.tenure.attribute",
                    format!("`{attribute}` is not a date attribute of the catalogue"),
                ));
            }
            let bounds: Vec<f64> = months.iter().map(|m| f64::from(*m)).collect();
            if months.is_empty() {
                return Err(AppError::bad_input("by.tenure.months", "at least one bound"));
            }
            check_bands(&bounds, "by.tenure.months")?;
            let days = match backend {
                DbBackend::Postgres => Sql::cust(r#"("responses"."completed_day" - "bg"."date_value")"#),
                _ => Sql::cust(
                    r#"CAST(julianday("responses"."completed_day") - julianday("bg"."date_value") AS INTEGER)"#,
                ),
            };
            let day_bounds: Vec<Sql> = months
                .iter()
                .map(|m| Sql::val(crate::report::segment::tenure_days(i64::from(*m))))
                .collect();
            let key_sql = filter::band_index(days, day_bounds);
            let (by_start, by_finish) = same(key_sql);
            Keyed {
                grouping: Grouping {
                    join: Some((response_attribute::Entity.into(), g.clone(), attribute_on(attribute))),
                    by_start,
                    by_finish,
                },
                bands: Some(bounds),
                normalize: as_text,
            }
        }
        Dimension::Response(field) => {
            let column = match field {
                ResponseField::Channel => response::Column::Channel,
                ResponseField::Locale => response::Column::Locale,
                ResponseField::Status => response::Column::Status,
                _ => {
                    return Err(AppError::bad_input(
                        "by.response",
                        "a breakdown by a response field is by CHANNEL, LOCALE or STATUS",
                    ));
                }
            };
            let (by_start, by_finish) = same(Sql::col((response::Entity, column)));
            Keyed {
                grouping: Grouping {
                    join: None,
                    by_start,
                    by_finish,
                },
                bands: None,
                normalize: as_text,
            }
        }
    })
}

/// The folded dimension that answers a breakdown, if one does: (dimension, tenure bounds in
/// months). An unfiltered breakdown by a text or boolean attribute's values, or by tenure
/// when it does not ask for times to complete or total scores (which tenure segments do not
/// count).
fn folded_dimension(
    dimension: &Dimension,
    catalogue: &std::collections::HashMap<String, Scalar>,
    filter: Option<&Filter>,
    counted: &Counted,
) -> Option<(String, Option<Vec<u32>>)> {
    if filter.is_some() {
        return None;
    }
    let (name, tenure) = match dimension {
        Dimension::Attribute { name, bands }
            if bands.is_empty() && matches!(catalogue.get(name), Some(Scalar::Text | Scalar::Bool)) =>
        {
            (segment_model::attribute_dimension(name), None)
        }
        Dimension::Tenure { attribute, months } => (segment_model::tenure_dimension(attribute), Some(months.clone())),
        _ => return None,
    };
    (!counted.times || segment_model::daily(&name)).then_some((name, tenure))
}

/// A breakdown's counts by group from the folded segments, the responses not folded yet and
/// the tallies (the responses in no segment: the tallies less every group), all read through
/// `conn` (one snapshot), and whether so many responses were not folded yet that a fold should
/// run; `None` when the period needs day rows the dimension does not keep.
async fn by_segment(
    conn: &impl ConnectionTrait,
    form: &form::Model,
    (zone, period): (chrono_tz::Tz, Period),
    grouping: &Grouping,
    (dimension, tenure): (&str, Option<&[u32]>),
    counted: &Counted,
) -> AppResult<Option<(std::collections::BTreeMap<Option<String>, Counts>, bool)>> {
    let Some(folded) =
        segment::folded_counts(conn, form.organization_id, form.id, dimension, None, period, counted).await?
    else {
        return Ok(None);
    };
    let mut groups: std::collections::BTreeMap<Option<String>, Counts> = std::collections::BTreeMap::new();
    for (value, counts) in folded {
        let key = match tenure {
            Some(bounds) => match value.parse::<i64>() {
                Ok(months) => segment_model::band_of(months, bounds).to_string(),
                Err(_) => continue,
            },
            None => value,
        };
        groups.entry(Some(key)).or_default().extend(counts);
    }
    let tail = segment::unfolded(conn.get_database_backend());
    let rest = if segment::any_unfolded(conn, form.id).await? {
        filter::grouped_counts(conn, form.id, Some(&tail), period, zone, Some(grouping), counted).await?
    } else {
        Default::default()
    };
    let mut unfolded = 0;
    for (key, counts) in rest {
        unfolded += counts
            .iter()
            .filter(|(s, m, _, _)| s.is_empty() && matches!(m, Measure::Completed | Measure::Disqualified))
            .map(|c| c.3)
            .sum::<i64>();
        // Finished responses without the attribute are in the rest, with those in progress.
        if key.is_some() {
            groups.entry(key).or_default().extend(counts);
        }
    }
    let mut groups: std::collections::BTreeMap<Option<String>, Counts> = groups
        .into_iter()
        .map(|(key, counts)| {
            (
                key,
                filter::merge(counts)
                    .into_iter()
                    .filter(|c| c.3 != 0)
                    .collect::<Counts>(),
            )
        })
        .filter(|(_, counts)| !counts.is_empty())
        .collect();
    // Exact times: the groups' are subtracted from them.
    let total = tally::counts_between(conn, form.id, (period.from, period.to), counted, tally::Times::Exact).await?;
    let rest = segment::rest_of(total, groups.values());
    if !rest.is_empty() {
        groups.insert(None, rest);
    }
    Ok(Some((groups, unfolded >= segment::FOLD_AT)))
}

/// Asks for a fold of a form's finished responses into its counts by segment (a durable job,
/// once however often asked) and wakes the runner.
async fn ask_fold(state: &Reads<'_>, form: &form::Model) -> AppResult<()> {
    let now = state.clock.now();
    crate::service::job::ensure(
        state.db.conn(),
        now,
        now,
        form.organization_id,
        crate::service::job::Kind::FoldSegments,
        form.id,
    )
    .await?;
    state.jobs.wake();
    Ok(())
}

/// A band's label: `< 7`, `7 to < 9`, `≥ 9` (with a unit after the numbers, if any).
fn band_label(low: Option<f64>, high: Option<f64>, unit: &str) -> String {
    let n = |v: f64| number_text(v);
    match (low, high) {
        (None, Some(h)) => format!("< {}{unit}", n(h)),
        (Some(l), Some(h)) => format!("{} to < {}{unit}", n(l), n(h)),
        (Some(l), None) => format!("≥ {}{unit}", n(l)),
        (None, None) => "all".to_owned(),
    }
}

/// A breakdown of a form's report over `period`: a group per value of `dimension` (or band),
/// the largest `limit` groups first (by completed responses), the rest folded into one group.
pub async fn breakdown(
    state: &Reads<'_>,
    form: &form::Model,
    period: Period,
    filter: Option<&Filter>,
    dimension: &Dimension,
    limit: usize,
    need: &Need,
) -> AppResult<Vec<Group>> {
    if limit == 0 || limit > MAX_GROUPS {
        return Err(AppError::bad_input("limit", format!("1 to {MAX_GROUPS}")));
    }
    let conn = state.db.conn();
    let (version, def, stamp) = current(state, form).await?;
    let catalogue = super::super::attribute::catalogue(conn, form.organization_id).await?;
    let keyed = keyed(state.db.backend(), &def, &catalogue, dimension)?;
    let key = format!(
        "breakdown:2:{}:{version}:{}:{}:{dimension:?}:{limit}:{stamp}:{}:{}",
        form.id,
        period.from.map_or(String::new(), |d| d.to_string()),
        period.to.map_or(String::new(), |d| d.to_string()),
        filter_key(filter),
        need.key_part()
    );
    let counted = need.counted(&def);
    let normalize = keyed.normalize;
    let banded = keyed.bands.is_some();
    let folded = folded_dimension(dimension, &catalogue, filter, &counted);
    let computed = parts(state, form, key, || async {
        // One snapshot: counts folded by segment, the responses not folded yet and the
        // tallies agree.
        let snapshot = state.db.begin_read().await?;
        let conn = &snapshot;
        let zone = zone_of(conn, form).await?;
        let from_segments = match &folded {
            Some((name, tenure)) => {
                by_segment(
                    conn,
                    form,
                    (zone, period),
                    &keyed.grouping,
                    (name, tenure.as_deref()),
                    &counted,
                )
                .await?
            }
            None => None,
        };
        let fold_wanted = from_segments.as_ref().is_some_and(|(_, wanted)| *wanted);
        let grouped = match from_segments.map(|(groups, _)| groups) {
            Some(grouped) => grouped,
            None => {
                let sql = condition(conn, state, form, filter).await?;
                filter::grouped_counts(
                    conn,
                    form.id,
                    sql.as_ref(),
                    period,
                    zone,
                    Some(&keyed.grouping),
                    &counted,
                )
                .await?
            }
        };
        snapshot.commit().await?;
        if fold_wanted {
            ask_fold(state, form).await?;
        }
        // Keys that differ only in how the database spelled them are one group.
        let mut merged: std::collections::BTreeMap<Option<String>, Counts> = std::collections::BTreeMap::new();
        for (key, counts) in grouped {
            merged.entry(key.map(|k| normalize(&k))).or_default().extend(counts);
        }
        let completed = |counts: &Counts| -> i64 {
            counts
                .iter()
                .filter(|(s, m, _, _)| s.is_empty() && *m == Measure::Completed)
                .map(|c| c.3)
                .sum()
        };
        let mut groups: Vec<(Option<String>, Counts)> = merged.into_iter().collect();
        if banded {
            // Bands in their order, then the responses without a value.
            groups.sort_by_key(|(k, _)| (k.is_none(), k.as_deref().and_then(|k| k.parse::<usize>().ok())));
        } else {
            groups.sort_by(|(ka, a), (kb, b)| completed(b).cmp(&completed(a)).then_with(|| ka.cmp(kb)));
        }
        let mut parts: Vec<Part> = Vec::new();
        let mut rest: Counts = Vec::new();
        for (i, (key, counts)) in groups.into_iter().enumerate() {
            if i < limit {
                parts.push(Part {
                    // "v:" a value, "n" no value, "o" the rest.
                    key: Some(key.map_or_else(|| "n".to_owned(), |k| format!("v:{k}"))),
                    figures: figures(&def, &filter::merge(counts)),
                });
            } else {
                rest.extend(counts);
            }
        }
        if !rest.is_empty() {
            parts.push(Part {
                key: Some("o".to_owned()),
                figures: figures(&def, &filter::merge(rest)),
            });
        }
        Ok(parts)
    })
    .await?;
    let unit = if matches!(dimension, Dimension::Tenure { .. }) {
        " months"
    } else {
        ""
    };
    Ok(computed
        .iter()
        .map(|part| {
            let key = part.key.as_deref().unwrap_or("n");
            let (kind, value, low, high) = match (key.strip_prefix("v:"), &keyed.bands) {
                (Some(k), Some(bands)) => {
                    let i = k.parse::<usize>().unwrap_or(0);
                    let low = i.checked_sub(1).and_then(|j| bands.get(j)).copied();
                    let high = bands.get(i).copied();
                    (GroupKind::Value, Some(band_label(low, high, unit)), low, high)
                }
                (Some(k), None) => (GroupKind::Value, Some(k.to_owned()), None, None),
                (None, _) if key == "o" => (GroupKind::Other, None, None, None),
                (None, _) => (GroupKind::None, None, None, None),
            };
            Group {
                kind,
                value,
                low,
                high,
                figures: part.figures.clone(),
            }
        })
        .collect())
}

/// Most forms a touchpoint's report combines.
pub const MAX_JOURNEY_FORMS: usize = 200;

/// The published forms of a touchpoint (every published form without one), oldest first.
pub async fn journey_forms(
    state: &Reads<'_>,
    tenant: crate::auth::Tenant,
    touchpoint: Option<&str>,
) -> AppResult<Vec<form::Model>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut select = form::Entity::find()
        .filter(form::Column::OrganizationId.eq(tenant.organization_id))
        .filter(form::Column::PublishedVersionId.is_not_null())
        .order_by_asc(form::Column::Id)
        .limit(MAX_JOURNEY_FORMS as u64 + 1);
    if let Some(touchpoint) = touchpoint {
        select = select.filter(form::Column::Touchpoint.eq(touchpoint.trim()));
    }
    let forms = select.all(state.db.conn()).await?;
    if forms.len() > MAX_JOURNEY_FORMS {
        return Err(AppError::bad_input(
            "touchpoint",
            format!("more than {MAX_JOURNEY_FORMS} published forms: name a touchpoint"),
        ));
    }
    Ok(forms)
}

/// The touchpoints of the organization's forms, in order.
pub async fn touchpoints(state: &Reads<'_>, tenant: crate::auth::Tenant) -> AppResult<Vec<String>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let names: Vec<Option<String>> = form::Entity::find()
        .select_only()
        .column(form::Column::Touchpoint)
        .distinct()
        .filter(form::Column::OrganizationId.eq(tenant.organization_id))
        .filter(form::Column::Touchpoint.is_not_null())
        .order_by_asc(form::Column::Touchpoint)
        .into_tuple()
        .all(state.db.conn())
        .await?;
    Ok(names.into_iter().flatten().collect())
}

/// Where responses that were not completed stopped, for one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropOff {
    pub key: String,
    /// Responses in progress whose path showed the question up to where they stopped.
    pub reached: u64,
    /// Of those, the ones that answered it.
    pub answered: u64,
    /// Responses whose last answer came just before it: they stopped here.
    pub stopped: u64,
}

/// Where the responses still in progress stopped: for each response started in `period` (and
/// selected by `filter`) and neither completed nor disqualified, its path is evaluated on its
/// answers; the question after its last answered one on that path is where it stopped, every
/// question up to there was reached. Reads the responses a page at a time. Also returns how
/// many responses were examined, and how many answered everything their path shows so far.
pub async fn drop_off(
    state: &Reads<'_>,
    form: &form::Model,
    period: Period,
    filter: Option<&Filter>,
) -> AppResult<(Vec<DropOff>, u64, u64)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    const PAGE: u64 = 1_000;
    let conn = state.db.conn();
    let zone = zone_of(conn, form).await?;
    let (from, until) = filter::instants(period, zone);
    let sql = condition(conn, state, form, filter)
        .await?
        .unwrap_or_else(|| Sql::val(true));
    let (_, current_def, _) = current(state, form).await?;
    let mut order: Vec<String> = current_def
        .questions()
        .filter(|q| q.rules.kind() != QuestionKind::Hidden)
        .map(|q| q.key.clone())
        .collect();
    let mut counts: std::collections::HashMap<String, DropOff> = std::collections::HashMap::new();
    let (mut examined, mut at_end) = (0u64, 0u64);
    let mut after: Option<uuid::Uuid> = None;
    loop {
        let mut select = response::Entity::find()
            .filter(response::Column::FormId.eq(form.id))
            .filter(response::Column::Status.eq(crate::form::response::ResponseStatus::InProgress.as_str()))
            .filter(sql.clone())
            .order_by_asc(response::Column::Id)
            .limit(PAGE);
        if let Some(from) = from {
            select = select.filter(response::Column::StartedAt.gte(from));
        }
        if let Some(until) = until {
            select = select.filter(response::Column::StartedAt.lt(until));
        }
        if let Some(after) = after {
            select = select.filter(response::Column::Id.gt(after));
        }
        let rows = select.all(conn).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        let facts = filter::facts_of(conn, &rows).await?;
        for row in &rows {
            let def = state.versions.get(conn, form.id, row.version_id, "formId").await?;
            let Some(facts) = facts.get(&row.id) else { continue };
            let evaluation = crate::logic::path::evaluate(&def, facts);
            let hidden: std::collections::HashSet<&str> = def
                .questions()
                .filter(|q| q.rules.kind() == QuestionKind::Hidden)
                .map(|q| q.key.as_str())
                .collect();
            let visible: Vec<&str> = evaluation
                .visible_keys(&def)
                .into_iter()
                .filter(|k| !hidden.contains(k))
                .collect();
            let answered = |k: &str| facts.answers.contains_key(k);
            let stop = visible.iter().rposition(|k| answered(k)).map_or(0, |i| i + 1);
            examined += 1;
            let reached = if stop < visible.len() { stop + 1 } else { visible.len() };
            if stop >= visible.len() {
                at_end += 1;
            }
            for (i, key) in visible.iter().take(reached).enumerate() {
                if !order.iter().any(|k| k == key) {
                    order.push((*key).to_owned());
                }
                let entry = counts.entry((*key).to_owned()).or_insert_with(|| DropOff {
                    key: (*key).to_owned(),
                    reached: 0,
                    answered: 0,
                    stopped: 0,
                });
                entry.reached += 1;
                if answered(key) {
                    entry.answered += 1;
                }
                if i == stop {
                    entry.stopped += 1;
                }
            }
        }
        if (rows.len() as u64) < PAGE {
            break;
        }
    }
    let out = order
        .into_iter()
        .map(|key| {
            counts.remove(&key).unwrap_or(DropOff {
                key,
                reached: 0,
                answered: 0,
                stopped: 0,
            })
        })
        .collect();
    Ok((out, examined, at_end))
}
