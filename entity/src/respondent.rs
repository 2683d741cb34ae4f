use sea_orm::entity::prelude::*;

/// A customer known to the organization: unique by external (CRM) id when it has one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "respondents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The id in the organization's CRM, unique in the organization.
    pub external_id: Option<String>,
    pub email: Option<String>,
    /// Digits only, with a leading `+` for international numbers.
    pub phone: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    /// Asked not to be surveyed again.
    pub opted_out: bool,
    /// Name, email, phone and external id, normalised for search.
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
