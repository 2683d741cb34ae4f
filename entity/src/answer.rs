use sea_orm::entity::prelude::*;

/// The answer to one question (or a hidden field's value) of a response, in the column of its
/// type. Chosen options are rows of [`super::answer_choice`].
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub response_id: Uuid,
    /// The question's stable key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub question_key: String,
    pub organization_id: Uuid,
    pub form_id: Uuid,
    /// The question's kind when answered, e.g. `NPS`.
    pub kind: String,
    pub number_value: Option<f64>,
    /// Text answers, the "other" text of a choice, hidden fields' values.
    pub text_value: Option<String>,
    pub date_value: Option<Date>,
    pub bool_value: Option<bool>,
    /// Sum of the chosen options' weights, when any has one.
    pub score: Option<f64>,
    /// The response's completion time, once completed.
    pub completed_at: Option<DateTimeUtc>,
    /// Text answers normalised for search (Persian letters, digits, case).
    pub search_text: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
