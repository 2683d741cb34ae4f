use sea_orm::entity::prelude::*;

/// A write already done under a client's idempotency key: a retry gets `result` again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// What the key is unique in: `form:<id>` or `response:<id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub organization_id: Uuid,
    /// SHA-256 of the operation and its input: another payload under the key is refused.
    pub request_hash: String,
    /// The outcome (JSON), enough to answer again.
    pub result: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
