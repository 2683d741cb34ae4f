use sea_orm::entity::prelude::*;

/// One event to one endpoint: PENDING until DELIVERED or FAILED (given up, or the endpoint
/// answered 410 Gone).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub subject_id: Uuid,
    pub status: String,
    /// Attempts made since it was created or last replayed.
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Held by a dispatcher until then.
    pub locked_until: Option<DateTimeUtc>,
    /// The HTTP status of the last attempt, if the endpoint answered.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
