use sea_orm::entity::prelude::*;

/// One version of a form. Published versions (`published_at` set) never change; at most one
/// draft version per form is edited.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "form_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub form_id: Uuid,
    /// 1, 2, 3… in the order versions were started.
    pub number: i32,
    pub published_at: Option<DateTimeUtc>,
    pub default_locale: String,
    /// JSON array of locales, the default first.
    pub locales: String,
    /// JSON object locale → text.
    pub title: String,
    /// JSON object locale → text.
    pub description: String,
    /// Welcome screen (JSON).
    pub welcome: String,
    /// Thank-you screen (JSON).
    pub thank_you: String,
    /// Theme settings (JSON).
    pub theme: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
