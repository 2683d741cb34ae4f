use sea_orm::entity::prelude::*;

/// A declared respondent attribute: its stable name and type, against which respondents,
/// conditions and filters are checked.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "respondent_attributes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Stable machine name, unique in the organization (e.g. `plan`, `customer_since`).
    pub name: String,
    /// STRING, NUMBER, BOOLEAN or DATE; fixed once created.
    pub data_type: String,
    pub label: String,
    pub description: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Retired attributes stay known (old data keeps its meaning) but take no new use.
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
