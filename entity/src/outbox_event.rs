use sea_orm::entity::prelude::*;

/// Something that happened, written in the transaction of the change, with the body webhook
/// endpoints receive. `fanned_out` once a delivery exists for every endpoint subscribed then.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    /// Also the `webhook-id` of its deliveries (the same on every retry and replay).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// E.g. `response.completed`.
    pub event_type: String,
    /// What it is about (a response, a form, a respondent): deliveries keep its order.
    pub subject_id: Uuid,
    /// The JSON body, as sent.
    pub body: String,
    pub fanned_out: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
