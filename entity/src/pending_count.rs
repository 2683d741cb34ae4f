use sea_orm::entity::prelude::*;

/// A response whose report counts are not in the tallies yet: reports add it from the stored
/// response until a fold moves its counts into the tallies and deletes this row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub response_id: Uuid,
    pub form_id: Uuid,
    /// Changes to the form's freshness stamp this row stands for.
    pub changes: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
