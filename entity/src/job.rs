use sea_orm::entity::prelude::*;

/// Background work waiting or running: one row per (organization, kind, target), deleted when
/// done. `generation` grows when the same work is asked for again, so a run that started
/// before the request does not settle it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    /// What to do, e.g. REBUILD_COUNTS.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// What it is done to (a form…).
    #[sea_orm(primary_key, auto_increment = false)]
    pub target_id: Uuid,
    /// Anything else the work needs (JSON).
    pub payload: String,
    pub generation: i32,
    /// Runs started so far (failed ones included).
    pub attempts: i32,
    /// Not before.
    pub run_at: DateTimeUtc,
    /// Held by a runner until then.
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
