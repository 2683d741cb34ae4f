use sea_orm::entity::prelude::*;

/// One option chosen in an answer.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "answer_choices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub response_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub question_key: String,
    /// The option's stable value.
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    pub organization_id: Uuid,
    pub form_id: Uuid,
    /// The option's weight, if it has one.
    pub score: Option<f64>,
    /// The response's completion time, once completed.
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
