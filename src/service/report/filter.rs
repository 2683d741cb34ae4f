//! Report filters as SQL, and a form's counts over the responses a filter selects.
//!
//! A filter is a condition of the logic language (see `logic::expr`), checked against the form
//! and the attribute catalogue first (`logic::check::check_filter`). [`compile`] turns it into
//! one SQL condition on the `responses` row: answers and chosen options become correlated
//! `EXISTS` subqueries, attribute snapshots an `IN` over the form's snapshots (with the bounds
//! the filter puts on the completion day), the response's own fields its columns. Each piece is
//! two-valued (never NULL), so `NOT` means what the condition evaluator means, and the
//! responses selected are exactly those for which `logic::eval::holds` is true (a property
//! test holds the two together on both backends).
//!
//! [`counts`] then computes, with aggregate SQL over the selected responses (nothing is loaded
//! into the server), the same counts the tallies keep, so the same pure `figures` code makes
//! the report: a filtered report and the unfiltered one can never disagree on a definition.
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{answer, answer_choice, response, response_attribute};
use sea_orm::{
    ConnectionTrait, FromQueryResult,
    sea_query::{Alias, Expr as Sql, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

use super::Period;
use crate::{
    error::{AppError, AppResult},
    form::{kind::QuestionKind, model::FormDef, response::ResponseStatus},
    logic::{
        check::{Catalogue, Scalar},
        expr::{CompareOp, Expr, Operand, ResponseField, SetOp, Value},
    },
    report::{
        figures::Counts,
        tally::{Measure, OTHER, number_text},
    },
};

/// How an operand's value is stored: one value in a column, or a set of chosen options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Number,
    Text,
    Bool,
    Date,
    Choices,
}

/// Where an operand's value lives.
enum Source {
    /// A column of the response row (NULL: absent). `finished`: the column has a value only
    /// once the response is completed or disqualified, so a test on it also names those
    /// statuses, which lets the database read the responses' status and day index.
    Column { col: Sql, finished: bool },
    /// The answer row with this key (absent: no row).
    Answer(String),
    /// The attribute snapshot row with this name (absent: no row, or no value of its type).
    Attribute(String),
}

fn responses_col(col: response::Column) -> Sql {
    Sql::col((response::Entity, col))
}

fn answer_alias() -> Alias {
    Alias::new("fa")
}

fn choice_alias() -> Alias {
    Alias::new("fc")
}

fn attribute_alias() -> Alias {
    Alias::new("fr")
}

/// The answer rows of the filtered response with `key`.
fn answer_rows(key: &str) -> SelectStatement {
    let a = answer_alias();
    Query::select()
        .expr(Sql::val(1))
        .from_as(answer::Entity, a.clone())
        .and_where(Sql::col((a.clone(), answer::Column::ResponseId)).equals((response::Entity, response::Column::Id)))
        .and_where(Sql::col((a, answer::Column::QuestionKey)).eq(key))
        .to_owned()
}

/// The chosen options of the filtered response's answer to `key`.
fn choice_rows(key: &str) -> SelectStatement {
    let c = choice_alias();
    Query::select()
        .expr(Sql::val(1))
        .from_as(answer_choice::Entity, c.clone())
        .and_where(
            Sql::col((c.clone(), answer_choice::Column::ResponseId)).equals((response::Entity, response::Column::Id)),
        )
        .and_where(Sql::col((c, answer_choice::Column::QuestionKey)).eq(key))
        .to_owned()
}

fn choice_value() -> Sql {
    Sql::col((choice_alias(), answer_choice::Column::Value))
}

fn attribute_column(shape: Shape) -> response_attribute::Column {
    match shape {
        Shape::Number => response_attribute::Column::NumberValue,
        Shape::Bool => response_attribute::Column::BoolValue,
        Shape::Date => response_attribute::Column::DateValue,
        Shape::Text | Shape::Choices => response_attribute::Column::TextValue,
    }
}

fn answer_column(shape: Shape) -> Sql {
    let a = answer_alias();
    match shape {
        Shape::Number => Sql::col((a, answer::Column::NumberValue)),
        Shape::Bool => Sql::col((a, answer::Column::BoolValue)),
        Shape::Date => Sql::col((a, answer::Column::DateValue)),
        // An answer without text (erased) reads as an empty text, as the evaluator reads it.
        Shape::Text | Shape::Choices => Sql::col((a, answer::Column::TextValue)).if_null(""),
    }
}

/// The snapshots of `form_id`'s responses named `name` that hold a value of `shape`'s type,
/// on the days `days` allows, with `test` on the value column: the responses they belong to
/// (a subquery of response ids). Uncorrelated, so either backend may read it first from the
/// snapshots' index (form, name, text value, day, response) and look the responses up, or
/// check each response against it, whichever its planner finds cheaper.
fn attribute_ids(form_id: Uuid, name: &str, shape: Shape, days: Days, test: Option<Sql>) -> SelectStatement {
    let r = attribute_alias();
    let col = |c: response_attribute::Column| Sql::col((r.clone(), c));
    let mut select = Query::select()
        .expr(col(response_attribute::Column::ResponseId))
        .from_as(response_attribute::Entity, r.clone())
        .and_where(col(response_attribute::Column::FormId).eq(form_id))
        .and_where(col(response_attribute::Column::Name).eq(name))
        .and_where(col(attribute_column(shape)).is_not_null())
        .to_owned();
    if let Some(test) = test {
        select.and_where(test);
    }
    // A snapshot carries its response's completion day: the bounds the rest of the filter
    // puts on that day hold for the snapshot too.
    if let Some(from) = days.from {
        select.and_where(col(response_attribute::Column::CompletedDay).gte(from));
    }
    if let Some(to) = days.to {
        select.and_where(col(response_attribute::Column::CompletedDay).lte(to));
    }
    select
}

/// Whether the response is one of `ids`.
fn response_in(ids: SelectStatement) -> Sql {
    responses_col(response::Column::Id).in_subquery(ids)
}

/// Bounds on the local completion day that hold wherever a part of a filter is evaluated: a
/// conjunction's `completed_on` comparisons hold for each of its parts, so any part may add
/// them to its own condition without changing what the whole selects (under a condition `D`,
/// `B` and `B AND D` agree, inside `OR` and `NOT` alike).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct Days {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Days {
    /// These bounds narrowed to `from..=to` (either open).
    fn within(self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Days {
        let pick = |a: Option<NaiveDate>, b: Option<NaiveDate>, f: fn(NaiveDate, NaiveDate) -> NaiveDate| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        Days {
            from: pick(self.from, from, Ord::max),
            to: pick(self.to, to, Ord::min),
        }
    }

    /// These bounds and those `part` (a conjunct) puts on the completion day.
    fn and(self, part: &Expr) -> Days {
        match part {
            // A conjunction inside a conjunction.
            Expr::And(children) => children.iter().fold(self, |days, c| days.and(c)),
            _ => match day_term(part) {
                Some((from, to)) => self.within(from, to),
                None => self,
            },
        }
    }
}

/// Local completion days from..=to, either open.
pub type DayBounds = (Option<NaiveDate>, Option<NaiveDate>);

/// Both bounds at once: the days within `a` and `b`.
pub fn narrowed(a: DayBounds, b: DayBounds) -> DayBounds {
    let days = Days { from: a.0, to: a.1 }.within(b.0, b.1);
    (days.from, days.to)
}

/// The completion days `part` selects, when it is exactly a bound on them (`completed_on`
/// compared with a day by `=`, `<`, `<=`, `>`, `>=`, or `BETWEEN` two days): (from, to), either
/// open. `None` for anything else, a `!=` and a bound past the last representable day among
/// them, so that a filter made of such parts selects exactly the responses completed in them.
pub fn day_term(part: &Expr) -> Option<DayBounds> {
    let on_day = |subject: &Operand| matches!(subject, Operand::Response(ResponseField::CompletedOn));
    match part {
        Expr::Compare {
            subject,
            op,
            value: Value::Date(day),
        } if on_day(subject) => match op {
            CompareOp::Eq => Some((Some(*day), Some(*day))),
            CompareOp::Ge => Some((Some(*day), None)),
            CompareOp::Gt => Some((Some(day.succ_opt()?), None)),
            CompareOp::Le => Some((None, Some(*day))),
            CompareOp::Lt => Some((None, Some(day.pred_opt()?))),
            CompareOp::Ne => None,
        },
        Expr::Between {
            subject,
            low: Value::Date(low),
            high: Value::Date(high),
        } if on_day(subject) => Some((Some(*low), Some(*high))),
        _ => None,
    }
}

fn value_sql(value: &Value) -> Sql {
    match value {
        Value::Number(n) => Sql::val(*n),
        Value::Text(t) => Sql::val(t.clone()),
        Value::Bool(b) => Sql::val(*b),
        Value::Date(d) => Sql::val(*d),
    }
}

fn all_of(parts: Vec<Sql>) -> Sql {
    parts
        .into_iter()
        .reduce(|a, b| a.and(b))
        .unwrap_or_else(|| Sql::val(true))
}

fn any_of(parts: Vec<Sql>) -> Sql {
    parts
        .into_iter()
        .reduce(|a, b| a.or(b))
        .unwrap_or_else(|| Sql::val(false))
}

/// Whether the response row's column has a value.
fn column_present(col: &Sql, finished: bool) -> Sql {
    let present = col.clone().is_not_null();
    if finished {
        let statuses = [ResponseStatus::Completed, ResponseStatus::Disqualified];
        responses_col(response::Column::Status)
            .is_in(statuses.iter().map(|s| s.as_str()))
            .and(present)
    } else {
        present
    }
}

/// Where a part of a filter is compiled: for which form, under which day bounds.
#[derive(Clone, Copy)]
struct Scope {
    form_id: Uuid,
    days: Days,
}

/// Whether the filtered response has the operand at all.
fn present(scope: Scope, source: &Source, shape: Shape) -> Sql {
    match source {
        Source::Column { col, finished } => column_present(col, *finished),
        Source::Answer(key) => Sql::exists(answer_rows(key)),
        Source::Attribute(name) => response_in(attribute_ids(scope.form_id, name, shape, scope.days, None)),
    }
}

/// Whether the operand is present and its value satisfies `test` (given the value's column).
fn holds_on(scope: Scope, source: &Source, shape: Shape, test: impl Fn(Sql) -> Sql) -> Sql {
    match source {
        Source::Column { col, finished } => column_present(col, *finished).and(test(col.clone())),
        Source::Answer(key) => Sql::exists(answer_rows(key).and_where(test(answer_column(shape))).to_owned()),
        Source::Attribute(name) => {
            let col = Sql::col((attribute_alias(), attribute_column(shape)));
            response_in(attribute_ids(scope.form_id, name, shape, scope.days, Some(test(col))))
        }
    }
}

fn compare(col: Sql, op: CompareOp, value: &Value) -> Sql {
    let v = value_sql(value);
    match op {
        CompareOp::Eq => col.eq(v),
        CompareOp::Ne => col.ne(v),
        CompareOp::Lt => col.lt(v),
        CompareOp::Le => col.lte(v),
        CompareOp::Gt => col.gt(v),
        CompareOp::Ge => col.gte(v),
    }
}

/// How many options the filtered response chose for `key`.
fn chosen_count(key: &str) -> Sql {
    let c = choice_alias();
    let counted = Query::select()
        .expr(Sql::col((c.clone(), answer_choice::Column::Value)).count())
        .from_as(answer_choice::Entity, c.clone())
        .and_where(
            Sql::col((c.clone(), answer_choice::Column::ResponseId)).equals((response::Entity, response::Column::Id)),
        )
        .and_where(Sql::col((c, answer_choice::Column::QuestionKey)).eq(key))
        .to_owned();
    Sql::SubQuery(
        None,
        Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(counted)),
    )
}

