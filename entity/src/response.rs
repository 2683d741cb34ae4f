use sea_orm::entity::prelude::*;

/// One respondent's response to one version of a form: in progress, completed or disqualified.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "responses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub form_id: Uuid,
    /// The version answered.
    pub version_id: Uuid,
    /// The known respondent, if any (anonymous otherwise).
    pub respondent_id: Option<Uuid>,
    /// IN_PROGRESS, COMPLETED or DISQUALIFIED.
    pub status: String,
    /// LINK, EMAIL, SMS, WEB_EMBED, POPUP, IN_APP, API, PHONE or IN_PERSON.
    pub channel: String,
    pub locale: Option<String>,
    pub user_agent: Option<String>,
    /// The client's device id, when it sent one.
    pub device_id: Option<String>,
    /// `r:<respondent>` or `d:<device>` when the form allows one response each: unique per form.
    pub limit_key: Option<String>,
    /// The member who recorded an interview or a call.
    pub interviewer_id: Option<Uuid>,
    /// The API key that recorded the response.
    pub api_key_id: Option<Uuid>,
    /// HMAC of the client address, only when the form stores it.
    pub ip_hash: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Sum of the answers' option weights, when any answer has one.
    pub total_score: Option<f64>,
    pub started_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    /// Whole seconds from start to completion.
    pub duration_seconds: Option<i32>,
    /// The local day (organization's time zone) it was completed or disqualified on.
    pub completed_day: Option<Date>,
    /// Whether the response's counts by segment are in `segment_tallies` (set by the fold of
    /// finished responses; reset when a rebuild recounts the form).
    pub segmented: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
