//! The writes of a submission, each a statement or two inside the caller's transaction: the
//! response row, its typed answers, and the quota counter.
use chrono::{DateTime, Utc};
use entity::{answer, answer_choice, form_counter, response};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use super::ResponseStatus;
use crate::{
    error::{AppError, AppResult},
    form::answer::Checked,
};

/// Rows per insert statement: within every backend's limit on bound parameters.
const CHUNK: usize = 500;

/// Inserts a response. With a limit key (one response per respondent or device), a response
/// already holding the key wins and `false` is returned: the unique index decides, so
/// concurrent first responses of one respondent leave exactly one.
pub async fn insert_response(txn: &impl ConnectionTrait, row: response::Model) -> AppResult<bool> {
    let limited = row.limit_key.is_some();
    let model: response::ActiveModel = row.into();
    let mut insert = response::Entity::insert(model);
    if limited {
        // The unique index is partial (responses with a key): the target names its predicate.
        insert = insert.on_conflict(
            OnConflict::columns([response::Column::FormId, response::Column::LimitKey])
                .target_and_where(Expr::col(response::Column::LimitKey).is_not_null())
                .do_nothing()
                .to_owned(),
        );
    }
    Ok(insert.exec_without_returning(txn).await? == 1)
}

/// A new response as [`insert_at_once`] writes it.
pub struct AtOnce<'a> {
    /// The idempotency key's claim ([`super::idempotency::key_row`]).
    pub claim: entity::idempotency_key::ActiveModel,
    /// The response: no limit key (its conflicts are the transaction path's).
    pub row: &'a response::Model,
    pub answers: &'a [Checked],
    /// When the answers count as given (the response's completion, if completed).
    pub answered_at: Option<DateTime<Utc>>,
    /// Its event, written only when an enabled endpoint of the organization receives it.
    pub event: Option<crate::service::event::Event>,
}

/// What [`insert_at_once`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wrote {
    /// The key was free and everything was written; otherwise nothing was (an earlier request
    /// under the key committed first).
    pub claimed: bool,
    /// The event went to the outbox.
    pub recorded: bool,
}

/// PostgreSQL: a whole new response in one statement, atomic with no transaction around it
/// (data-modifying common table expressions): the idempotency claim, the response, its answers
/// and chosen options, the record that its counts wait for a fold, and its event when an
/// endpoint receives it. One round trip where a transaction takes eight. The claim gates the
/// rest: under a key another request holds, nothing else is written, and concurrent requests
/// under one key wait on its unique index for the first to commit, so one response is stored.
pub async fn insert_at_once(conn: &impl ConnectionTrait, parts: AtOnce<'_>) -> AppResult<Wrote> {
    if parts.row.limit_key.is_some() || conn.get_database_backend() != DbBackend::Postgres {
        return Err(AppError::Internal(
            "a response written at once is one without a limit key, on PostgreSQL".to_owned(),
        ));
    }
    let (answers, choices) = answer_rows(parts.row, parts.answers, parts.answered_at);
    let shape = Shape {
        answers: answers.len(),
        choices: choices.len(),
        event: parts.event.is_some(),
    };
    let mut values = Vec::new();
    row_values(parts.claim, &mut values)?;
    let row: response::ActiveModel = parts.row.clone().into();
    row_values(row, &mut values)?;
    for answer in answers {
        row_values(answer, &mut values)?;
    }
    for choice in choices {
        row_values(choice, &mut values)?;
    }
    row_values(crate::service::report::tally::pending_row(parts.row), &mut values)?;
    if let Some(event) = parts.event {
        let (organization_id, event_type) = (event.organization_id, event.event_type);
        row_values(event.into_row(false), &mut values)?;
        values.push(organization_id.into());
        values.extend(
            crate::service::webhook::receives_patterns(event_type)
                .into_iter()
                .map(sea_orm::Value::from),
        );
    }
    let sql = at_once_sql(shape);
    let wrote = conn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql.as_ref(),
            values,
        ))
        .await?
        .ok_or_else(|| AppError::Internal("a response written at once answered no row".to_owned()))?;
    Ok(Wrote {
        claimed: wrote.try_get::<i64>("", "claimed")? > 0,
        recorded: wrote.try_get::<i64>("", "recorded")? > 0,
    })
}

/// What the statement of [`insert_at_once`] depends on: one text (and one prepared statement
/// per connection) for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Shape {
    answers: usize,
    choices: usize,
    event: bool,
}