fn chose(key: &str, values: &[String]) -> Sql {
    Sql::exists(
        choice_rows(key)
            .and_where(choice_value().is_in(values.iter().cloned()))
            .to_owned(),
    )
}

fn texts(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| match v {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// What the compiler knows of the form and the organization.
pub struct Types<'a> {
    /// The form whose responses are filtered.
    pub form_id: Uuid,
    pub def: &'a FormDef,
    pub catalogue: &'a Catalogue,
}

impl Types<'_> {
    fn operand(&self, operand: &Operand) -> AppResult<(Source, Shape)> {
        let unknown = || AppError::Internal(format!("a checked filter reads an unknown {operand}"));
        Ok(match operand {
            Operand::Answer(key) => {
                let question = self.def.questions().find(|q| q.key == *key).ok_or_else(unknown)?;
                let kind = question.rules.kind();
                let shape = if kind.has_options() {
                    Shape::Choices
                } else {
                    match kind {
                        QuestionKind::Nps
                        | QuestionKind::Csat
                        | QuestionKind::Ces
                        | QuestionKind::Rating
                        | QuestionKind::Number => Shape::Number,
                        QuestionKind::YesNo => Shape::Bool,
                        QuestionKind::Date => Shape::Date,
                        _ => Shape::Text,
                    }
                };
                (Source::Answer(key.clone()), shape)
            }
            Operand::Hidden(key) => (Source::Answer(key.clone()), Shape::Text),
            Operand::Attribute(name) => {
                let shape = match self.catalogue.get(name).ok_or_else(unknown)? {
                    Scalar::Text => Shape::Text,
                    Scalar::Number => Shape::Number,
                    Scalar::Bool => Shape::Bool,
                    Scalar::Date => Shape::Date,
                };
                (Source::Attribute(name.clone()), shape)
            }
            Operand::Response(field) => {
                let (col, shape) = match field {
                    ResponseField::Channel => (response::Column::Channel, Shape::Text),
                    ResponseField::Locale => (response::Column::Locale, Shape::Text),
                    ResponseField::Status => (response::Column::Status, Shape::Text),
                    ResponseField::CompletedOn => (response::Column::CompletedDay, Shape::Date),
                    ResponseField::Duration => (response::Column::DurationSeconds, Shape::Number),
                    ResponseField::TotalScore => (response::Column::TotalScore, Shape::Number),
                };
                let finished = matches!(field, ResponseField::CompletedOn | ResponseField::Duration);
                (
                    Source::Column {
                        col: responses_col(col),
                        finished,
                    },
                    shape,
                )
            }
        })
    }
}

