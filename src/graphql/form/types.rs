//! The output types of forms: a form, its versions, sections, questions with typed
//! configurations, options, translations.
use std::sync::Arc;
use uuid::Uuid;

use async_graphql::{Context, ID, Object, SimpleObject, Union};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{form, form_version};
use tokio::sync::OnceCell;

use super::{loader::FormLoaders, logic::Condition};
use crate::{
    error::{AppError, AppResult},
    form::{
        Problem,
        kind::{Metric, QuestionKind},
        model::{self, FormDef, FormSettings as SettingsModel, ResponseLimit, Screen as ScreenModel, Text},
        rules::Rules,
    },
    graphql::{
        context::{ContextExt, OperationScope},
        id::{self, NodeKind},
    },
    logic::check::Catalogue,
    service::{
        self,
        form::{FormStatus, store},
    },
};

/// One translation of a text.
#[derive(SimpleObject, Clone)]
pub struct Translation {
    /// Language tag, e.g. `fa` or `en`.
    pub locale: String,
    /// The text in that language, exactly as saved.
    pub text: String,
}

/// A text a respondent sees, in each of the form's languages.
pub struct LocalizedText {
    text: Text,
    default_locale: String,
}

impl LocalizedText {
    pub fn new(text: Text, default_locale: &str) -> Self {
        LocalizedText {
            text,
            default_locale: default_locale.to_owned(),
        }
    }
}

/// A text a respondent sees, in each of the form's languages.
#[Object]
impl LocalizedText {
    /// Every translation, ordered by locale.
    async fn translations(&self) -> Vec<Translation> {
        self.text
            .iter()
            .map(|(locale, text)| Translation {
                locale: locale.clone(),
                text: text.clone(),
            })
            .collect()
    }
    /// The text in `locale`, falling back to the form's default locale, then to any
    /// translation; null when there is none.
    async fn text(
        &self,
        #[graphql(desc = "The wanted language (default: the form's default locale).")] locale: Option<String>,
    ) -> Option<&str> {
        locale
            .and_then(|l| self.text.get(&l))
            .or_else(|| self.text.get(&self.default_locale))
            .or_else(|| self.text.values().next())
            .map(String::as_str)
    }
}

/// The welcome or the thank-you screen.
pub struct Screen {
    screen: ScreenModel,
    default_locale: String,
}

/// The welcome or the thank-you screen.
#[Object]
impl Screen {
    /// Whether the front end shows it.
    async fn enabled(&self) -> bool {
        self.screen.enabled
    }
    /// Heading.
    async fn title(&self) -> LocalizedText {
        LocalizedText::new(self.screen.title.clone(), &self.default_locale)
    }
    /// Body text.
    async fn body(&self) -> LocalizedText {
        LocalizedText::new(self.screen.body.clone(), &self.default_locale)
    }
    /// Label of its button (start, finish…).
    async fn button_label(&self) -> LocalizedText {
        LocalizedText::new(self.screen.button_label.clone(), &self.default_locale)
    }
    /// Thank-you screen only: where the respondent is sent afterwards.
    async fn redirect_url(&self) -> Option<&str> {
        self.screen.redirect_url.as_deref()
    }
}

/// Theme settings: stored for front ends, not rendered by the server.
#[derive(SimpleObject)]
pub struct Theme {
    /// Logo image URL.
    pub logo_url: Option<String>,
    /// Main colour (`#rrggbb`).
    pub primary_color: Option<String>,
    /// Background colour.
    pub background_color: Option<String>,
    /// Text colour.
    pub text_color: Option<String>,
    /// Background image URL.
    pub background_image_url: Option<String>,
    /// Font family name.
    pub font_family: Option<String>,
}

impl From<model::Theme> for Theme {
    fn from(t: model::Theme) -> Self {
        Theme {
            logo_url: t.logo_url,
            primary_color: t.primary_color,
            background_color: t.background_color,
            text_color: t.text_color,
            background_image_url: t.background_image_url,
            font_family: t.font_family,
        }
    }
}

