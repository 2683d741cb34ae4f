//! A published form as a respondent sees it: texts in one locale, no internal fields, no
//! option weights unless the form shows them, and the rules that decide the path.
use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::form;

use crate::{
    error::AppResult,
    form::{
        kind::QuestionKind,
        model::{FormDef, FormSettings, ResponseLimit, Screen, Text},
    },
    graphql::{
        context::ContextExt,
        form::{Condition, QuestionConfig, Theme},
        id::{self, NodeKind},
    },
    service::{
        self,
        form::{FormStatus, status_of},
    },
};

/// A text in one locale: the wanted one, else the form's default, else any.
fn pick(text: &Text, locale: &str, default: &str) -> String {
    text.get(locale)
        .or_else(|| text.get(default))
        .or_else(|| text.values().next())
        .cloned()
        .unwrap_or_default()
}

/// The parts of a form version a respondent needs, in one locale.
#[derive(Clone)]
struct Localized {
    def: Arc<FormDef>,
    locale: String,
    show_scores: bool,
}

impl Localized {
    fn text(&self, text: &Text) -> String {
        pick(text, &self.locale, &self.def.default_locale)
    }
}

/// A published form as a respondent sees it, in one locale: no internal fields, no option
/// weights unless the form shows scores.
pub struct PublicForm {
    form: Arc<form::Model>,
    settings: FormSettings,
    version_id: uuid::Uuid,
    view: Localized,
}

/// A published form as a respondent sees it, in one locale.
#[Object]
impl PublicForm {
    /// The form's public identifier (what links and apps use).
    async fn public_id(&self) -> &str {
        self.form.public_id.as_deref().unwrap_or_default()
    }
    /// The version shown: send it back as `versionId` to answer this version even after a
    /// newer one is published (until the form closes).
    async fn version_id(&self) -> ID {
        id::encode(NodeKind::FormVersion, self.version_id)
    }
    /// The locale of every text here: the one asked for if the form has it (or its language),
    /// else the form's default.
    async fn locale(&self) -> &str {
        &self.view.locale
    }
    /// Every locale of the form, the default first.
    async fn locales(&self) -> &[String] {
        &self.view.def.locales
    }
    /// Title.
    async fn title(&self) -> String {
        self.view.text(&self.view.def.title)
    }
    /// Introduction.
    async fn description(&self) -> String {
        self.view.text(&self.view.def.description)
    }
    /// The welcome screen.
    async fn welcome(&self) -> PublicScreen {
        PublicScreen::new(&self.view, &self.view.def.welcome)
    }
    /// The thank-you screen.
    async fn thank_you(&self) -> PublicScreen {
        PublicScreen::new(&self.view, &self.view.def.thank_you)
    }
    /// Theme settings for the front end.
    async fn theme(&self) -> Theme {
        Theme::from(self.view.def.theme.clone())
    }
    /// Sections (pages) in order, with their questions and rules; hidden fields are not
    /// among the questions.
    async fn sections(&self) -> Vec<PublicSection> {
        (0..self.view.def.sections.len())
            .map(|index| PublicSection {
                view: self.view.clone(),
                version: self.version_id,
                index,
            })
            .collect()
    }
    /// Keys of the hidden fields the link or app may supply (in `hidden`).
    async fn hidden_fields(&self) -> Vec<String> {
        self.view
            .def
            .questions()
            .filter(|q| q.rules.kind() == QuestionKind::Hidden)
            .map(|q| q.key.clone())
            .collect()
    }
    /// How many responses a respondent or device may give.
    async fn response_limit(&self) -> ResponseLimit {
        self.settings.response_limit
    }
    /// Whether responses without an invitation are accepted.
    async fn allow_anonymous(&self) -> bool {
        self.settings.allow_anonymous
    }
    /// Whether the front end should ask for the respondent's location (and may send it).
    async fn collects_geolocation(&self) -> bool {
        self.settings.collect_geolocation
    }
    /// When the form stops accepting responses, if it has a closing date.
    async fn closes_at(&self) -> Option<DateTime<Utc>> {
        self.settings.closes_at
    }
    /// Whether options' weights and total scores are shown to respondents.
    async fn shows_scores(&self) -> bool {
        self.settings.show_scores
    }
    /// Whether the form takes responses now: published, before its closing date, under its
    /// quota. Submitting otherwise gives FORM_CLOSED or QUOTA_REACHED. Read by GET, a shared
    /// cache keeps it at most ten seconds.
    #[graphql(cache_control(max_age = 10))]
    async fn accepting_responses(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let now = ctx.state()?.clock.now();
        if status_of(&self.form)? != FormStatus::Published || self.settings.closes_at.is_some_and(|t| t <= now) {
            return Ok(false);
        }
        let Some(quota) = self.settings.response_quota else {
            return Ok(true);
        };
        let completed = service::response::store::completed_count(ctx.state()?.db.conn(), self.form.id).await?;
        Ok(completed.is_none_or(|n| n < i64::from(quota)))
    }
}

/// The welcome or the thank-you screen, in one locale.
#[derive(SimpleObject)]
pub struct PublicScreen {
    /// Whether the front end shows it.
    pub enabled: bool,
    /// Heading.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Label of its button.
    pub button_label: String,
    /// Thank-you screen only: where to send the respondent afterwards.
    pub redirect_url: Option<String>,
}