/// The SQL condition on a `responses` row that holds exactly when `expr` holds for the
/// response (its answers, attribute snapshot, hidden fields and own fields). `expr` must have
/// passed `check_filter` against `types`.
pub fn compile(expr: &Expr, types: &Types) -> AppResult<Sql> {
    let scope = Scope {
        form_id: types.form_id,
        days: Days::default(),
    };
    compile_in(expr, types, scope)
}

fn compile_in(expr: &Expr, types: &Types, scope: Scope) -> AppResult<Sql> {
    Ok(match expr {
        Expr::And(children) => {
            let inner = Scope {
                days: scope.days.and(expr),
                ..scope
            };
            all_of(
                children
                    .iter()
                    .map(|c| compile_in(c, types, inner))
                    .collect::<AppResult<_>>()?,
            )
        }
        Expr::Or(children) => any_of(
            children
                .iter()
                .map(|c| compile_in(c, types, scope))
                .collect::<AppResult<_>>()?,
        ),
        Expr::Not(inner) => compile_in(inner, types, scope)?.not(),
        Expr::Answered { subject, answered } => {
            let (source, shape) = types.operand(subject)?;
            let here = present(scope, &source, shape);
            if *answered { here } else { here.not() }
        }
        Expr::Compare { subject, op, value } => {
            let (source, shape) = types.operand(subject)?;
            match (&source, shape) {
                (Source::Answer(key), Shape::Choices) => {
                    let Value::Text(v) = value else {
                        return Err(AppError::Internal("a choice compared with a non-text".into()));
                    };
                    let exactly = chose(key, std::slice::from_ref(v)).and(chosen_count(key).eq(1));
                    match op {
                        CompareOp::Eq => exactly,
                        CompareOp::Ne => present(scope, &source, shape).and(exactly.not()),
                        _ => return Err(AppError::Internal("a choice compared by order".into())),
                    }
                }
                _ => holds_on(scope, &source, shape, |col| compare(col, *op, value)),
            }
        }
        Expr::Between { subject, low, high } => {
            let (source, shape) = types.operand(subject)?;
            holds_on(scope, &source, shape, |col| {
                col.clone().gte(value_sql(low)).and(col.lte(value_sql(high)))
            })
        }
        Expr::Contains { subject, op, values } => {
            let (source, shape) = types.operand(subject)?;
            let wanted = texts(values);
            match (&source, shape) {
                (Source::Answer(key), Shape::Choices) => match op {
                    SetOp::ContainsAny => chose(key, &wanted),
                    SetOp::ContainsAll => all_of(wanted.iter().map(|w| chose(key, std::slice::from_ref(w))).collect()),
                    SetOp::ContainsNone => present(scope, &source, shape).and(chose(key, &wanted).not()),
                },
                // A text is a set of one value.
                _ => match op {
                    SetOp::ContainsAny => holds_on(scope, &source, shape, |col| col.is_in(wanted.clone())),
                    SetOp::ContainsAll => holds_on(scope, &source, shape, |col| {
                        all_of(wanted.iter().map(|w| col.clone().eq(w.clone())).collect())
                    }),
                    SetOp::ContainsNone => holds_on(scope, &source, shape, |col| col.is_not_in(wanted.clone())),
                },
            }
        }
    })
}

