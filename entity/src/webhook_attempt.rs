use sea_orm::entity::prelude::*;

/// One attempt of a delivery: the delivery log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    /// 1 for the first attempt (counting again from 1 after a replay).
    pub attempt: i32,
    pub attempted_at: DateTimeUtc,
    /// The HTTP status, if the endpoint answered.
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    /// The start of the endpoint's answer (at most 1,000 characters).
    pub response_excerpt: Option<String>,
    /// Why the attempt failed without an answer (timeout, refused destination…).
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
