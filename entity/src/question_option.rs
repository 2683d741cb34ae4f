use sea_orm::entity::prelude::*;

/// An option of a choice question in a form version.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "question_options")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub version_id: Uuid,
    /// The `uid` of its question.
    pub question_uid: Uuid,
    pub position: i32,
    /// Stable value, unique in its question, kept across versions.
    pub value: String,
    /// JSON object locale → text.
    pub label: String,
    /// Weight of the option in scores.
    pub score: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