/// The UTC instants a period of local days in `zone` starts and ends at (end exclusive).
pub fn instants(period: Period, zone: Tz) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let midnight = |day: NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(zone).earliest())
            .map(|t| t.to_utc())
    };
    (
        period.from.and_then(midnight),
        period.to.and_then(|d| d.succ_opt()).and_then(midnight),
    )
}

/// The responses of `form_id` that `filter` selects.
fn selected(form_id: Uuid, filter: &Sql) -> SelectStatement {
    Query::select()
        .from(response::Entity)
        .and_where(responses_col(response::Column::FormId).eq(form_id))
        .and_where(filter.clone())
        .to_owned()
}

/// A column of the selected responses (the `sel` table of [`grouped_counts`]).
fn sel(name: &str) -> Sql {
    Sql::col((Alias::new("sel"), Alias::new(name)))
}

/// Finished (`statuses`) on a local day of `period`, reading columns with `col`.
fn finished_in(col: impl Fn(response::Column) -> Sql, period: Period, statuses: &[ResponseStatus]) -> Sql {
    let mut parts = vec![col(response::Column::Status).is_in(statuses.iter().map(|s| s.as_str()))];
    if let Some(from) = period.from {
        parts.push(col(response::Column::CompletedDay).gte(from));
    }
    if let Some(to) = period.to {
        parts.push(col(response::Column::CompletedDay).lte(to));
    }
    all_of(parts)
}

/// Started in `period` (local days in `zone`), reading columns with `col`.
fn started_in(col: impl Fn(response::Column) -> Sql, period: Period, zone: Tz) -> Sql {
    let (from, until) = instants(period, zone);
    let mut parts = Vec::new();
    if let Some(from) = from {
        parts.push(col(response::Column::StartedAt).gte(from));
    }
    if let Some(until) = until {
        parts.push(col(response::Column::StartedAt).lt(until));
    }
    all_of(parts)
}

