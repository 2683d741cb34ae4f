use sea_orm::entity::prelude::*;

/// A respondent attribute's value as it was when the response was completed (a snapshot):
/// filters and breakdowns by attribute read it, so a report by plan stays true after the
/// respondent's plan changes. Exactly one value column is set, by the attribute's type.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "response_attributes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub response_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub form_id: Uuid,
    pub text_value: Option<String>,
    pub number_value: Option<f64>,
    pub bool_value: Option<bool>,
    pub date_value: Option<Date>,
    /// The local day the response was finished on (the response's own `completed_day`), so
    /// the snapshots of a value over a period lie together in one index range.
    pub completed_day: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
