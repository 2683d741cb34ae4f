use sea_orm::entity::prelude::*;

/// A question of a form version.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "form_questions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub version_id: Uuid,
    /// The `uid` of its section.
    pub section_uid: Uuid,
    /// The question's identity, shared by every version of the form.
    pub uid: Uuid,
    /// Order within its section.
    pub position: i32,
    /// Stable key, unique in the form (e.g. `nps`).
    pub key: String,
    pub kind: String,
    pub required: bool,
    /// The metric the form marks this question as feeding (NPS, CSAT, CES), if marked.
    pub metric: Option<String>,
    /// JSON object locale → text.
    pub title: String,
    /// JSON object locale → text.
    pub description: String,
    /// The kind's rules (JSON, tagged by kind).
    pub rules: String,
    /// Show-if condition, canonical text.
    pub show_if: Option<String>,
    /// Require-if condition, canonical text.
    pub require_if: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
