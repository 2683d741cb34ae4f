use sea_orm::entity::prelude::*;

/// A form's counts split by a segment of its respondents, as the tallies count them: the
/// responses whose attribute `plan` was `pro` at completion, or whose tenure at completion was
/// 7 months. Written by the fold of finished responses (see `responses.segmented`), never on
/// the write path; a breakdown or a one-segment filter sums these rows with the responses not
/// folded yet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub form_id: Uuid,
    /// `a:<attribute>` (the value as it was) or `t:<date attribute>` (tenure in months).
    #[sea_orm(primary_key, auto_increment = false)]
    pub dimension: String,
    /// 0: all time, 1: a month, 2: a day (as the tallies' grains).
    #[sea_orm(primary_key, auto_increment = false)]
    pub grain: i16,
    /// The local day, the month's first day, or 1970-01-01 for all time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// A question key, or empty for the response itself.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// As the tallies' measures.
    #[sea_orm(primary_key, auto_increment = false)]
    pub measure: String,
    /// The value counted, or empty.
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    /// The segment: the attribute's value (`true` / `false` for booleans), or the tenure's
    /// whole months.
    #[sea_orm(primary_key, auto_increment = false)]
    pub segment: String,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