/// How a form collects responses. Not part of a version: changes apply at once.
#[derive(SimpleObject)]
pub struct FormSettings {
    /// How many responses one respondent or device may give.
    pub response_limit: ResponseLimit,
    /// Whether responses without a known respondent are accepted.
    pub allow_anonymous: bool,
    /// Whether the front end asks for and sends the respondent's location.
    pub collect_geolocation: bool,
    /// Whether a hash of the respondent's IP address is stored (off by default).
    pub store_ip_address: bool,
    /// When the form stops accepting responses (RFC 3339), if ever.
    pub closes_at: Option<DateTime<Utc>>,
    /// The number of completed responses after which the form stops accepting more.
    pub response_quota: Option<u32>,
    /// Origins whose pages may submit responses to the form (checked against the `Origin`
    /// header of public writes); empty: any origin.
    pub allowed_origins: Vec<String>,
    /// Whether respondents see options' weights and their total score.
    pub show_scores: bool,
}

impl From<SettingsModel> for FormSettings {
    fn from(s: SettingsModel) -> Self {
        FormSettings {
            response_limit: s.response_limit,
            allow_anonymous: s.allow_anonymous,
            collect_geolocation: s.collect_geolocation,
            store_ip_address: s.store_ip_address,
            closes_at: s.closes_at,
            response_quota: s.response_quota,
            allowed_origins: s.allowed_origins,
            show_scores: s.show_scores,
        }
    }
}

/// One reason a version cannot be published yet.
#[derive(SimpleObject, Clone)]
pub struct FormProblem {
    /// Where: e.g. `sections[0].questions[2].title.en`.
    pub path: String,
    /// Stable reason, e.g. `TRANSLATION_MISSING`, `OPTIONS_REQUIRED`, `FORM_EMPTY`.
    pub code: crate::codes::ProblemCode,
    /// For humans.
    pub message: String,
}

impl From<Problem> for FormProblem {
    fn from(p: Problem) -> Self {
        FormProblem {
            path: p.path,
            code: p.code,
            message: p.message,
        }
    }
}

/// A form (survey): its lifecycle, settings and versions.
#[derive(Clone)]
pub struct Form(pub Arc<form::Model>);

impl Form {
    pub fn new(model: form::Model) -> Self {
        Form(Arc::new(model))
    }
}

/// A form (survey): its lifecycle, settings and versions. Edits go to its draft version;
/// respondents get its published version.
#[Object]
impl Form {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::Form, self.0.id)
    }
    /// The identifier respondents reach the form by once published (`publicForm`,
    /// `NewResponseInput.publicId`): random, so links cannot be guessed.
    async fn public_id(&self) -> Option<&str> {
        self.0.public_id.as_deref()
    }
    /// The form's report over a period (the same as `formReport`). Any member, or an API key
    /// with `reports:read`. Weighs 100 in the query's complexity.
    #[graphql(complexity = "crate::graphql::cost::report(child_complexity)")]
    async fn report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period (default: all time).")] period: Option<crate::graphql::report::PeriodInput>,
        #[graphql(
            desc = "Only the responses this condition holds for (default: every response); as `formReport`'s filter."
        )]
        filter: Option<super::logic::ConditionInput>,
    ) -> AppResult<crate::graphql::report::FormReport> {
        ctx.authorize(crate::graphql::report::READ)?;
        let period = service::report::Period::from(period.unwrap_or_default()).check("period")?;
        let filter = super::logic::filter_arg(filter, "filter")?;
        let need = crate::graphql::report::need_of(ctx.look_ahead());
        crate::graphql::report::FormReport::load(ctx, (*self.0).clone(), period, filter, "filter", &need).await
    }
    /// Where the form stands in its lifecycle.
    async fn status(&self) -> AppResult<FormStatus> {
        service::form::status_of(&self.0)
    }
    /// The customer-journey touchpoint it measures (purchase, support, onboarding…).
    async fn touchpoint(&self) -> Option<&str> {
        self.0.touchpoint.as_deref()
    }
    /// Title of its newest version (the draft if there is one).
    async fn title(&self) -> AppResult<LocalizedText> {
        Ok(LocalizedText::new(
            service::form::title_of(&self.0)?,
            &self.0.default_locale,
        ))
    }
    /// Collection settings.
    async fn settings(&self) -> AppResult<FormSettings> {
        Ok(service::form::settings_of(&self.0)?.into())
    }
    /// The version being edited, if any. Edits go here; `publishForm` publishes it.
    async fn draft_version(&self, ctx: &Context<'_>) -> AppResult<Option<FormVersion>> {
        load_version(ctx, self.0.draft_version_id).await
    }
    /// The version respondents get, if the form was ever published.
    async fn published_version(&self, ctx: &Context<'_>) -> AppResult<Option<FormVersion>> {
        load_version(ctx, self.0.published_version_id).await
    }
    /// Every version, oldest first: earlier published versions stay readable for the
    /// responses that answered them.
    async fn versions(&self, ctx: &Context<'_>) -> AppResult<Vec<FormVersion>> {
        let rows = FormLoaders::of(ctx)?.versions_of_form.load_one(self.0.id).await?;
        Ok(rows
            .map(|rows| rows.iter().cloned().map(FormVersion::from_arc).collect())
            .unwrap_or_default())
    }
    /// The highest version number so far.
    async fn latest_version_number(&self) -> i32 {
        self.0.latest_version
    }
    /// When it was created (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it or its draft last changed (RFC 3339).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When a version was last published (RFC 3339).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// When it was closed (RFC 3339), while closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// When it was archived (RFC 3339), while archived.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
}

