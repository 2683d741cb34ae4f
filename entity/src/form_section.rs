use sea_orm::entity::prelude::*;

/// A section (page) of a form version.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "form_sections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub version_id: Uuid,
    /// The section's identity, shared by every version of the form.
    pub uid: Uuid,
    pub position: i32,
    /// JSON object locale → text.
    pub title: String,
    /// JSON object locale → text.
    pub description: String,
    /// Show-if condition, canonical text.
    pub show_if: Option<String>,
    /// End-form condition, canonical text.
    pub end_if: Option<String>,
    /// Disqualify condition, canonical text.
    pub disqualify_if: Option<String>,
    /// JSON array of skip rules `{when, to}` in order (`when` as canonical text, `to` a section uid).
    pub skips: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
