use sea_orm::entity::prelude::*;

/// One attribute value of a respondent, in the column of its declared type.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "respondent_attribute_values")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub respondent_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub organization_id: Uuid,
    pub text_value: Option<String>,
    pub number_value: Option<f64>,
    pub bool_value: Option<bool>,
    pub date_value: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