/// Appends a row's values in its entity's column order (every column set).
fn row_values<A: sea_orm::ActiveModelTrait>(row: A, values: &mut Vec<sea_orm::Value>) -> AppResult<()> {
    use sea_orm::Iterable;
    for column in <A::Entity as EntityTrait>::Column::iter() {
        values.push(
            row.get(column)
                .into_value()
                .ok_or_else(|| AppError::Internal("a row written at once with a column unset".to_owned()))?,
        );
    }
    Ok(())
}

/// The statement of [`insert_at_once`] for `shape`, its parameters in the order `row_values`
/// appends them; made once per shape (a few hundred at most are kept).
fn at_once_sql(shape: Shape) -> std::sync::Arc<str> {
    use std::{
        collections::HashMap,
        sync::{Arc, Mutex, OnceLock},
    };
    static MADE: OnceLock<Mutex<HashMap<Shape, Arc<str>>>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    if let Some(sql) = made.lock().unwrap_or_else(|e| e.into_inner()).get(&shape) {
        return sql.clone();
    }
    let sql: Arc<str> = make_at_once_sql(shape).into();
    let mut made = made.lock().unwrap_or_else(|e| e.into_inner());
    if made.len() < 512 {
        made.insert(shape, sql.clone());
    }
    sql
}

fn make_at_once_sql(shape: Shape) -> String {
    use entity::{idempotency_key, outbox_event, pending_count, webhook_endpoint};
    use sea_orm::{IdenStatic, Iterable};
    fn columns<E: EntityTrait>() -> (String, usize) {
        let names: Vec<String> = E::Column::iter().map(|c| format!("\"{}\"", c.as_str())).collect();
        (names.join(", "), names.len())
    }
    fn table<E: EntityTrait + Default>() -> String {
        format!("\"{}\"", E::default().table_name())
    }
    let mut next = 0;
    let mut params = |n: usize| {
        let list: Vec<String> = (next + 1..=next + n).map(|i| format!("${i}")).collect();
        next += n;
        list.join(", ")
    };
    let mut sql = String::from("WITH ");
    let (names, n) = columns::<idempotency_key::Entity>();
    sql += &format!(
        "claim AS (INSERT INTO {} ({names}) VALUES ({}) ON CONFLICT (\"{}\", \"{}\") DO NOTHING RETURNING 1), ",
        table::<idempotency_key::Entity>(),
        params(n),
        idempotency_key::Column::Scope.as_str(),
        idempotency_key::Column::Key.as_str(),
    );
    let (names, n) = columns::<response::Entity>();
    sql += &format!(
        "stored AS (INSERT INTO {} ({names}) SELECT {} FROM claim RETURNING 1), ",
        table::<response::Entity>(),
        params(n)
    );
    let mut rows = |name: &str, table: String, (names, n): (String, usize), count: usize| {
        if count == 0 {
            return String::new();
        }
        let list: Vec<String> = (0..count).map(|_| format!("({})", params(n))).collect();
        format!(
            "{name} AS (INSERT INTO {table} ({names}) SELECT * FROM (VALUES {}) AS v WHERE EXISTS (SELECT 1 FROM stored)), ",
            list.join(", ")
        )
    };
    sql += &rows(
        "answered",
        table::<answer::Entity>(),
        columns::<answer::Entity>(),
        shape.answers,
    );
    sql += &rows(
        "chosen",
        table::<answer_choice::Entity>(),
        columns::<answer_choice::Entity>(),
        shape.choices,
    );
    let (names, n) = columns::<pending_count::Entity>();
    sql += &format!(
        "pending AS (INSERT INTO {} ({names}) SELECT {} FROM stored)",
        table::<pending_count::Entity>(),
        params(n)
    );
    if shape.event {
        let (names, n) = columns::<outbox_event::Entity>();
        let row = params(n);
        let organization = params(1);
        let patterns = params(4);
        let patterns: Vec<&str> = patterns.split(", ").collect();
        sql += &format!(
            ", recorded AS (INSERT INTO {} ({names}) SELECT {row} FROM stored WHERE EXISTS (SELECT 1 FROM {} e \
             WHERE e.\"{}\" = {organization} AND e.\"{}\" AND (e.\"{events}\" = {} OR e.\"{events}\" LIKE {} \
             OR e.\"{events}\" LIKE {} OR e.\"{events}\" LIKE {})) RETURNING 1)",
            table::<outbox_event::Entity>(),
            table::<webhook_endpoint::Entity>(),
            webhook_endpoint::Column::OrganizationId.as_str(),
            webhook_endpoint::Column::Enabled.as_str(),
            patterns[0],
            patterns[1],
            patterns[2],
            patterns[3],
            events = webhook_endpoint::Column::Events.as_str(),
        );
        sql += " SELECT (SELECT COUNT(*) FROM claim) AS claimed, (SELECT COUNT(*) FROM recorded) AS recorded";
    } else {
        sql += " SELECT (SELECT COUNT(*) FROM claim) AS claimed, 0::bigint AS recorded";
    }
    sql
}

