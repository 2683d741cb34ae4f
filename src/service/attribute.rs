//! The respondent attribute catalogue: what an organization knows about its customers, with a
//! type for each attribute. Names and types are fixed once created; labels change; retiring
//! keeps the attribute known without offering it for new use.
use entity::respondent_attribute;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use super::{
    now,
    page::{self, Page, PageRequest},
    validate,
};
use crate::{
    auth::Tenant,
    error::{AppError, AppResult},
};

/// Longest attribute name and description.
pub const MAX_NAME_LEN: usize = crate::form::key::MAX_KEY_LEN;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// The type of an attribute's values.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AttributeType {
    /// Free text, e.g. a plan name or a city.
    String,
    /// A number, e.g. lifetime value or number of orders.
    Number,
    /// True or false, e.g. churned.
    Boolean,
    /// A calendar date (`YYYY-MM-DD`), e.g. customer since.
    Date,
}

impl AttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "STRING",
            AttributeType::Number => "NUMBER",
            AttributeType::Boolean => "BOOLEAN",
            AttributeType::Date => "DATE",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            AttributeType::String,
            AttributeType::Number,
            AttributeType::Boolean,
            AttributeType::Date,
        ]
        .into_iter()
        .find(|t| t.as_str() == value)
    }
}

impl AttributeType {
    /// The type conditions and values are checked against.
    pub fn scalar(self) -> crate::logic::check::Scalar {
        use crate::logic::check::Scalar;
        match self {
            AttributeType::String => Scalar::Text,
            AttributeType::Number => Scalar::Number,
            AttributeType::Boolean => Scalar::Bool,
            AttributeType::Date => Scalar::Date,
        }
    }
}

pub fn type_of(model: &respondent_attribute::Model) -> AppResult<AttributeType> {
    AttributeType::parse(&model.data_type)
        .ok_or_else(|| AppError::Internal(format!("unknown stored attribute type {}", model.data_type)))
}

/// A machine name, with the same rules as question keys (e.g. `customer_since`).
pub fn check_name(name: &str, field: &str) -> AppResult<String> {
    let name = name.trim();
    if !crate::form::key::is_valid(name) {
        return Err(AppError::bad_input(
            field,
            format!(
                "must be 1–{MAX_NAME_LEN} characters: a lower-case letter, then lower-case letters, digits or _ (e.g. customer_since)"
            ),
        ));
    }
    Ok(name.to_owned())
}

fn check_description(description: Option<String>, field: &str) -> AppResult<String> {
    let description = description.unwrap_or_default().trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("must have at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(description)
}

fn scoped(tenant: Tenant) -> sea_orm::Select<respondent_attribute::Entity> {
    respondent_attribute::Entity::find().filter(respondent_attribute::Column::OrganizationId.eq(tenant.organization_id))
}

/// A new attribute.
#[derive(Debug)]
pub struct NewAttribute {
    pub name: String,
    pub data_type: AttributeType,
    pub label: String,
    pub description: Option<String>,
}

pub async fn create(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    input: NewAttribute,
) -> AppResult<respondent_attribute::Model> {
    let name = check_name(&input.name, "input.name")?;
    let label = validate::name(&input.label, "input.label")?;
    let description = check_description(input.description, "input.description")?;
    const TAKEN: &str = "an attribute with this name exists (names stay reserved after retirement)";
    if scoped(tenant)
        .filter(respondent_attribute::Column::Name.eq(&name))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict("input.name", TAKEN));
    }
    let at = now();
    respondent_attribute::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(tenant.organization_id),
        name: Set(name),
        data_type: Set(input.data_type.as_str().to_owned()),
        label: Set(label),
        description: Set(description),
        created_at: Set(at),
        updated_at: Set(at),
        retired_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::conflict("input.name", TAKEN),
        _ => e.into(),
    })
}

pub async fn get(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<respondent_attribute::Model> {
    scoped(tenant)
        .filter(respondent_attribute::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("attribute"))
}

/// Every attribute of the organization, retired ones too: name → (type, retired).
pub async fn declared(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
) -> AppResult<std::collections::HashMap<String, (AttributeType, bool)>> {
    let rows = respondent_attribute::Entity::find()
        .filter(respondent_attribute::Column::OrganizationId.eq(organization_id))
        .all(conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.name.clone(), (type_of(row)?, row.retired_at.is_some()))))
        .collect()
}

/// Every attribute of the organization (retired ones too: conditions may still read them)
/// with the type conditions check against.
pub async fn catalogue(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
) -> AppResult<std::collections::HashMap<String, crate::logic::check::Scalar>> {
    Ok(declared(conn, organization_id)
        .await?
        .into_iter()
        .map(|(name, (kind, _))| (name, kind.scalar()))
        .collect())
}

/// The catalogue in creation order; retired attributes only when asked for.
pub async fn list(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    include_retired: bool,
    request: PageRequest,
) -> AppResult<Page<respondent_attribute::Model>> {
    let mut select = scoped(tenant);
    if !include_retired {
        select = select.filter(respondent_attribute::Column::RetiredAt.is_null());
    }
    page::fetch(
        conn,
        select,
        page::Order::by_id(respondent_attribute::Column::Id),
        request,
    )
    .await
}

/// Changes the label or description; `None` keeps a field.
pub async fn update(
    conn: &impl ConnectionTrait,
    tenant: Tenant,
    id: Uuid,
    label: Option<String>,
    description: Option<String>,
) -> AppResult<respondent_attribute::Model> {
    let mut model = get(conn, tenant, id).await?.into_active_model();
    if let Some(label) = label {
        model.label = Set(validate::name(&label, "input.label")?);
    }
    if description.is_some() {
        model.description = Set(check_description(description, "input.description")?);
    }
    model.updated_at = Set(now());
    Ok(model.update(conn).await?)
}

/// Retires an attribute (idempotent).
pub async fn retire(conn: &impl ConnectionTrait, tenant: Tenant, id: Uuid) -> AppResult<respondent_attribute::Model> {
    let current = get(conn, tenant, id).await?;
    if current.retired_at.is_some() {
        return Ok(current);
    }
    let at = now();
    let mut model = current.into_active_model();
    model.retired_at = Set(Some(at));
    model.updated_at = Set(at);
    Ok(model.update(conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_machine_names() {
        for good in ["plan", "customer_since", "ltv2", "a"] {
            assert_eq!(check_name(good, "n").unwrap(), good);
        }
        for bad in [
            "",
            "Plan",
            "2plan",
            "_plan",
            "plan-name",
            "plan name",
            "نام",
            &"a".repeat(65),
        ] {
            assert!(check_name(bad, "n").is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn types_round_trip() {
        for t in [
            AttributeType::String,
            AttributeType::Number,
            AttributeType::Boolean,
            AttributeType::Date,
        ] {
            assert_eq!(AttributeType::parse(t.as_str()), Some(t));
        }
    }
}
