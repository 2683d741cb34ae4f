use sea_orm::entity::prelude::*;

/// A count kept up to date as responses arrive: how many responses of a form were started,
/// completed…, how many answered a question, how many gave each value or score, per local
/// day, month and in all. Spread over a few slots (summed when read) so concurrent
/// submissions do not queue on one row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub form_id: Uuid,
    /// 0: all time, 1: a month, 2: a day.
    #[sea_orm(primary_key, auto_increment = false)]
    pub grain: i16,
    /// The local day, the month's first day, or 1970-01-01 for all time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// A question key, or empty for the response itself.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// STARTED, COMPLETED, DISQUALIFIED, DURATION, TOTAL_SCORE, CHANGES; ANSWERED, VALUE, SCORE.
    #[sea_orm(primary_key, auto_increment = false)]
    pub measure: String,
    /// The value counted (a number, an option value, `true` / `false`), or empty.
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i16,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
