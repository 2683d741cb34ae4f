use sea_orm::entity::prelude::*;

/// Where an organization wants events delivered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives, space-separated.
    pub events: String,
    pub enabled: bool,
    /// Why it was disabled by the server (e.g. it answered 410 Gone).
    pub disabled_reason: Option<String>,
    /// `whsec_` and the base64 key that signs deliveries.
    pub secret: String,
    /// The secret before the last rotation; it also signs until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