impl PublicScreen {
    fn new(view: &Localized, screen: &Screen) -> Self {
        PublicScreen {
            enabled: screen.enabled,
            title: view.text(&screen.title),
            body: view.text(&screen.body),
            button_label: view.text(&screen.button_label),
            redirect_url: screen.redirect_url.clone(),
        }
    }
}

/// A section (page) as a respondent sees it, with the rules that decide the path (so that
/// an app can follow it offline; the server applies the same rules when a response arrives).
pub struct PublicSection {
    view: Localized,
    version: uuid::Uuid,
    index: usize,
}

/// A section (page) of a published form.
#[Object]
impl PublicSection {
    /// Opaque ID of the section in this version (what `skips.to` and a response's
    /// `progress.sectionIds` name).
    async fn id(&self) -> ID {
        id::encode_versioned(NodeKind::Section, self.version, self.view.def.sections[self.index].uid)
    }
    /// Heading.
    async fn title(&self) -> String {
        self.view.text(&self.view.def.sections[self.index].title)
    }
    /// Introduction.
    async fn description(&self) -> String {
        self.view.text(&self.view.def.sections[self.index].description)
    }
    /// Shown only when this holds; null: always.
    async fn show_if(&self) -> Option<Condition> {
        Condition::of(&self.view.def.sections[self.index].show_if)
    }
    /// After the section, the first rule that holds decides the next section.
    async fn skips(&self) -> Vec<PublicSkip> {
        self.view.def.sections[self.index]
            .skips
            .iter()
            .map(|skip| PublicSkip {
                when: Condition::new(&skip.when),
                to: id::encode_versioned(NodeKind::Section, self.version, skip.to),
            })
            .collect()
    }
    /// After the section, the form ends (completed) when this holds.
    async fn end_if(&self) -> Option<Condition> {
        Condition::of(&self.view.def.sections[self.index].end_if)
    }
    /// After the section, the respondent is disqualified when this holds.
    async fn disqualify_if(&self) -> Option<Condition> {
        Condition::of(&self.view.def.sections[self.index].disqualify_if)
    }
    /// The questions in order (hidden fields left out).
    async fn questions(&self) -> Vec<PublicQuestion> {
        let section = &self.view.def.sections[self.index];
        (0..section.questions.len())
            .filter(|&q| section.questions[q].rules.kind() != QuestionKind::Hidden)
            .map(|index| PublicQuestion {
                view: self.view.clone(),
                section: self.index,
                index,
            })
            .collect()
    }
}

/// A skip rule of a section.
#[derive(SimpleObject)]
pub struct PublicSkip {
    /// When it applies.
    pub when: Condition,
    /// The section it goes to.
    pub to: ID,
}

/// A question as a respondent sees it.
pub struct PublicQuestion {
    view: Localized,
    section: usize,
    index: usize,
}

impl PublicQuestion {
    fn def(&self) -> &crate::form::model::QuestionDef {
        &self.view.def.sections[self.section].questions[self.index]
    }
}

/// A question of a published form, in one locale.
#[Object]
impl PublicQuestion {
    /// The key answers are sent under.
    async fn key(&self) -> &str {
        &self.def().key
    }
    /// What it asks for; decides which answer field to send.
    async fn kind(&self) -> QuestionKind {
        self.def().rules.kind()
    }
    /// The question text.
    async fn title(&self) -> String {
        self.view.text(&self.def().title)
    }
    /// Help text.
    async fn description(&self) -> String {
        self.view.text(&self.def().description)
    }
    /// Whether an answer is needed when the question is shown (see also `requireIf`).
    async fn required(&self) -> bool {
        self.def().required
    }
    /// Shown only when this holds; null: always (when its section is shown).
    async fn show_if(&self) -> Option<Condition> {
        Condition::of(&self.def().show_if)
    }
    /// Required (when shown) also when this holds.
    async fn require_if(&self) -> Option<Condition> {
        Condition::of(&self.def().require_if)
    }
    /// The kind's rules (lengths, ranges, pattern, choices, stars); null for kinds without.
    async fn config(&self) -> Option<QuestionConfig> {
        QuestionConfig::of(&self.def().rules)
    }
    /// Options in order; with `config.randomizeOptions` the front end shuffles them.
    async fn options(&self) -> Vec<PublicOption> {
        self.def()
            .options
            .iter()
            .map(|o| PublicOption {
                value: o.value.clone(),
                label: self.view.text(&o.label),
                score: o.score.filter(|_| self.view.show_scores),
            })
            .collect()
    }
}

/// An option of a choice question.
#[derive(SimpleObject)]
pub struct PublicOption {
    /// The value to send in `choices`.
    pub value: String,
    /// What the respondent sees.
    pub label: String,
    /// The option's weight; null unless the form shows scores.
    pub score: Option<f64>,
}

impl PublicForm {
    pub fn new(
        form: form::Model,
        settings: FormSettings,
        version_id: uuid::Uuid,
        def: Arc<FormDef>,
        locale: String,
    ) -> Self {
        PublicForm {
            view: Localized {
                locale,
                def,
                show_scores: settings.show_scores,
            },
            settings,
            version_id,
            form: Arc::new(form),
        }
    }
}
