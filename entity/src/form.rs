use sea_orm::entity::prelude::*;

/// A form (survey): its lifecycle and the settings that are not part of a version.
/// Texts a respondent sees live in its versions ([`super::form_version`]).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "forms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The identifier respondents reach the published form by (random, unguessable).
    pub public_id: Option<String>,
    /// DRAFT, PUBLISHED, CLOSED or ARCHIVED.
    pub status: String,
    /// The customer-journey touchpoint the form measures (purchase, support…).
    pub touchpoint: Option<String>,
    /// The title of the newest version (JSON object locale → text), for lists.
    pub title: String,
    /// The default locale of the newest version, for the title's fallback.
    pub default_locale: String,
    /// Every translation of the title, normalised for search.
    pub search_text: String,
    /// Collection settings (JSON), changeable without a new version.
    pub settings: String,
    /// The version being edited, if any.
    pub draft_version_id: Option<Uuid>,
    /// The version respondents get, if any.
    pub published_version_id: Option<Uuid>,
    /// The highest version number so far.
    pub latest_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
