//! Respondents: the customers an organization knows. Unique by external (CRM) id in the
//! organization; upserted one at a time or in bulk (a CRM sync of up to 10,000 in one call,
//! all or nothing, every invalid row reported); attributes validated against the catalogue and
//! stored typed, one row per value, so lists filter by attribute in SQL.
use crate::codes::ProblemCode;
use std::collections::{HashMap, HashSet};

use entity::{respondent, respondent_attribute_value as value_row};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{OnConflict, Query},
};
use uuid::Uuid;

use super::{
    attribute::{AttributeType, declared},
    now,
    page::{self, Page, PageRequest},
};
use crate::{
    auth::Tenant,
    db::Db,
    error::{AppError, AppResult},
    form::{Problem, model::is_locale, text},
    logic::expr::Value,
};

/// Most respondents in one bulk upsert.
pub const MAX_BULK: usize = 10_000;
/// Longest external id, and name.
pub const MAX_EXTERNAL_ID_CHARS: usize = 200;
pub const MAX_NAME_CHARS: usize = 200;
/// Most attributes of one respondent, and the longest text value.
pub const MAX_ATTRIBUTES: usize = 100;
pub const MAX_TEXT_VALUE_CHARS: usize = 1_000;
/// Rows written per statement: within every backend's limit on bound parameters.
const CHUNK: usize = 500;

/// A respondent as a client sends it. Blank texts count as absent.
#[derive(Debug, Clone, Default)]
pub struct RespondentInput {
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    /// `None` keeps the stored flag (false for a new respondent).
    pub opted_out: Option<bool>,
    pub attributes: Vec<(String, Value)>,
}

/// A checked respondent, ready to store.
#[derive(Debug, Clone)]
struct Checked {
    external_id: String,
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    locale: Option<String>,
    opted_out: Option<bool>,
    attributes: Vec<(String, Value)>,
}

/// What a bulk upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    pub created: usize,
    pub updated: usize,
}

