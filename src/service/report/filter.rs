//! Report filters as SQL, and a form's counts over the responses a filter selects.
//!
//! A filter is a condition of the logic language (see `logic::expr`), checked against the form
//! and the attribute catalogue first (`logic::check::check_filter`). [`compile`] turns it into
//! one SQL condition on the `responses` row: answers, chosen options and attribute snapshots
//! become correlated `EXISTS` subqueries, the response's own fields its columns. Each piece is
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
    /// A column of the response row (NULL: absent).
    Column(Sql),
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

/// The attribute snapshot rows of the filtered response named `name` that hold a value of
/// `shape`'s type.
fn attribute_rows(name: &str, shape: Shape) -> SelectStatement {
    let r = attribute_alias();
    Query::select()
        .expr(Sql::val(1))
        .from_as(response_attribute::Entity, r.clone())
        .and_where(
            Sql::col((r.clone(), response_attribute::Column::OrganizationId))
                .equals((response::Entity, response::Column::OrganizationId)),
        )
        .and_where(
            Sql::col((r.clone(), response_attribute::Column::ResponseId))
                .equals((response::Entity, response::Column::Id)),
        )
        .and_where(Sql::col((r.clone(), response_attribute::Column::Name)).eq(name))
        .and_where(Sql::col((r, attribute_column(shape))).is_not_null())
        .to_owned()
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

/// Whether the filtered response has the operand at all.
fn present(source: &Source, shape: Shape) -> Sql {
    match source {
        Source::Column(col) => col.clone().is_not_null(),
        Source::Answer(key) => Sql::exists(answer_rows(key)),
        Source::Attribute(name) => Sql::exists(attribute_rows(name, shape)),
    }
}

/// Whether the operand is present and its value satisfies `test` (given the value's column).
fn holds_on(source: &Source, shape: Shape, test: impl Fn(Sql) -> Sql) -> Sql {
    match source {
        Source::Column(col) => col.clone().is_not_null().and(test(col.clone())),
        Source::Answer(key) => Sql::exists(answer_rows(key).and_where(test(answer_column(shape))).to_owned()),
        Source::Attribute(name) => {
            let col = Sql::col((attribute_alias(), attribute_column(shape)));
            Sql::exists(attribute_rows(name, shape).and_where(test(col)).to_owned())
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
                (Source::Column(responses_col(col)), shape)
            }
        })
    }
}