async fn load_version(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> AppResult<Option<FormVersion>> {
    let Some(id) = id else { return Ok(None) };
    let loaders = FormLoaders::of(ctx)?;
    let row = loaders
        .versions
        .load_one(id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("form version {id} missing")))?;
    Ok(Some(FormVersion::from_arc(row)))
}

/// Whether a version can still change.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum VersionState {
    /// Being edited; not seen by respondents.
    Draft,
    /// Frozen: never changes again.
    Published,
}

/// One version of a form: everything a respondent sees. A published version never changes.
#[derive(Clone)]
pub struct FormVersion {
    row: Arc<form_version::Model>,
    def: Arc<OnceCell<Arc<FormDef>>>,
}

impl FormVersion {
    pub fn new(row: form_version::Model) -> Self {
        Self::from_arc(Arc::new(row))
    }

    pub fn from_arc(row: Arc<form_version::Model>) -> Self {
        FormVersion {
            row,
            def: Arc::new(OnceCell::new()),
        }
    }

    /// A version whose content is already at hand (after an edit).
    pub fn with_def(row: form_version::Model, def: Arc<FormDef>) -> Self {
        FormVersion {
            row: Arc::new(row),
            def: Arc::new(OnceCell::new_with(Some(def))),
        }
    }

    fn head(&self) -> AppResult<FormDef> {
        store::head(&self.row)
    }

    /// The version's id.
    pub fn uuid(&self) -> Uuid {
        self.row.id
    }

    /// The whole version; its sections come through the per-request loader, so versions of
    /// many forms load together.
    pub async fn def(&self, ctx: &Context<'_>) -> AppResult<Arc<FormDef>> {
        self.def
            .get_or_try_init(|| async {
                // Ask for the sections before any other work, so that every version of a list
                // joins the loader's batch within its window.
                let sections = FormLoaders::of(ctx)?.sections.load_one(self.row.id).await?;
                let mut def = self.head()?;
                def.sections = sections.map(|s| s.as_ref().clone()).unwrap_or_default();
                Ok::<_, AppError>(Arc::new(def))
            })
            .await
            .cloned()
    }

    fn text(&self, text: Text) -> LocalizedText {
        LocalizedText::new(text, &self.row.default_locale)
    }
}