/// A stored respondent with its attribute values.
#[derive(Debug, Clone)]
pub struct Respondent {
    pub row: respondent::Model,
    pub attributes: Vec<(String, Value)>,
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Checks one attribute value against the catalogue; `for_filter` allows retired attributes.
fn check_attribute(
    declared: &HashMap<String, (AttributeType, bool)>,
    name: &str,
    value: &Value,
    path: &str,
    for_filter: bool,
) -> Option<Problem> {
    let Some((kind, retired)) = declared.get(name) else {
        return Some(Problem::new(
            path,
            ProblemCode::UnknownAttribute,
            format!("`{name}` is not in the organization's attribute catalogue"),
        ));
    };
    if *retired && !for_filter {
        return Some(Problem::new(
            path,
            ProblemCode::AttributeRetired,
            format!("`{name}` is retired and takes no new values"),
        ));
    }
    if !kind.scalar().holds(value) {
        return Some(Problem::new(
            path,
            ProblemCode::InvalidAttribute,
            format!("`{name}` is a {} attribute", kind.as_str()),
        ));
    }
    match value {
        Value::Text(t) if t.chars().count() > MAX_TEXT_VALUE_CHARS => Some(Problem::new(
            path,
            ProblemCode::TooLong,
            format!("at most {MAX_TEXT_VALUE_CHARS} characters"),
        )),
        Value::Number(n) if !n.is_finite() => Some(Problem::new(
            path,
            ProblemCode::InvalidAttribute,
            "must be a finite number",
        )),
        _ => None,
    }
}

fn check(
    input: RespondentInput,
    declared: &HashMap<String, (AttributeType, bool)>,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<Checked> {
    let before = problems.len();
    let external_id = blank_to_none(input.external_id);
    match &external_id {
        None => problems.push(Problem::new(
            format!("{path}.externalId"),
            ProblemCode::Required,
            "an upsert needs the respondent's external (CRM) id",
        )),
        Some(id) if id.chars().count() > MAX_EXTERNAL_ID_CHARS || id.chars().any(char::is_control) => {
            problems.push(Problem::new(
                format!("{path}.externalId"),
                ProblemCode::InvalidValue,
                format!("1–{MAX_EXTERNAL_ID_CHARS} characters without control characters"),
            ))
        }
        Some(_) => {}
    }
    let email = blank_to_none(input.email).and_then(|e| match text::email(&e) {
        Some(email) => Some(email),
        None => {
            problems.push(Problem::new(
                format!("{path}.email"),
                ProblemCode::InvalidEmail,
                format!("`{e}` is not an email address"),
            ));
            None
        }
    });
    let phone = blank_to_none(input.phone).and_then(|p| match text::phone(&p) {
        Some(phone) => Some(phone),
        None => {
            problems.push(Problem::new(
                format!("{path}.phone"),
                ProblemCode::InvalidPhone,
                format!("`{p}` is not a phone number: 7–15 digits, an optional leading +"),
            ));
            None
        }
    });
    let name = blank_to_none(input.name);
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        problems.push(Problem::new(
            format!("{path}.name"),
            ProblemCode::TooLong,
            format!("at most {MAX_NAME_CHARS} characters"),
        ));
    }
    let locale = blank_to_none(input.locale);
    if locale.as_ref().is_some_and(|l| !is_locale(l)) {
        problems.push(Problem::new(
            format!("{path}.locale"),
            ProblemCode::InvalidLocale,
            "not a language tag such as fa, en or en-GB",
        ));
    }
    if input.attributes.len() > MAX_ATTRIBUTES {
        problems.push(Problem::new(
            format!("{path}.attributes"),
            ProblemCode::TooMany,
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, (attribute, value)) in input.attributes.iter().enumerate() {
        let here = format!("{path}.attributes[{i}]");
        if !seen.insert(attribute.as_str()) {
            problems.push(Problem::new(
                here,
                ProblemCode::Duplicate,
                format!("`{attribute}` is given twice"),
            ));
        } else if let Some(problem) = check_attribute(declared, attribute, value, &here, false) {
            problems.push(problem);
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Checked {
        external_id: external_id?,
        email,
        phone,
        name,
        locale,
        opted_out: input.opted_out,
        attributes: input.attributes,
    })
}

fn search_text(row: &Checked) -> String {
    [
        row.name.as_deref(),
        row.email.as_deref(),
        row.phone.as_deref(),
        Some(row.external_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .map(text::normalize_for_search)
    .collect::<Vec<_>>()
    .join(" \u{1f} ")
}

fn value_model(organization_id: Uuid, respondent_id: Uuid, name: &str, value: &Value) -> value_row::ActiveModel {
    let mut row = value_row::ActiveModel {
        respondent_id: Set(respondent_id),
        name: Set(name.to_owned()),
        organization_id: Set(organization_id),
        text_value: Set(None),
        number_value: Set(None),
        bool_value: Set(None),
        date_value: Set(None),
    };
    match value {
        Value::Text(t) => row.text_value = Set(Some(t.clone())),
        Value::Number(n) => row.number_value = Set(Some(*n)),
        Value::Bool(b) => row.bool_value = Set(Some(*b)),
        Value::Date(d) => row.date_value = Set(Some(*d)),
    }
    row
}

fn value_of(row: &value_row::Model) -> Option<Value> {
    if let Some(t) = &row.text_value {
        return Some(Value::Text(t.clone()));
    }
    row.number_value
        .map(Value::Number)
        .or(row.bool_value.map(Value::Bool))
        .or(row.date_value.map(Value::Date))
}

/// Creates or updates respondents by external id, all or none: every invalid row is reported
/// (paths `{path}[i].field`) and nothing is written. Each respondent's fields and attributes
/// become the given ones; `optedOut` changes only when given. Returns the counts and each
/// row's respondent id, in input order.
pub async fn upsert_many(
    db: &Db,
    tenant: Tenant,
    inputs: Vec<RespondentInput>,
    path: &str,
) -> AppResult<(Upserted, Vec<Uuid>)> {
    upsert_rows(db, tenant, inputs, path, |i| format!("{path}[{i}]")).await
}

async fn upsert_rows(
    db: &Db,
    tenant: Tenant,
    inputs: Vec<RespondentInput>,
    path: &str,
    row_path: impl Fn(usize) -> String,
) -> AppResult<(Upserted, Vec<Uuid>)> {
    if inputs.len() > MAX_BULK {
        return Err(AppError::problem(Problem::new(
            path,
            ProblemCode::TooMany,
            format!("at most {MAX_BULK} respondents in one call"),
        )));
    }
    let organization_id = tenant.organization_id;
    let declared = declared(db.conn(), organization_id).await?;
    let mut problems = Vec::new();
    let mut rows = Vec::with_capacity(inputs.len());
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let here = row_path(i);
        if let Some(row) = check(input, &declared, &here, &mut problems) {
            if let Some(first) = first_row.insert(row.external_id.clone(), i) {
                problems.push(Problem::new(
                    format!("{here}.externalId"),
                    ProblemCode::Duplicate,
                    format!("`{}` is also row {first}", row.external_id),
                ));
            }
            rows.push(row);
        }
    }
    AppError::invalid(problems)?;
    let at = now();
    let txn = db.begin_write().await?;
    let mut upserted = Upserted { created: 0, updated: 0 };
    let mut ids = Vec::with_capacity(rows.len());
    // PostgreSQL returns the ids of inserted and updated rows alike; elsewhere they are read
    // back by external id. (A lookup by external id in a table that grows within the
    // transaction is planned from statistics taken before it, and becomes a scan.)
    let returning = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    for chunk in rows.chunks(CHUNK) {
        let fresh: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let mut stored: HashMap<String, Uuid> = HashMap::with_capacity(chunk.len());
        // Rows that set the opt-out flag, and rows that leave it as stored.
        for sets_flag in [true, false] {
            let models: Vec<respondent::ActiveModel> = chunk
                .iter()
                .zip(&fresh)
                .filter(|(row, _)| row.opted_out.is_some() == sets_flag)
                .map(|(row, id)| respondent::ActiveModel {
                    id: Set(*id),
                    organization_id: Set(organization_id),
                    external_id: Set(Some(row.external_id.clone())),
                    email: Set(row.email.clone()),
                    phone: Set(row.phone.clone()),
                    name: Set(row.name.clone()),
                    locale: Set(row.locale.clone()),
                    opted_out: Set(row.opted_out.unwrap_or(false)),
                    search_text: Set(search_text(row)),
                    created_at: Set(at),
                    updated_at: Set(at),
                })
                .collect();
            if models.is_empty() {
                continue;
            }
            let mut columns = vec![
                respondent::Column::Email,
                respondent::Column::Phone,
                respondent::Column::Name,
                respondent::Column::Locale,
                respondent::Column::SearchText,
                respondent::Column::UpdatedAt,
            ];
            if sets_flag {
                columns.push(respondent::Column::OptedOut);
            }
            let insert = respondent::Entity::insert_many(models).on_conflict(
                OnConflict::columns([respondent::Column::OrganizationId, respondent::Column::ExternalId])
                    .update_columns(columns)
                    .to_owned(),
            );
            if returning {
                stored.extend(
                    insert
                        .exec_with_returning(&txn)
                        .await?
                        .into_iter()
                        .filter_map(|r| Some((r.external_id?, r.id))),
                );
            } else {
                insert.exec_without_returning(&txn).await?;
            }
        }
        if !returning {
            let external_ids: Vec<&str> = chunk.iter().map(|r| r.external_id.as_str()).collect();
            stored = respondent::Entity::find()
                .select_only()
                .column(respondent::Column::ExternalId)
                .column(respondent::Column::Id)
                .filter(respondent::Column::OrganizationId.eq(organization_id))
                .filter(respondent::Column::ExternalId.is_in(external_ids))
                .into_tuple::<(String, Uuid)>()
                .all(&txn)
                .await?
                .into_iter()
                .collect();
        }
        let mut chunk_ids = Vec::with_capacity(chunk.len());
        for (row, fresh) in chunk.iter().zip(&fresh) {
            let id = *stored
                .get(&row.external_id)
                .ok_or_else(|| AppError::Internal(format!("respondent {} was not stored", row.external_id)))?;
            if id == *fresh {
                upserted.created += 1;
            } else {
                upserted.updated += 1;
            }
            chunk_ids.push(id);
        }
        value_row::Entity::delete_many()
            .filter(value_row::Column::RespondentId.is_in(chunk_ids.clone()))
            .exec(&txn)
            .await?;
        let values: Vec<value_row::ActiveModel> = chunk
            .iter()
            .zip(&chunk_ids)
            .flat_map(|(row, id)| {
                row.attributes
                    .iter()
                    .map(move |(name, value)| value_model(organization_id, *id, name, value))
            })
            .collect();
        for part in values.chunks(CHUNK * 2) {
            value_row::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        ids.extend(chunk_ids);
    }
    txn.commit().await?;
    Ok((upserted, ids))
}

/// Creates or updates one respondent by external id.
pub async fn upsert(db: &Db, tenant: Tenant, input: RespondentInput) -> AppResult<(Respondent, bool)> {
    let (upserted, ids) = upsert_rows(db, tenant, vec![input], "input", |_| "input".to_owned()).await?;
    let id = ids
        .first()
        .copied()
        .ok_or_else(|| AppError::Internal("an upsert stored nothing".to_owned()))?;
    let respondent = get(db.conn(), tenant, id).await?;
    Ok((respondent, upserted.created == 1))
}

/// Attribute values of respondents, by respondent: one query.
async fn values_of(conn: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<HashMap<Uuid, Vec<(String, Value)>>> {
    let mut out: HashMap<Uuid, Vec<(String, Value)>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = value_row::Entity::find()
        .filter(value_row::Column::RespondentId.is_in(ids))
        .all(conn)
        .await?;
    for row in rows {
        if let Some(value) = value_of(&row) {
            out.entry(row.respondent_id).or_default().push((row.name, value));
        }
    }
    for values in out.values_mut() {
        values.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(out)
}

/// A respondent of the tenant's organization.
pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<Respondent> {
    let row = respondent::Entity::find_by_id(id)
        .filter(respondent::Column::OrganizationId.eq(tenant.organization_id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("respondent"))?;
    let attributes = values_of(conn, vec![id]).await?.remove(&id).unwrap_or_default();
    Ok(Respondent { row, attributes })
}

/// What a list of respondents is narrowed to.
#[derive(Debug, Default)]
pub struct RespondentFilter {
    /// Words that must all appear in the name, email, phone or external id.
    pub search: Option<String>,
    /// Attributes that must have exactly these values.
    pub attributes: Vec<(String, Value)>,
    pub opted_out: Option<bool>,
}

/// Respondents in creation order; attributes come with the page in one more query.
pub async fn list(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    filter: RespondentFilter,
    request: PageRequest,
) -> AppResult<Page<Respondent>> {
    let organization_id = tenant.organization_id;
    let mut select = respondent::Entity::find().filter(respondent::Column::OrganizationId.eq(organization_id));
    if !filter.attributes.is_empty() {
        let declared = declared(conn, organization_id).await?;
        let problems: Vec<Problem> = filter
            .attributes
            .iter()
            .enumerate()
            .filter_map(|(i, (name, value))| check_attribute(&declared, name, value, &format!("attributes[{i}]"), true))
            .collect();
        AppError::invalid(problems)?;
        for (name, value) in &filter.attributes {
            let (column, value): (value_row::Column, sea_orm::Value) = match value {
                Value::Text(t) => (value_row::Column::TextValue, t.clone().into()),
                Value::Number(n) => (value_row::Column::NumberValue, (*n).into()),
                Value::Bool(b) => (value_row::Column::BoolValue, (*b).into()),
                Value::Date(d) => (value_row::Column::DateValue, (*d).into()),
            };
            let matching = Query::select()
                .column(value_row::Column::RespondentId)
                .from(value_row::Entity)
                .and_where(value_row::Column::OrganizationId.eq(organization_id))
                .and_where(value_row::Column::Name.eq(name.clone()))
                .and_where(column.eq(value))
                .to_owned();
            select = select.filter(respondent::Column::Id.in_subquery(matching));
        }
    }
    if let Some(search) = &filter.search {
        select = select.filter(page::words_in(respondent::Column::SearchText, search));
    }
    if let Some(opted_out) = filter.opted_out {
        select = select.filter(respondent::Column::OptedOut.eq(opted_out));
    }
    let page = page::fetch(conn, select, page::Order::by_id(respondent::Column::Id), request).await?;
    let mut values = values_of(conn, page.rows().map(|r| r.id).collect()).await?;
    Ok(page.map(|row| Respondent {
        attributes: values.remove(&row.id).unwrap_or_default(),
        row,
    }))
}