/// The SQL condition on a `responses` row that holds exactly when `expr` holds for the
/// response (its answers, attribute snapshot, hidden fields and own fields). `expr` must have
/// passed `check_filter` against `types`.
pub fn compile(expr: &Expr, types: &Types) -> AppResult<Sql> {
    Ok(match expr {
        Expr::And(children) => all_of(children.iter().map(|c| compile(c, types)).collect::<AppResult<_>>()?),
        Expr::Or(children) => any_of(children.iter().map(|c| compile(c, types)).collect::<AppResult<_>>()?),
        Expr::Not(inner) => compile(inner, types)?.not(),
        Expr::Answered { subject, answered } => {
            let (source, shape) = types.operand(subject)?;
            let here = present(&source, shape);
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
                        CompareOp::Ne => present(&source, shape).and(exactly.not()),
                        _ => return Err(AppError::Internal("a choice compared by order".into())),
                    }
                }
                _ => holds_on(&source, shape, |col| compare(col, *op, value)),
            }
        }
        Expr::Between { subject, low, high } => {
            let (source, shape) = types.operand(subject)?;
            holds_on(&source, shape, |col| {
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
                    SetOp::ContainsNone => present(&source, shape).and(chose(key, &wanted).not()),
                },
                // A text is a set of one value.
                _ => match op {
                    SetOp::ContainsAny => holds_on(&source, shape, |col| col.is_in(wanted.clone())),
                    SetOp::ContainsAll => holds_on(&source, shape, |col| {
                        all_of(wanted.iter().map(|w| col.clone().eq(w.clone())).collect())
                    }),
                    SetOp::ContainsNone => holds_on(&source, shape, |col| col.is_not_in(wanted.clone())),
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

/// Of the selected responses, those finished (`status`) on a local day of `period`.
fn finished_in(select: &mut SelectStatement, period: Period, statuses: &[ResponseStatus]) {
    select.and_where(responses_col(response::Column::Status).is_in(statuses.iter().map(|s| s.as_str())));
    if let Some(from) = period.from {
        select.and_where(responses_col(response::Column::CompletedDay).gte(from));
    }
    if let Some(to) = period.to {
        select.and_where(responses_col(response::Column::CompletedDay).lte(to));
    }
}

/// Of the selected responses, those started in `period`.
fn started_in(select: &mut SelectStatement, period: Period, zone: Tz) {
    let (from, until) = instants(period, zone);
    if let Some(from) = from {
        select.and_where(responses_col(response::Column::StartedAt).gte(from));
    }
    if let Some(until) = until {
        select.and_where(responses_col(response::Column::StartedAt).lt(until));
    }
}

#[derive(FromQueryResult)]
struct Group {
    grp: Option<String>,
    key: Option<String>,
    value: Option<String>,
    number: Option<f64>,
    flag: Option<bool>,
    count: i64,
}

async fn groups(conn: &impl ConnectionTrait, select: &SelectStatement) -> AppResult<Vec<Group>> {
    let statement = conn.get_database_backend().build(select);
    Ok(Group::find_by_statement(statement).all(conn).await?)
}

/// A count as a 64-bit integer on every backend.
fn count_all() -> Sql {
    Sql::cust("COUNT(*)").cast_as(Alias::new("BIGINT"))
}

/// Adds the columns `Group` reads that `select` does not set, as NULLs.
fn shaped(mut select: SelectStatement, set: &[&str]) -> SelectStatement {
    for column in ["grp", "key", "value", "number", "flag"] {
        if !set.contains(&column) {
            select.expr_as(Sql::cust("NULL"), Alias::new(column));
        }
    }
    select.expr_as(count_all(), Alias::new("count"));
    select
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

fn group(select: &mut SelectStatement, grouping: Option<&Grouping>, by_start: bool) {
    let Some(grouping) = grouping else {
        return;
    };
    if let Some((table, alias, on)) = &grouping.join {
        select.join_as(
            sea_orm::sea_query::JoinType::LeftJoin,
            table.clone(),
            alias.clone(),
            on.clone(),
        );
    }
    let key = if by_start {
        grouping.by_start.clone()
    } else {
        grouping.by_finish.clone()
    };
    select.expr_as(key, Alias::new("grp"));
    // By the output name: a key with bound values (a CASE over bounds) would not match
    // itself as a second expression with its own parameters on PostgreSQL.
    select.add_group_by([Sql::col(Alias::new("grp"))]);
}

/// The counts the tallies would hold for the responses of `form_id` that `filter` selects,
/// over `period` (local days in `zone`): started, finished by outcome on their start day,
/// completed and disqualified, durations, total scores, and per question answered, values and
/// scores of completed responses. Aggregated in the database, a statement per measure.
pub async fn counts(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    filter: &Sql,
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
/// `keys` are counted (every one without keys).
pub async fn grouped_counts(
    conn: &impl ConnectionTrait,
    form_id: Uuid,
    filter: &Sql,
    period: Period,
    zone: Tz,
    grouping: Option<&Grouping>,
    counted: &super::Counted,
) -> AppResult<std::collections::BTreeMap<Option<String>, Counts>> {
    let keys = counted.keys.as_deref();
    let mut out: std::collections::BTreeMap<Option<String>, Counts> = std::collections::BTreeMap::new();
    let status = responses_col(response::Column::Status);
    let completed = [ResponseStatus::Completed];
    let with_group = |mut set: Vec<&'static str>| {
        if grouping.is_some() {
            set.push("grp");
        }
        set
    };

    // Started in the period, and how those finished.
    let mut started = selected(form_id, filter);
    started_in(&mut started, period, zone);
    started
        .expr_as(status.clone(), Alias::new("value"))
        .group_by_col((response::Entity, response::Column::Status));
    group(&mut started, grouping, true);
    for g in groups(conn, &shaped(started, &with_group(vec!["value"]))).await? {
        let counts = out.entry(g.grp).or_default();
        counts.push((String::new(), Measure::Started, String::new(), g.count));
        if let Some(outcome) = g.value.filter(|s| s != ResponseStatus::InProgress.as_str()) {
            counts.push((String::new(), Measure::Finished, outcome, g.count));
        }
    }

    // Finished in the period.
    let mut finished = selected(form_id, filter);
    finished_in(
        &mut finished,
        period,
        &[ResponseStatus::Completed, ResponseStatus::Disqualified],
    );
    finished
        .expr_as(status, Alias::new("value"))
        .group_by_col((response::Entity, response::Column::Status));
    group(&mut finished, grouping, false);
    for g in groups(conn, &shaped(finished, &with_group(vec!["value"]))).await? {
        let measure = if g.value.as_deref() == Some(ResponseStatus::Completed.as_str()) {
            Measure::Completed
        } else {
            Measure::Disqualified
        };
        out.entry(g.grp)
            .or_default()
            .push((String::new(), measure, String::new(), g.count));
    }

    // Durations and total scores of completed responses.
    let times = if counted.times {
        vec![
            (response::Column::DurationSeconds, Measure::Duration),
            (response::Column::TotalScore, Measure::TotalScore),
        ]
    } else {
        Vec::new()
    };
    for (col, measure) in times {
        let mut select = selected(form_id, filter);
        finished_in(&mut select, period, &completed);
        select
            .and_where(responses_col(col).is_not_null())
            .expr_as(
                responses_col(col).cast_as(Alias::new("DOUBLE PRECISION")),
                Alias::new("number"),
            )
            .group_by_col((response::Entity, col));
        group(&mut select, grouping, false);
        for g in groups(conn, &shaped(select, &with_group(vec!["number"]))).await? {
            if let Some(n) = g.number {
                let value = if measure == Measure::Duration {
                    (n as i64).to_string()
                } else {
                    number_text(n)
                };
                out.entry(g.grp)
                    .or_default()
                    .push((String::new(), measure, value, g.count));
            }
        }
    }

    // Answers of completed responses, joined to the selected responses.
    let a = Alias::new("ca");
    let answers = |shape_col: Option<(Sql, &str)>| {
        let mut select = selected(form_id, filter);
        finished_in(&mut select, period, &completed);
        select
            .join_as(
                sea_orm::sea_query::JoinType::InnerJoin,
                answer::Entity,
                a.clone(),
                Sql::col((a.clone(), answer::Column::ResponseId)).equals((response::Entity, response::Column::Id)),
            )
            .and_where(Sql::col((a.clone(), answer::Column::Kind)).ne(QuestionKind::Hidden.as_str()))
            .and_where(match keys {
                Some(keys) => Sql::col((a.clone(), answer::Column::QuestionKey)).is_in(keys.iter().cloned()),
                None => Sql::val(true),
            })
            .expr_as(Sql::col((a.clone(), answer::Column::QuestionKey)), Alias::new("key"))
            .group_by_col((a.clone(), answer::Column::QuestionKey));
        if let Some((col, name)) = shape_col {
            select.expr_as(col.clone(), Alias::new(name));
            select.add_group_by([col]);
        }
        group(&mut select, grouping, false);
        select
    };
    if keys.is_some_and(|k| k.is_empty()) {
        return Ok(out.into_iter().map(|(g, counts)| (g, merge(counts))).collect());
    }
    let every = !counted.numbers_only;
    let kind_col = Sql::col((a.clone(), answer::Column::Kind));
    // Answered, by kind (only kinds not answered with exactly one value keep the count).
    let answered = if every {
        groups(
            conn,
            &shaped(answers(Some((kind_col, "value"))), &with_group(vec!["key", "value"])),
        )
        .await?
    } else {
        Vec::new()
    };
    for g in answered {
        let kind = g.value.as_deref().and_then(QuestionKind::parse);
        if let (Some(key), Some(kind)) = (g.key, kind)
            && !crate::report::tally::single_valued(kind)
        {
            out.entry(g.grp)
                .or_default()
                .push((key, Measure::Answered, String::new(), g.count));
        }
    }
    // Numbers and yes / no values (questions without options).
    let option_kinds: Vec<&str> = QuestionKind::ALL
        .iter()
        .filter(|k| k.has_options())
        .map(|k| k.as_str())
        .collect();
    let number = Sql::col((a.clone(), answer::Column::NumberValue));
    let mut numbers = answers(Some((number.clone(), "number")));
    numbers
        .and_where(number.is_not_null())
        .and_where(Sql::col((a.clone(), answer::Column::Kind)).is_not_in(option_kinds.clone()));
    for g in groups(conn, &shaped(numbers, &with_group(vec!["key", "number"]))).await? {
        if let (Some(key), Some(n)) = (g.key, g.number) {
            out.entry(g.grp)
                .or_default()
                .push((key, Measure::Value, number_text(n), g.count));
        }
    }
    let flag = Sql::col((a.clone(), answer::Column::BoolValue));
    let mut flags = answers(Some((flag.clone(), "flag")));
    flags
        .and_where(flag.is_not_null())
        .and_where(Sql::col((a.clone(), answer::Column::NumberValue)).is_null())
        .and_where(Sql::col((a.clone(), answer::Column::Kind)).is_not_in(option_kinds.clone()));
    let flags = if every {
        groups(conn, &shaped(flags, &with_group(vec!["key", "flag"]))).await?
    } else {
        Vec::new()
    };
    for g in flags {
        if let (Some(key), Some(b)) = (g.key, g.flag) {
            out.entry(g.grp)
                .or_default()
                .push((key, Measure::Value, b.to_string(), g.count));
        }
    }
    // "Other, please specify" texts of choice questions.
    let mut others = answers(None);
    others
        .and_where(Sql::col((a.clone(), answer::Column::Kind)).is_in(option_kinds))
        .and_where(Sql::col((a.clone(), answer::Column::TextValue)).is_not_null());
    let others = if every {
        groups(conn, &shaped(others, &with_group(vec!["key"]))).await?
    } else {
        Vec::new()
    };
    for g in others {
        if let Some(key) = g.key {
            out.entry(g.grp)
                .or_default()
                .push((key, Measure::Value, OTHER.to_owned(), g.count));
        }
    }
    // Scores.
    let score = Sql::col((a.clone(), answer::Column::Score));
    let mut scores = answers(Some((score.clone(), "number")));
    scores.and_where(score.is_not_null());
    let scores = if every {
        groups(conn, &shaped(scores, &with_group(vec!["key", "number"]))).await?
    } else {
        Vec::new()
    };
    for g in scores {
        if let (Some(key), Some(n)) = (g.key, g.number) {
            out.entry(g.grp)
                .or_default()
                .push((key, Measure::Score, number_text(n), g.count));
        }
    }
    // Chosen options.
    let c = Alias::new("cc");
    let mut chosen = selected(form_id, filter);
    finished_in(&mut chosen, period, &completed);
    chosen
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            answer_choice::Entity,
            c.clone(),
            Sql::col((c.clone(), answer_choice::Column::ResponseId)).equals((response::Entity, response::Column::Id)),
        )
        .expr_as(
            Sql::col((c.clone(), answer_choice::Column::QuestionKey)),
            Alias::new("key"),
        )
        .expr_as(Sql::col((c.clone(), answer_choice::Column::Value)), Alias::new("value"))
        .group_by_col((c.clone(), answer_choice::Column::QuestionKey))
        .group_by_col((c, answer_choice::Column::Value));
    group(&mut chosen, grouping, false);
    let chosen = if every {
        groups(conn, &shaped(chosen, &with_group(vec!["key", "value"]))).await?
    } else {
        Vec::new()
    };
    for g in chosen {
        if let (Some(key), Some(value)) = (g.key, g.value) {
            out.entry(g.grp)
                .or_default()
                .push((key, Measure::Value, value, g.count));
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
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut answers = crate::service::response::answers_of(conn, ids.clone()).await?;
    let mut snapshots: HashMap<Uuid, Vec<(String, Value)>> = HashMap::new();
    for part in ids.chunks(500) {
        let found = response_attribute::Entity::find()
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
            snapshots.entry(row.response_id).or_default().push((row.name, value));
        }
    }
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