/// Keeps, with a finished response, its respondent's attribute values as they are now (one
/// statement, in the completing transaction): filters and breakdowns by attribute read this
/// snapshot, so they stay true after the values change.
pub async fn snapshot_attributes(txn: &impl ConnectionTrait, row: &response::Model) -> AppResult<()> {
    use entity::{respondent_attribute_value as value, response_attribute as snapshot};
    use sea_orm::sea_query::Query;
    let Some(respondent_id) = row.respondent_id else {
        return Ok(());
    };
    let select = Query::select()
        .column(value::Column::OrganizationId)
        .expr(Expr::val(row.id))
        .column(value::Column::Name)
        .expr(Expr::val(row.form_id))
        .column(value::Column::TextValue)
        .column(value::Column::NumberValue)
        .column(value::Column::BoolValue)
        .column(value::Column::DateValue)
        .expr(Expr::val(row.completed_day))
        .from(value::Entity)
        .and_where(Expr::col(value::Column::RespondentId).eq(respondent_id))
        .and_where(Expr::col(value::Column::OrganizationId).eq(row.organization_id))
        .to_owned();
    let insert = Query::insert()
        .into_table(snapshot::Entity)
        .columns([
            snapshot::Column::OrganizationId,
            snapshot::Column::ResponseId,
            snapshot::Column::Name,
            snapshot::Column::FormId,
            snapshot::Column::TextValue,
            snapshot::Column::NumberValue,
            snapshot::Column::BoolValue,
            snapshot::Column::DateValue,
            snapshot::Column::CompletedDay,
        ])
        .select_from(select)
        .map_err(|e| AppError::internal("attribute snapshot", e))?
        .to_owned();
    txn.execute(&insert).await?;
    Ok(())
}

/// The response holding a form's limit key.
pub async fn holder_of(
    txn: &impl ConnectionTrait,
    form_id: Uuid,
    limit_key: &str,
) -> AppResult<Option<response::Model>> {
    Ok(response::Entity::find()
        .filter(response::Column::FormId.eq(form_id))
        .filter(response::Column::LimitKey.eq(limit_key))
        .one(txn)
        .await?)
}

/// A response read for an update, locked until the transaction ends (PostgreSQL; SQLite's
/// write transaction already excludes other writers).
pub async fn lock(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<response::Model>> {
    let mut select = response::Entity::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select.one(txn).await?)
}

/// The rows that store a response's answers: one per answer, one per chosen option;
/// `completed_at` is set on the rows of a completed response so report indexes cover it.
pub fn answer_rows(
    response: &response::Model,
    answers: &[Checked],
    completed_at: Option<DateTime<Utc>>,
) -> (Vec<answer::ActiveModel>, Vec<answer_choice::ActiveModel>) {
    let rows = answers
        .iter()
        .map(|a| answer::ActiveModel {
            response_id: Set(response.id),
            question_key: Set(a.key.clone()),
            organization_id: Set(response.organization_id),
            form_id: Set(response.form_id),
            kind: Set(a.kind.as_str().to_owned()),
            number_value: Set(a.number),
            text_value: Set(a.text.clone()),
            date_value: Set(a.date),
            bool_value: Set(a.boolean),
            score: Set(a.score),
            completed_at: Set(completed_at),
            search_text: Set(a
                .text
                .as_deref()
                .filter(|_| a.kind.is_open_text())
                .map(crate::form::text::normalize_for_search)),
        })
        .collect();
    let choices = answers
        .iter()
        .flat_map(|a| {
            a.choices.iter().map(|c| answer_choice::ActiveModel {
                response_id: Set(response.id),
                question_key: Set(a.key.clone()),
                value: Set(c.value.clone()),
                organization_id: Set(response.organization_id),
                form_id: Set(response.form_id),
                score: Set(c.score),
                completed_at: Set(completed_at),
            })
        })
        .collect();
    (rows, choices)
}