/// A column of the selected responses by the response column it copies.
fn sel_of(col: response::Column) -> Sql {
    sel(match col {
        response::Column::Status => "status",
        response::Column::StartedAt => "started_at",
        response::Column::CompletedDay => "completed_day",
        response::Column::DurationSeconds => "duration_seconds",
        _ => "total_score",
    })
}

/// One row of [`grouped_counts`]' statement: a count of one part, in one group.
#[derive(FromQueryResult)]
struct Row {
    /// Which part: see the `PART_*` constants.
    part: i32,
    grp: Option<String>,
    /// The status (responses), the question's key (answers, options).
    key: Option<String>,
    /// The answer's kind; the chosen option (options); the group by completion (responses).
    kind: Option<String>,
    /// The answer's number; the time to complete or total score.
    number: Option<f64>,
    score: Option<f64>,
    flag: Option<bool>,
    /// Whether the answer has a text (1) or not (0).
    texted: i32,
    /// The rows counted; of the responses, those started in the period.
    count: i64,
    /// Of the responses, those finished in the period (0 in other parts).
    finished: i64,
}

const PART_RESPONSES: i32 = 0;
const PART_DURATION: i32 = 2;
const PART_TOTAL: i32 = 3;
const PART_ANSWERS: i32 = 4;
const PART_OPTIONS: i32 = 5;

/// A NULL of an SQL type every backend reads alike (a part's unused column).
fn null_of(sql_type: &str) -> Sql {
    Sql::cust(format!("CAST(NULL AS {sql_type})"))
}

/// A part of the statement: `part`'s rows from `select` (its tables and conditions), grouped
/// by the columns `set` names; the other columns `Row` reads are NULLs (0 for `texted`).
/// `counts`: what `count` and `finished` hold (default: the rows, and 0).
fn part_of(mut select: SelectStatement, part: i32, set: &[(&str, Sql)], counts: Option<(Sql, Sql)>) -> SelectStatement {
    select.expr_as(Sql::cust(part.to_string()), Alias::new("part"));
    for (column, sql_type) in [
        ("grp", "TEXT"),
        ("key", "TEXT"),
        ("kind", "TEXT"),
        ("number", "DOUBLE PRECISION"),
        ("score", "DOUBLE PRECISION"),
        ("flag", "BOOLEAN"),
        ("texted", ""),
    ] {
        match set.iter().find(|(name, _)| *name == column) {
            Some((_, expr)) => {
                select.expr_as(expr.clone(), Alias::new(column));
                select.add_group_by([expr.clone()]);
            }
            None if sql_type.is_empty() => {
                select.expr_as(Sql::cust("0"), Alias::new(column));
            }
            None => {
                select.expr_as(null_of(sql_type), Alias::new(column));
            }
        }
    }
    let (count, finished) = counts.unwrap_or_else(|| (count_all(), Sql::cust("0").cast_as(Alias::new("BIGINT"))));
    select.expr_as(count, Alias::new("count"));
    select.expr_as(finished, Alias::new("finished"));
    select
}

/// How many rows of a group `condition` holds for, as a 64-bit integer.
fn count_where(condition: Sql) -> Sql {
    let one = sea_orm::sea_query::CaseStatement::new()
        .case(condition, Sql::cust("1"))
        .finally(Sql::cust("0"));
    Sql::from(sea_orm::sea_query::Func::sum(Sql::Case(Box::new(one)))).cast_as(Alias::new("BIGINT"))
}

/// A count as a 64-bit integer on every backend.
fn count_all() -> Sql {
    Sql::cust("COUNT(*)").cast_as(Alias::new("BIGINT"))
}

/// How responses are split into groups (a breakdown's values, a series' buckets): a key per
/// response, as text, read where a response counts by its start (started, finished) and where
/// it counts by its completion (everything else). A response without a key counts in the
/// group `None`; a response with several (the options of a multiple choice) in each.
pub struct Grouping {
    /// Joined to the responses (left join) to read the key from: table, alias, condition.
    pub join: Option<(sea_orm::sea_query::TableRef, Alias, Sql)>,
    /// The key where the response counts by its start.
    pub by_start: Sql,
    /// The key where the response counts by its completion.
    pub by_finish: Sql,
}

impl Grouping {
    /// By the buckets starting on `starts` (ascending; the first takes every day before the
    /// second), of local days in `zone`: the bucket's index as the key.
    pub fn buckets(starts: &[NaiveDate], zone: Tz) -> Grouping {
        let bounds = starts.get(1..).unwrap_or_default();
        let instants: Vec<Sql> = bounds
            .iter()
            .map(|s| {
                let (at, _) = instants(
                    Period {
                        from: Some(*s),
                        to: None,
                    },
                    zone,
                );
                Sql::val(at)
            })
            .collect();
        let days: Vec<Sql> = bounds.iter().map(|s| Sql::val(*s)).collect();
        Grouping {
            join: None,
            by_start: band_index(Sql::col((response::Entity, response::Column::StartedAt)), instants),
            by_finish: band_index(Sql::col((response::Entity, response::Column::CompletedDay)), days),
        }
    }
}