/// One version of a form: everything a respondent sees. A published version never changes.
#[Object]
impl FormVersion {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::FormVersion, self.row.id)
    }
    /// The form's ID.
    async fn form_id(&self) -> ID {
        id::encode(NodeKind::Form, self.row.form_id)
    }
    /// 1, 2, 3… in the order versions were started.
    async fn number(&self) -> i32 {
        self.row.number
    }
    /// Draft or published (frozen).
    async fn state(&self) -> VersionState {
        if self.row.published_at.is_some() {
            VersionState::Published
        } else {
            VersionState::Draft
        }
    }
    /// When it was published (RFC 3339).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.row.published_at
    }
    /// When it was started (RFC 3339).
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// When it last changed (RFC 3339); a published version's is its publication time.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    /// The language shown when a respondent's is not available.
    async fn default_locale(&self) -> &str {
        &self.row.default_locale
    }
    /// Every language of the form, the default first. Publishing needs every text in each.
    async fn locales(&self) -> AppResult<Vec<String>> {
        Ok(self.head()?.locales)
    }
    /// Title.
    async fn title(&self) -> AppResult<LocalizedText> {
        Ok(self.text(self.head()?.title))
    }
    /// Introduction under the title.
    async fn description(&self) -> AppResult<LocalizedText> {
        Ok(self.text(self.head()?.description))
    }
    /// The screen before the first question.
    async fn welcome(&self) -> AppResult<Screen> {
        Ok(Screen {
            screen: self.head()?.welcome,
            default_locale: self.row.default_locale.clone(),
        })
    }
    /// The screen after the last question.
    async fn thank_you(&self) -> AppResult<Screen> {
        Ok(Screen {
            screen: self.head()?.thank_you,
            default_locale: self.row.default_locale.clone(),
        })
    }
    /// Theme settings.
    async fn theme(&self) -> AppResult<Theme> {
        Ok(Theme::from(self.head()?.theme))
    }
    /// The sections (pages) in order, each with its questions. A form has at most 100
    /// sections and 500 questions, so this is a plain list.
    async fn sections(&self, ctx: &Context<'_>) -> AppResult<Vec<Section>> {
        let def = self.def(ctx).await?;
        Ok((0..def.sections.len())
            .map(|s| Section {
                def: def.clone(),
                version: self.row.id,
                index: s,
            })
            .collect())
    }
    /// Every question in order (section by section).
    async fn questions(&self, ctx: &Context<'_>) -> AppResult<Vec<Question>> {
        let def = self.def(ctx).await?;
        Ok(all_questions(&def, self.row.id))
    }
    /// The question with this key, if any.
    async fn question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A question key, e.g. `nps`.")] key: String,
    ) -> AppResult<Option<Question>> {
        let def = self.def(ctx).await?;
        Ok(all_questions(&def, self.row.id)
            .into_iter()
            .find(|q| q.def().key == key))
    }
    /// The question that feeds each metric: the one marked for it, else the first whose kind
    /// implies it.
    async fn metric_questions(&self, ctx: &Context<'_>) -> AppResult<Vec<MetricQuestion>> {
        let def = self.def(ctx).await?;
        let keys: Vec<(Metric, String)> = def
            .metric_questions()
            .into_iter()
            .map(|(m, q)| (m, q.key.clone()))
            .collect();
        let questions = all_questions(&def, self.row.id);
        Ok(keys
            .into_iter()
            .filter_map(|(metric, key)| {
                questions.iter().find(|q| q.def().key == key).map(|q| MetricQuestion {
                    metric,
                    question: q.clone(),
                })
            })
            .collect())
    }
    /// What keeps this version from being published (every check `publishForm` runs); empty
    /// when it is publishable. Editors can show these as warnings while editing.
    async fn problems(&self, ctx: &Context<'_>) -> AppResult<Vec<FormProblem>> {
        let def = self.def(ctx).await?;
        let attributes = catalogue_for(ctx, self.row.organization_id, &def).await?;
        Ok(model::check_publishable(&def, &attributes)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// The problems of the version's conditions alone (a part of `problems`).
    async fn condition_problems(&self, ctx: &Context<'_>) -> AppResult<Vec<FormProblem>> {
        self.check_conditions(ctx).await
    }
}

impl FormVersion {
    /// The static checks of the version's conditions.
    async fn check_conditions(&self, ctx: &Context<'_>) -> AppResult<Vec<FormProblem>> {
        let def = self.def(ctx).await?;
        let attributes = catalogue_for(ctx, self.row.organization_id, &def).await?;
        Ok(crate::logic::check::check(&def, &attributes)
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// The organization's attribute catalogue for checking `def`'s conditions: read once per
/// operation, and not at all when no condition reads an attribute.
pub async fn catalogue_for(ctx: &Context<'_>, organization_id: uuid::Uuid, def: &FormDef) -> AppResult<Arc<Catalogue>> {
    if !def.reads_attributes() {
        return Ok(Arc::new(Catalogue::new()));
    }
    catalogue(ctx, organization_id).await
}

/// The organization's attribute catalogue, read once per operation.
pub async fn catalogue(ctx: &Context<'_>, organization_id: uuid::Uuid) -> AppResult<Arc<Catalogue>> {
    let conn = ctx.state()?.db.conn();
    let load = || async {
        Ok::<_, AppError>((
            organization_id,
            Arc::new(service::attribute::catalogue(conn, organization_id).await?),
        ))
    };
    if let Ok(scope) = ctx.data::<OperationScope>() {
        let (org, attributes) = scope.attributes.get_or_try_init(load).await?;
        if *org == organization_id {
            return Ok(attributes.clone());
        }
    }
    Ok(load().await?.1)
}

/// Every question of a version, section by section.
pub fn all_questions(def: &Arc<FormDef>, version: Uuid) -> Vec<Question> {
    def.sections
        .iter()
        .enumerate()
        .flat_map(|(s, section)| {
            (0..section.questions.len()).map(move |q| Question {
                def: def.clone(),
                version,
                section: s,
                index: q,
            })
        })
        .collect()
}

/// The question that feeds a metric.
#[derive(SimpleObject)]
pub struct MetricQuestion {
    /// The metric.
    pub metric: Metric,
    /// Its question.
    pub question: Question,
}

/// A section (page) of a form version.
#[derive(Clone)]
pub struct Section {
    pub def: Arc<FormDef>,
    /// The version's id.
    pub version: Uuid,
    pub index: usize,
}

/// A section (page) of a form version.
#[Object]
impl Section {
    /// Opaque ID of the section in this version (its copy in another version has another):
    /// mutations take the ID of any version's copy and act on the draft's.
    pub async fn id(&self) -> ID {
        id::encode_versioned(NodeKind::Section, self.version, self.def.sections[self.index].uid)
    }
    /// 0-based position among the sections.
    async fn position(&self) -> i32 {
        self.index as i32
    }
    /// Heading of the page.
    async fn title(&self) -> LocalizedText {
        LocalizedText::new(self.def.sections[self.index].title.clone(), &self.def.default_locale)
    }
    /// Text under the heading.
    async fn description(&self) -> LocalizedText {
        LocalizedText::new(
            self.def.sections[self.index].description.clone(),
            &self.def.default_locale,
        )
    }
    /// Shown only when this holds; null: always. A section passed over skips its rules too.
    async fn show_if(&self) -> Option<Condition> {
        Condition::of(&self.def.sections[self.index].show_if)
    }
    /// After the section, in order: the first rule that holds decides the next section
    /// (unless the end or disqualify rule holds).
    async fn skips(&self) -> Vec<SkipRule> {
        self.def.sections[self.index]
            .skips
            .iter()
            .map(|skip| SkipRule {
                when: Condition(Arc::new(skip.when.clone())),
                to: id::encode_versioned(NodeKind::Section, self.version, skip.to),
                section: self.def.find_section(skip.to).map(|index| Section {
                    def: self.def.clone(),
                    version: self.version,
                    index,
                }),
            })
            .collect()
    }
    /// After the section, the form ends (completed) when this holds; wins over skips.
    async fn end_if(&self) -> Option<Condition> {
        Condition::of(&self.def.sections[self.index].end_if)
    }
    /// After the section, the respondent is disqualified when this holds; wins over the end
    /// rule and skips.
    async fn disqualify_if(&self) -> Option<Condition> {
        Condition::of(&self.def.sections[self.index].disqualify_if)
    }
    /// Its questions in order.
    async fn questions(&self) -> Vec<Question> {
        (0..self.def.sections[self.index].questions.len())
            .map(|q| Question {
                def: self.def.clone(),
                version: self.version,
                section: self.index,
                index: q,
            })
            .collect()
    }
}

/// A skip rule of a section.
#[derive(SimpleObject)]
pub struct SkipRule {
    /// When it applies.
    pub when: Condition,
    /// The ID of the section it goes to.
    pub to: ID,
    /// That section in this version; null if the version no longer has it (a warning,
    /// `SKIP_TARGET_UNKNOWN`, that refuses publication).
    pub section: Option<Section>,
}

/// A question of a form version.
#[derive(Clone)]
pub struct Question {
    pub def: Arc<FormDef>,
    /// The version's id.
    pub version: Uuid,
    pub section: usize,
    pub index: usize,
}

impl Question {
    fn def(&self) -> &model::QuestionDef {
        &self.def.sections[self.section].questions[self.index]
    }

    fn text(&self, text: &Text) -> LocalizedText {
        LocalizedText::new(text.clone(), &self.def.default_locale)
    }
}

/// A question of a form version, with its kind's typed configuration and its options.
#[Object]
impl Question {
    /// Opaque ID of the question in this version (its copy in another version has another;
    /// `key` is what stays): mutations take the ID of any version's copy and act on the
    /// draft's.
    pub async fn id(&self) -> ID {
        id::encode_versioned(NodeKind::Question, self.version, self.def().uid)
    }
    /// Stable key, unique in the form and kept across versions (e.g. `nps`); answers,
    /// conditions, exports and reports refer to it.
    async fn key(&self) -> &str {
        &self.def().key
    }
    /// What it asks for.
    async fn kind(&self) -> QuestionKind {
        self.def().rules.kind()
    }
    /// The section's ID (in this version).
    async fn section_id(&self) -> ID {
        id::encode_versioned(NodeKind::Section, self.version, self.def.sections[self.section].uid)
    }
    /// 0-based position in its section.
    async fn position(&self) -> i32 {
        self.index as i32
    }
    /// The question text.
    async fn title(&self) -> LocalizedText {
        self.text(&self.def().title)
    }
    /// Help text under the question.
    async fn description(&self) -> LocalizedText {
        self.text(&self.def().description)
    }
    /// Whether an answer is needed (when the question is shown).
    async fn required(&self) -> bool {
        self.def().required
    }
    /// Shown only when this holds; null: always (when its section is shown).
    async fn show_if(&self) -> Option<Condition> {
        Condition::of(&self.def().show_if)
    }
    /// Required (when shown) also when this holds, whatever `required` says.
    async fn require_if(&self) -> Option<Condition> {
        Condition::of(&self.def().require_if)
    }
    /// The metric the form explicitly marks this question as feeding.
    async fn metric(&self) -> Option<Metric> {
        self.def().metric
    }
    /// The metric this question feeds in reports: its mark, else the one its kind implies
    /// when it is the form's first question of that kind and no other is marked.
    async fn feeds(&self) -> Option<Metric> {
        let uid = self.def().uid;
        self.def
            .metric_questions()
            .into_iter()
            .find(|(_, q)| q.uid == uid)
            .map(|(m, _)| m)
    }
    /// The kind's own configuration; null for kinds without one (yes/no, email, phone, hidden).
    async fn config(&self) -> Option<QuestionConfig> {
        QuestionConfig::of(&self.def().rules)
    }
    /// Options in order (choice, dropdown and Likert questions); empty for other kinds.
    async fn options(&self) -> Vec<ChoiceOption> {
        let default = &self.def.default_locale;
        self.def()
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| ChoiceOption {
                value: o.value.clone(),
                label: LocalizedText::new(o.label.clone(), default),
                score: o.score,
                position: i as i32,
            })
            .collect()
    }
}

/// An option of a choice question.
#[derive(SimpleObject)]
pub struct ChoiceOption {
    /// Stable value, unique in the question and kept across versions; answers store it.
    pub value: String,
    /// What the respondent sees.
    pub label: LocalizedText,
    /// Weight of the option in scores (sums and means), if it has one.
    pub score: Option<f64>,
    /// 0-based position.
    pub position: i32,
}

/// Rules of text answers (short text, long text).
#[derive(SimpleObject)]
pub struct TextConfig {
    /// Fewest characters.
    pub min_length: Option<u32>,
    /// Most characters.
    pub max_length: Option<u32>,
    /// A regular expression the whole answer must match.
    pub pattern: Option<String>,
}

/// Rules of choice, dropdown and Likert questions.
#[derive(SimpleObject)]
pub struct ChoiceConfig {
    /// Whether "other, please specify" with free text is offered.
    pub allow_other: bool,
    /// Whether options are shown in a random order per respondent.
    pub randomize_options: bool,
    /// Multiple choice: fewest options to pick.
    pub min_choices: Option<u32>,
    /// Multiple choice: most options to pick.
    pub max_choices: Option<u32>,
}

/// Rules of star ratings.
#[derive(SimpleObject)]
pub struct RatingConfig {
    /// Number of stars (2–10); answers are 1 to this.
    pub max_stars: u32,
}

/// Rules of numbers.
#[derive(SimpleObject)]
pub struct NumberConfig {
    /// Smallest accepted value.
    pub min: Option<f64>,
    /// Largest accepted value.
    pub max: Option<f64>,
    /// Whether only whole numbers are accepted.
    pub integer_only: bool,
}

/// Rules of dates.
#[derive(SimpleObject)]
pub struct DateConfig {
    /// Earliest accepted date.
    pub min: Option<NaiveDate>,
    /// Latest accepted date.
    pub max: Option<NaiveDate>,
}

/// The fixed scale of NPS (0–10), CSAT (1–5) and CES (1–7) questions.
#[derive(SimpleObject)]
pub struct ScaleConfig {
    /// Lowest answer.
    pub min: i32,
    /// Highest answer.
    pub max: i32,
}

/// A question kind's configuration, typed per kind.
#[derive(Union)]
pub enum QuestionConfig {
    /// SHORT_TEXT and LONG_TEXT.
    Text(TextConfig),
    /// SINGLE_CHOICE, MULTIPLE_CHOICE, DROPDOWN and LIKERT.
    Choice(ChoiceConfig),
    /// RATING.
    Rating(RatingConfig),
    /// NUMBER.
    Number(NumberConfig),
    /// DATE.
    Date(DateConfig),
    /// NPS, CSAT and CES (read-only).
    Scale(ScaleConfig),
}

impl QuestionConfig {
    pub fn of(rules: &Rules) -> Option<QuestionConfig> {
        Some(match rules {
            Rules::ShortText(t) | Rules::LongText(t) => QuestionConfig::Text(TextConfig {
                min_length: t.min_length,
                max_length: t.max_length,
                pattern: t.pattern.clone(),
            }),
            Rules::SingleChoice(c) | Rules::MultipleChoice(c) | Rules::Dropdown(c) | Rules::Likert(c) => {
                QuestionConfig::Choice(ChoiceConfig {
                    allow_other: c.allow_other,
                    randomize_options: c.randomize_options,
                    min_choices: c.min_choices,
                    max_choices: c.max_choices,
                })
            }
            Rules::Rating(r) => QuestionConfig::Rating(RatingConfig { max_stars: r.max_stars }),
            Rules::Number(n) => QuestionConfig::Number(NumberConfig {
                min: n.min,
                max: n.max,
                integer_only: n.integer_only,
            }),
            Rules::Date(d) => QuestionConfig::Date(DateConfig { min: d.min, max: d.max }),
            Rules::Nps | Rules::Csat | Rules::Ces => {
                let (min, max) = rules.kind().fixed_scale()?;
                QuestionConfig::Scale(ScaleConfig { min, max })
            }
            Rules::YesNo | Rules::Email | Rules::Phone | Rules::Hidden => return None,
        })
    }
}

/// The result of an edit: the form, the draft version the edit went to, and the section or
/// question it created or changed.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct FormEdit {
    /// The form after the edit.
    pub form: Form,
    /// The draft version after the edit (started from the published version if needed).
    pub version: FormVersion,
    /// The section created or changed, if the edit was about one.
    pub section: Option<Section>,
    /// The question created or changed, if the edit was about one.
    pub question: Option<Question>,
}

#[async_graphql::ComplexObject]
impl FormEdit {
    /// What the static checks find in the draft's conditions after the edit: unknown keys,
    /// attributes or hidden fields, mismatched types, values that are not options or out of
    /// range, reads of later questions, skip loops, unreachable sections and questions,
    /// contradictions. Saved anyway; publishing refuses them.
    async fn warnings(&self, ctx: &Context<'_>) -> AppResult<Vec<FormProblem>> {
        self.version.check_conditions(ctx).await
    }
}

impl FormEdit {
    pub fn new(edited: service::form::Edited) -> Self {
        FormEdit {
            form: Form::new(edited.form),
            version: FormVersion::with_def(edited.version, edited.def),
            section: None,
            question: None,
        }
    }

    pub fn with_section(mut self, uid: uuid::Uuid) -> Self {
        let def = self.version.def.get().cloned();
        let version = self.version.uuid();
        self.section = def.and_then(|def| def.find_section(uid).map(|index| Section { def, version, index }));
        self
    }

    pub fn with_question(mut self, uid: uuid::Uuid) -> Self {
        let def = self.version.def.get().cloned();
        let version = self.version.uuid();
        self.question = def.and_then(|def| {
            def.find_question(uid).map(|(section, index)| Question {
                def,
                version,
                section,
                index,
            })
        });
        self
    }
}
