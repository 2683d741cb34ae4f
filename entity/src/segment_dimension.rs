use sea_orm::entity::prelude::*;

/// What a form's counts by segment hold of one attribute: the values folded so far, or that the
/// attribute has more distinct values than a fold admits, in which case it has no segments and
/// breakdowns and filters by it read the responses.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_dimensions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub form_id: Uuid,
    /// As `segment_tallies.dimension` (`a:<attribute>`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub dimension: String,
    /// The segments folded so far: a JSON array of values, sorted (empty once overflowed).
    pub segments: String,
    /// Past the bound: no segments are kept for it.
    pub overflowed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