/// Inserts answers of a response (see [`answer_rows`]).
pub async fn insert_answers(
    txn: &impl ConnectionTrait,
    response: &response::Model,
    answers: &[Checked],
    completed_at: Option<DateTime<Utc>>,
) -> AppResult<()> {
    let (rows, choices) = answer_rows(response, answers, completed_at);
    for chunk in rows.chunks(CHUNK) {
        answer::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in choices.chunks(CHUNK) {
        answer_choice::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Deletes a response's answers to `keys` (every answer when `keys` is `None`).
pub async fn delete_answers(txn: &impl ConnectionTrait, response_id: Uuid, keys: Option<Vec<String>>) -> AppResult<()> {
    if keys.as_ref().is_some_and(Vec::is_empty) {
        return Ok(());
    }
    let mut choices = answer_choice::Entity::delete_many().filter(answer_choice::Column::ResponseId.eq(response_id));
    let mut answers = answer::Entity::delete_many().filter(answer::Column::ResponseId.eq(response_id));
    if let Some(keys) = keys {
        choices = choices.filter(answer_choice::Column::QuestionKey.is_in(keys.clone()));
        answers = answers.filter(answer::Column::QuestionKey.is_in(keys));
    }
    choices.exec(txn).await?;
    answers.exec(txn).await?;
    Ok(())
}

/// Counts one more completed response of a form under `quota`: `false` when the quota is
/// reached. The conditional increment runs under the row's lock, so concurrent completions
/// never pass the quota. The counter starts from the stored count the first time.
pub async fn count_within_quota(txn: &impl ConnectionTrait, form_id: Uuid, quota: u32) -> AppResult<bool> {
    for _ in 0..2 {
        let updated = form_counter::Entity::update_many()
            .col_expr(
                form_counter::Column::Completed,
                Expr::col(form_counter::Column::Completed).add(1i64),
            )
            .filter(form_counter::Column::FormId.eq(form_id))
            .filter(form_counter::Column::Completed.lt(i64::from(quota)))
            .exec(txn)
            .await?;
        if updated.rows_affected == 1 {
            return Ok(true);
        }
        if completed_count(txn, form_id).await?.is_some() {
            return Ok(false);
        }
        let stored = response::Entity::find()
            .filter(response::Column::FormId.eq(form_id))
            .filter(response::Column::Status.eq(ResponseStatus::Completed.as_str()))
            .count(txn)
            .await?;
        form_counter::Entity::insert(form_counter::ActiveModel {
            form_id: Set(form_id),
            completed: Set(i64::try_from(stored).unwrap_or(i64::MAX)),
        })
        .on_conflict(OnConflict::column(form_counter::Column::FormId).do_nothing().to_owned())
        .exec_without_returning(txn)
        .await?;
    }
    Ok(false)
}

/// Completed responses counted towards a form's quota, when a counter is kept.
pub async fn completed_count(conn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<Option<i64>> {
    Ok(form_counter::Entity::find_by_id(form_id)
        .select_only()
        .column(form_counter::Column::Completed)
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}

/// Forgets a form's quota counter (its quota changed): the next completion recounts.
pub async fn reset_counter(conn: &impl ConnectionTrait, form_id: Uuid) -> AppResult<()> {
    form_counter::Entity::delete_by_id(form_id).exec(conn).await?;
    Ok(())
}

/// Writes a response's new state (status, times, score) after a save or a completion.
pub async fn update_response(txn: &impl ConnectionTrait, row: &response::Model) -> AppResult<()> {
    response::Entity::update_many()
        .col_expr(response::Column::Status, Expr::value(row.status.clone()))
        .col_expr(response::Column::UpdatedAt, Expr::value(row.updated_at))
        .col_expr(response::Column::CompletedAt, Expr::value(row.completed_at))
        .col_expr(response::Column::CompletedDay, Expr::value(row.completed_day))
        .col_expr(response::Column::DurationSeconds, Expr::value(row.duration_seconds))
        .col_expr(response::Column::TotalScore, Expr::value(row.total_score))
        .filter(response::Column::Id.eq(row.id))
        .exec(txn)
        .await?;
    Ok(())
}