/// A CASE giving the index (as text) of the first bound `value` is below, else the last
/// index; NULL stays NULL.
pub fn band_index(value: Sql, bounds: Vec<Sql>) -> Sql {
    let mut case = sea_orm::sea_query::CaseStatement::new().case(value.clone().is_null(), Sql::cust("NULL"));
    let last = bounds.len();
    for (i, bound) in bounds.into_iter().enumerate() {
        case = case.case(value.clone().lt(bound), Sql::val(i.to_string()));
    }
    Sql::Case(Box::new(case.finally(Sql::val(last.to_string()))))
}

/// The counts the tallies would hold for the responses of `form_id` that `filter` selects,
/// over `period` (local days in `zone`): started, finished by outcome on their start day,
/// completed and disqualified, durations, total scores, and per question answered, values and
/// scores of completed responses.
pub async fn counts(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    filter: Option<&Sql>,
    period: Period,
    zone: Tz,
    counted: &super::Counted,
) -> AppResult<Counts> {
    Ok(grouped_counts(conn, form_id, filter, period, zone, None, counted)
        .await?
        .into_values()
        .next()
        .unwrap_or_default())
}

/// [`counts`] split by `grouping` (all in one group `None` without one); only the questions
/// `counted.keys` are counted (every one without keys).
///
/// One statement: the filter is evaluated once, over the form's responses started or finished
/// in the period (a materialized `sel` table with each response's group keys; without a
/// filter, PostgreSQL joins `sel` inline as it sees fit), and every part reads `sel`: the responses by status, times and total scores, one grouped pass over the
/// answers (answered, values, "other" texts and scores all come from it) and one over the
/// chosen options.
pub async fn grouped_counts(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    filter: Option<&Sql>,
    period: Period,
    zone: Tz,
    grouping: Option<&Grouping>,
    counted: &super::Counted,
) -> AppResult<std::collections::BTreeMap<Option<String>, Counts>> {
    let keys = counted.keys.as_deref();
    let every = !counted.numbers_only;
    let finishing = [ResponseStatus::Completed, ResponseStatus::Disqualified];
    let completed = [ResponseStatus::Completed];

    // The selected responses in the period, each with its group keys.
    let mut chosen = selected(form_id, filter.unwrap_or(&Sql::val(true)));
    for (col, name) in [
        (response::Column::Id, "id"),
        (response::Column::Status, "status"),
        (response::Column::StartedAt, "started_at"),
        (response::Column::CompletedDay, "completed_day"),
        (response::Column::DurationSeconds, "duration_seconds"),
        (response::Column::TotalScore, "total_score"),
    ] {
        chosen.expr_as(responses_col(col), Alias::new(name));
    }
    match grouping {
        Some(grouping) => {
            if let Some((table, alias, on)) = &grouping.join {
                chosen.join_as(
                    sea_orm::sea_query::JoinType::LeftJoin,
                    table.clone(),
                    alias.clone(),
                    on.clone(),
                );
            }
            chosen.expr_as(grouping.by_start.clone(), Alias::new("gs"));
            chosen.expr_as(grouping.by_finish.clone(), Alias::new("gf"));
        }
        None => {
            chosen.expr_as(null_of("TEXT"), Alias::new("gs"));
            chosen.expr_as(null_of("TEXT"), Alias::new("gf"));
        }
    }
    if period.from.is_some() || period.to.is_some() {
        chosen.and_where(started_in(responses_col, period, zone).or(finished_in(responses_col, period, &finishing)));
    }
    let from_sel = || Query::select().from(Alias::new("sel")).to_owned();

    // The responses by status, in one pass: those started in the period (by the group of
    // their start; how they finished) and those finished in it (by the group of their end).
    let mut statement = part_of(
        from_sel(),
        PART_RESPONSES,
        &[("grp", sel("gs")), ("kind", sel("gf")), ("key", sel("status"))],
        Some((
            count_where(started_in(sel_of, period, zone)),
            count_where(finished_in(sel_of, period, &finishing)),
        )),
    );
    // Times to complete and total scores of completed responses.
    if counted.times {
        for (name, part) in [("duration_seconds", PART_DURATION), ("total_score", PART_TOTAL)] {
            let mut select = from_sel();
            select
                .and_where(finished_in(sel_of, period, &completed))
                .and_where(sel(name).is_not_null());
            let number = sel(name).cast_as(Alias::new("DOUBLE PRECISION"));
            let select = part_of(select, part, &[("grp", sel("gf")), ("number", number)], None);
            statement.union(sea_orm::sea_query::UnionType::All, select);
        }
    }
    let backend = conn.get_database_backend();
    // The selected responses drive the passes over answers and options: SQLite takes the left
    // table of a CROSS JOIN (its condition in the WHERE clause) as the outer loop, where it
    // would otherwise skip-scan every answer of the form in a question's index (a report of a
    // few questions) and look each up in `sel`. PostgreSQL plans an inner join freely.
    let joined = |select: &mut SelectStatement, table: sea_orm::sea_query::TableRef, alias: Alias, on: Sql| {
        use sea_orm::sea_query::JoinType;
        match backend {
            // A cross join ignores the condition given here: it goes to the WHERE clause.
            sea_orm::DbBackend::Sqlite => {
                select
                    .join_as(JoinType::CrossJoin, table, alias, on.clone())
                    .and_where(on);
            }
            _ => {
                select.join_as(JoinType::InnerJoin, table, alias, on);
            }
        }
    };
    if !keys.is_some_and(|k| k.is_empty()) {
        // Answers of completed responses: one pass, grouped by everything a count reads.
        let a = Alias::new("ca");
        let col = |c: answer::Column| Sql::col((a.clone(), c));
        let mut answers = from_sel();
        joined(
            &mut answers,
            sea_orm::sea_query::IntoTableRef::into_table_ref(answer::Entity),
            a.clone(),
            col(answer::Column::ResponseId).equals((Alias::new("sel"), Alias::new("id"))),
        );
        answers
            .and_where(finished_in(sel_of, period, &completed))
            .and_where(col(answer::Column::Kind).ne(QuestionKind::Hidden.as_str()));
        if let Some(keys) = keys {
            answers.and_where(col(answer::Column::QuestionKey).is_in(keys.iter().cloned()));
        }
        if !every {
            // Only the numbers of questions without options.
            answers.and_where(col(answer::Column::NumberValue).is_not_null());
        }
        let texted = Sql::cust(r#"CASE WHEN "ca"."text_value" IS NULL THEN 0 ELSE 1 END"#);
        let mut set = vec![
            ("grp", sel("gf")),
            ("key", col(answer::Column::QuestionKey)),
            ("kind", col(answer::Column::Kind)),
            ("number", col(answer::Column::NumberValue)),
        ];
        if every {
            set.extend([
                ("score", col(answer::Column::Score)),
                ("flag", col(answer::Column::BoolValue)),
                ("texted", texted),
            ]);
        }
        statement.union(
            sea_orm::sea_query::UnionType::All,
            part_of(answers, PART_ANSWERS, &set, None),
        );
        // Chosen options of completed responses.
        if every {
            let c = Alias::new("cc");
            let col = |x: answer_choice::Column| Sql::col((c.clone(), x));
            let mut options = from_sel();
            joined(
                &mut options,
                sea_orm::sea_query::IntoTableRef::into_table_ref(answer_choice::Entity),
                c.clone(),
                col(answer_choice::Column::ResponseId).equals((Alias::new("sel"), Alias::new("id"))),
            );
            options.and_where(finished_in(sel_of, period, &completed));
            if let Some(keys) = keys {
                options.and_where(col(answer_choice::Column::QuestionKey).is_in(keys.iter().cloned()));
            }
            let set = [
                ("grp", sel("gf")),
                ("key", col(answer_choice::Column::QuestionKey)),
                ("kind", col(answer_choice::Column::Value)),
            ];
            statement.union(
                sea_orm::sea_query::UnionType::All,
                part_of(options, PART_OPTIONS, &set, None),
            );
        }
    }
    let mut cte = sea_orm::sea_query::CommonTableExpression::from_select(chosen);
    // PostgreSQL plans the joins of an unfiltered `sel` better inline (hash joins over the
    // form's rows); SQLite, joining by nested loops, gains from computing it once either way.
    cte.table_name(Alias::new("sel"))
        .materialized(filter.is_some() || backend == sea_orm::DbBackend::Sqlite);
    let with = sea_orm::sea_query::WithClause::new().cte(cte).to_owned();
    let built = backend.build(&statement.with(with));
    let rows = Row::find_by_statement(built).all(conn).await?;

    let mut out: std::collections::BTreeMap<Option<String>, Counts> = std::collections::BTreeMap::new();
    for row in rows {
        let key = row.key.unwrap_or_default();
        if row.part == PART_RESPONSES {
            if row.count > 0 {
                let counts = out.entry(row.grp).or_default();
                counts.push((String::new(), Measure::Started, String::new(), row.count));
                if key != ResponseStatus::InProgress.as_str() {
                    counts.push((String::new(), Measure::Finished, key.clone(), row.count));
                }
            }
            if row.finished > 0 {
                let measure = if key == ResponseStatus::Completed.as_str() {
                    Measure::Completed
                } else {
                    Measure::Disqualified
                };
                out.entry(row.kind)
                    .or_default()
                    .push((String::new(), measure, String::new(), row.finished));
            }
            continue;
        }
        let counts = out.entry(row.grp).or_default();
        let n = row.count;
        match row.part {
            PART_DURATION => {
                if let Some(seconds) = row.number {
                    counts.push((String::new(), Measure::Duration, (seconds as i64).to_string(), n));
                }
            }
            PART_TOTAL => {
                if let Some(total) = row.number {
                    counts.push((String::new(), Measure::TotalScore, number_text(total), n));
                }
            }
            PART_ANSWERS => {
                let Some(kind) = row.kind.as_deref().and_then(QuestionKind::parse) else {
                    continue;
                };
                if every && !crate::report::tally::single_valued(kind) {
                    counts.push((key.clone(), Measure::Answered, String::new(), n));
                }
                if kind.has_options() {
                    // "Other, please specify" texts of choice questions.
                    if every && row.texted != 0 {
                        counts.push((key.clone(), Measure::Value, OTHER.to_owned(), n));
                    }
                } else if let Some(number) = row.number {
                    counts.push((key.clone(), Measure::Value, number_text(number), n));
                } else if let Some(flag) = row.flag.filter(|_| every) {
                    counts.push((key.clone(), Measure::Value, flag.to_string(), n));
                }
                if let Some(score) = row.score.filter(|_| every) {
                    counts.push((key, Measure::Score, number_text(score), n));
                }
            }
            PART_OPTIONS => {
                if let Some(value) = row.kind {
                    counts.push((key, Measure::Value, value, n));
                }
            }
            _ => {}
        }
    }
    Ok(out.into_iter().map(|(g, counts)| (g, merge(counts))).collect())
}

/// Counts with equal (subject, measure, value) summed: one entry each.
pub fn merge(counts: Counts) -> Counts {
    let mut summed: HashMap<(String, Measure, String), i64> = HashMap::new();
    for (subject, measure, value, count) in counts {
        *summed.entry((subject, measure, value)).or_default() += count;
    }
    summed
        .into_iter()
        .map(|((subject, measure, value), count)| (subject, measure, value, count))
        .collect()
}

/// A query of the ids of the responses of `form_id` that `filter` selects (a subquery).
pub fn selected_ids_query(form_id: Uuid, filter: &Sql) -> SelectStatement {
    selected(form_id, filter)
        .column((response::Entity, response::Column::Id))
        .to_owned()
}

/// The ids of the responses of `form_id` that `filter` selects, in id order.
pub async fn selected_ids(conn: &impl ConnectionTrait, form_id: Uuid, filter: &Sql) -> AppResult<Vec<Uuid>> {
    #[derive(FromQueryResult)]
    struct Row {
        id: Uuid,
    }
    let mut select = selected(form_id, filter);
    select
        .column((response::Entity, response::Column::Id))
        .order_by((response::Entity, response::Column::Id), sea_orm::Order::Asc);
    let statement = conn.get_database_backend().build(&select);
    Ok(Row::find_by_statement(statement)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// What a filter reads of stored responses, by response: their answers and hidden fields,
/// the attribute snapshot and their own fields, as the condition evaluator takes them.
pub async fn facts_of(
    conn: &impl ConnectionTrait,
    rows: &[response::Model],
) -> AppResult<HashMap<Uuid, crate::logic::eval::Facts>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut answers = crate::service::response::answers_of(conn, ids.clone()).await?;
    let mut snapshots = match rows.first() {
        Some(first) => snapshots_of(conn, first.organization_id, &ids).await?,
        None => HashMap::new(),
    };
    let mut out = HashMap::new();
    for row in rows {
        let mut facts = crate::service::response::rules::facts(
            &answers.remove(&row.id).unwrap_or_default(),
            snapshots.remove(&row.id).unwrap_or_default(),
        );
        let own = [
            (ResponseField::Channel, Some(Value::Text(row.channel.clone()))),
            (ResponseField::Locale, row.locale.clone().map(Value::Text)),
            (ResponseField::Status, Some(Value::Text(row.status.clone()))),
            (ResponseField::CompletedOn, row.completed_day.map(Value::Date)),
            (
                ResponseField::Duration,
                row.duration_seconds.map(|s| Value::Number(f64::from(s))),
            ),
            (ResponseField::TotalScore, row.total_score.map(Value::Number)),
        ];
        facts.response = own.into_iter().filter_map(|(f, v)| Some((f, v?))).collect();
        out.insert(row.id, facts);
    }
    Ok(out)
}

/// The attribute snapshots of responses of one organization (the values their respondents
/// had at completion), by response.
pub async fn snapshots_of(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<(String, Value)>>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut out: HashMap<Uuid, Vec<(String, Value)>> = HashMap::new();
    for part in ids.chunks(500) {
        let found = response_attribute::Entity::find()
            .filter(response_attribute::Column::OrganizationId.eq(organization_id))
            .filter(response_attribute::Column::ResponseId.is_in(part.to_vec()))
            .all(conn)
            .await?;
        for row in found {
            let value = if let Some(t) = row.text_value {
                Value::Text(t)
            } else if let Some(n) = row.number_value {
                Value::Number(n)
            } else if let Some(b) = row.bool_value {
                Value::Bool(b)
            } else if let Some(d) = row.date_value {
                Value::Date(d)
            } else {
                continue;
            };
            out.entry(row.response_id).or_default().push((row.name, value));
        }
    }
    Ok(out)
}
