//! Input types of form authoring and their conversion to the pure model.
use crate::codes::ProblemCode;
use async_graphql::{ID, InputObject, MaybeUndefined, OneofObject};
use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    error::{AppError, AppResult},
    form::{
        Problem,
        kind::{Metric, QuestionKind},
        model::{FormSettings, ResponseLimit, Screen, Text, Theme},
        rules::{ChoiceRules, Config, DateRules, NumberRules, RatingRules, TextRules},
    },
    service::form::edit::OptionDraft,
};

/// One translation of a text.
#[derive(InputObject, Clone)]
pub struct TranslationInput {
    /// Language tag, one of the form's locales (e.g. `fa`, `en`).
    pub locale: String,
    /// The text, kept exactly as given (not blank).
    pub text: String,
}

/// Converts translations to a text; a locale given twice is a problem at `path`.
pub fn text(input: Vec<TranslationInput>, path: &str, problems: &mut Vec<Problem>) -> Text {
    let mut text = Text::new();
    for (i, t) in input.into_iter().enumerate() {
        if text.contains_key(&t.locale) {
            problems.push(Problem::new(
                format!("{path}[{i}].locale"),
                ProblemCode::Duplicate,
                format!("`{}` is given twice", t.locale),
            ));
        }
        text.insert(t.locale, t.text);
    }
    text
}

pub fn opt_text(input: Option<Vec<TranslationInput>>, path: &str, problems: &mut Vec<Problem>) -> Option<Text> {
    input.map(|t| text(t, path, problems))
}

/// The welcome or thank-you screen (replaces the whole screen).
#[derive(InputObject)]
pub struct ScreenInput {
    /// Whether the front end shows it (default false). An enabled screen needs its title in
    /// every locale to publish.
    pub enabled: Option<bool>,
    /// Heading.
    pub title: Option<Vec<TranslationInput>>,
    /// Body text (at most 10,000 characters).
    pub body: Option<Vec<TranslationInput>>,
    /// Button label.
    pub button_label: Option<Vec<TranslationInput>>,
    /// Thank-you screen only: an absolute http(s) URL to send the respondent to afterwards.
    pub redirect_url: Option<String>,
}

impl ScreenInput {
    pub fn into_screen(self, path: &str, problems: &mut Vec<Problem>) -> Screen {
        Screen {
            enabled: self.enabled.unwrap_or(false),
            title: text(self.title.unwrap_or_default(), &format!("{path}.title"), problems),
            body: text(self.body.unwrap_or_default(), &format!("{path}.body"), problems),
            button_label: text(
                self.button_label.unwrap_or_default(),
                &format!("{path}.buttonLabel"),
                problems,
            ),
            redirect_url: self.redirect_url,
        }
    }
}

/// Theme settings (replaces the whole theme; stored for front ends, not rendered).
#[derive(InputObject)]
pub struct ThemeInput {
    /// Logo image: absolute http(s) URL.
    pub logo_url: Option<String>,
    /// `#rgb`, `#rrggbb` or `#rrggbbaa`.
    pub primary_color: Option<String>,
    /// `#rgb`, `#rrggbb` or `#rrggbbaa`.
    pub background_color: Option<String>,
    /// `#rgb`, `#rrggbb` or `#rrggbbaa`.
    pub text_color: Option<String>,
    /// Background image: absolute http(s) URL.
    pub background_image_url: Option<String>,
    /// Font family name (1–100 characters).
    pub font_family: Option<String>,
}

impl From<ThemeInput> for Theme {
    fn from(t: ThemeInput) -> Self {
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

/// Collection settings; a field left out keeps its current value (or its default on a new
/// form: unlimited responses, anonymous allowed, no geolocation, no IP address).
#[derive(InputObject, Default)]
pub struct FormSettingsInput {
    /// How many responses one respondent or device may give.
    pub response_limit: Option<ResponseLimit>,
    /// Accept responses without a known respondent.
    pub allow_anonymous: Option<bool>,
    /// Ask front ends to collect the respondent's location.
    pub collect_geolocation: Option<bool>,
    /// Store a hash of the respondent's IP address.
    pub store_ip_address: Option<bool>,
    /// Stop accepting responses at this time (RFC 3339); null removes the date.
    pub closes_at: MaybeUndefined<DateTime<Utc>>,
    /// Stop after this many completed responses (at least 1); null removes the quota.
    pub response_quota: MaybeUndefined<u32>,
    /// Origins whose pages may submit responses, e.g. `https://shop.example.com` (at most 50;
    /// empty: any origin).
    pub allowed_origins: Option<Vec<String>>,
    /// Show respondents options' weights and their total score.
    pub show_scores: Option<bool>,
}

impl FormSettingsInput {
    pub fn apply(self, settings: &mut FormSettings) {
        if let Some(v) = self.response_limit {
            settings.response_limit = v;
        }
        if let Some(v) = self.allow_anonymous {
            settings.allow_anonymous = v;
        }
        if let Some(v) = self.collect_geolocation {
            settings.collect_geolocation = v;
        }
        if let Some(v) = self.store_ip_address {
            settings.store_ip_address = v;
        }
        if let Some(v) = self.show_scores {
            settings.show_scores = v;
        }
        match self.closes_at {
            MaybeUndefined::Value(v) => settings.closes_at = Some(v),
            MaybeUndefined::Null => settings.closes_at = None,
            MaybeUndefined::Undefined => {}
        }
        match self.response_quota {
            MaybeUndefined::Value(v) => settings.response_quota = Some(v),
            MaybeUndefined::Null => settings.response_quota = None,
            MaybeUndefined::Undefined => {}
        }
        if let Some(v) = self.allowed_origins {
            settings.allowed_origins = v;
        }
    }
}

/// Rules of text answers.
#[derive(InputObject)]
pub struct TextConfigInput {
    /// Fewest characters.
    pub min_length: Option<u32>,
    /// Most characters (at most 1,000 for short text, 20,000 for long text).
    pub max_length: Option<u32>,
    /// A regular expression the whole answer must match (at most 500 characters).
    pub pattern: Option<String>,
}

/// Rules of choice, dropdown and Likert questions.
#[derive(InputObject)]
pub struct ChoiceConfigInput {
    /// Offer "other, please specify" with free text (default false).
    pub allow_other: Option<bool>,
    /// Show options in a random order per respondent (default false).
    pub randomize_options: Option<bool>,
    /// Multiple choice only: fewest options to pick.
    pub min_choices: Option<u32>,
    /// Multiple choice only: most options to pick (at most the number of options).
    pub max_choices: Option<u32>,
}

/// Rules of star ratings.
#[derive(InputObject)]
pub struct RatingConfigInput {
    /// Number of stars, 2 to 10.
    pub max_stars: u32,
}

/// Rules of numbers.
#[derive(InputObject)]
pub struct NumberConfigInput {
    /// Smallest accepted value.
    pub min: Option<f64>,
    /// Largest accepted value.
    pub max: Option<f64>,
    /// Accept whole numbers only (default false).
    pub integer_only: Option<bool>,
}

/// Rules of dates.
#[derive(InputObject)]
pub struct DateConfigInput {
    /// Earliest accepted date.
    pub min: Option<NaiveDate>,
    /// Latest accepted date.
    pub max: Option<NaiveDate>,
}

/// A question's configuration: exactly one member, the one that fits its kind (`text` for
/// SHORT_TEXT and LONG_TEXT, `choice` for SINGLE_CHOICE, MULTIPLE_CHOICE, DROPDOWN and
/// LIKERT, `rating` for RATING, `number` for NUMBER, `date` for DATE). Other kinds take none.
#[derive(OneofObject)]
pub enum QuestionConfigInput {
    /// For SHORT_TEXT and LONG_TEXT.
    Text(TextConfigInput),
    /// For SINGLE_CHOICE, MULTIPLE_CHOICE, DROPDOWN and LIKERT.
    Choice(ChoiceConfigInput),
    /// For RATING.
    Rating(RatingConfigInput),
    /// For NUMBER.
    Number(NumberConfigInput),
    /// For DATE.
    Date(DateConfigInput),
}

impl From<QuestionConfigInput> for Config {
    fn from(input: QuestionConfigInput) -> Self {
        match input {
            QuestionConfigInput::Text(t) => Config::Text(TextRules {
                min_length: t.min_length,
                max_length: t.max_length,
                pattern: t.pattern,
            }),
            QuestionConfigInput::Choice(c) => Config::Choice(ChoiceRules {
                allow_other: c.allow_other.unwrap_or(false),
                randomize_options: c.randomize_options.unwrap_or(false),
                min_choices: c.min_choices,
                max_choices: c.max_choices,
            }),
            QuestionConfigInput::Rating(r) => Config::Rating(RatingRules { max_stars: r.max_stars }),
            QuestionConfigInput::Number(n) => Config::Number(NumberRules {
                min: n.min,
                max: n.max,
                integer_only: n.integer_only.unwrap_or(false),
            }),
            QuestionConfigInput::Date(d) => Config::Date(DateRules { min: d.min, max: d.max }),
        }
    }
}

/// An option of a choice question.
#[derive(InputObject)]
pub struct OptionInput {
    /// Stable value (1–64 of a-z, 0-9, `_`, `-`). Send existing options' values back
    /// unchanged; leave it out for a new option and a readable one is generated.
    pub value: Option<String>,
    /// What the respondent sees.
    pub label: Vec<TranslationInput>,
    /// Weight in scores.
    pub score: Option<f64>,
}

pub fn options(input: Vec<OptionInput>, path: &str, problems: &mut Vec<Problem>) -> Vec<OptionDraft> {
    input
        .into_iter()
        .enumerate()
        .map(|(i, o)| OptionDraft {
            value: o.value,
            label: text(o.label, &format!("{path}[{i}].label"), problems),
            score: o.score,
        })
        .collect()
}

/// A new form.
#[derive(InputObject)]
pub struct CreateFormInput {
    /// Title in one or more languages.
    pub title: Vec<TranslationInput>,
    /// The form's languages, the default first (at most 10). Default: the title's languages
    /// in the order given.
    pub locales: Option<Vec<String>>,
    /// Introduction.
    pub description: Option<Vec<TranslationInput>>,
    /// Customer-journey touchpoint label (purchase, support…; at most 100 characters).
    pub touchpoint: Option<String>,
    /// Collection settings.
    pub settings: Option<FormSettingsInput>,
}

/// Changes to what respondents see; they go to the draft version (started from the published
/// version if there is none). A field left out is kept.
#[derive(InputObject)]
pub struct UpdateFormInput {
    /// The form's ID.
    pub id: ID,
    /// The form's languages, the default first. Translations in a language left out are
    /// deleted from the draft.
    pub locales: Option<Vec<String>>,
    /// Title.
    pub title: Option<Vec<TranslationInput>>,
    /// Introduction.
    pub description: Option<Vec<TranslationInput>>,
    /// Welcome screen.
    pub welcome: Option<ScreenInput>,
    /// Thank-you screen.
    pub thank_you: Option<ScreenInput>,
    /// Theme settings.
    pub theme: Option<ThemeInput>,
}

/// Changes to settings that are not part of a version: they apply at once, also to a
/// published form.
#[derive(InputObject)]
pub struct UpdateFormSettingsInput {
    /// The form's ID.
    pub id: ID,
    /// Touchpoint label; null or blank removes it.
    pub touchpoint: MaybeUndefined<String>,
    /// Collection settings; fields left out are kept.
    pub settings: Option<FormSettingsInput>,
}

/// A new section.
#[derive(InputObject)]
pub struct AddSectionInput {
    /// The form's ID.
    pub form_id: ID,
    /// 0-based position among the sections (default: last).
    pub position: Option<i32>,
    /// Heading.
    pub title: Option<Vec<TranslationInput>>,
    /// Text under the heading.
    pub description: Option<Vec<TranslationInput>>,
}

/// Changes to a section; a field left out is kept.
#[derive(InputObject)]
pub struct UpdateSectionInput {
    /// The section's ID.
    pub id: ID,
    /// Heading.
    pub title: Option<Vec<TranslationInput>>,
    /// Text under the heading.
    pub description: Option<Vec<TranslationInput>>,
}

/// Moves a section.
#[derive(InputObject)]
pub struct MoveSectionInput {
    /// The section's ID.
    pub id: ID,
    /// Its new 0-based position.
    pub position: i32,
}

/// A new question.
#[derive(InputObject)]
pub struct AddQuestionInput {
    /// The section it goes into.
    pub section_id: ID,
    /// 0-based position in the section (default: last).
    pub position: Option<i32>,
    /// Stable key (a lower-case letter, then lower-case letters, digits or `_`; at most 64),
    /// unique in the form. Left out, a readable one is generated from the English title or
    /// the kind (`nps`, `why_did_you`, `q_2`).
    pub key: Option<String>,
    /// What it asks for.
    pub kind: QuestionKind,
    /// The kind's configuration (default: the kind's defaults, e.g. 5 stars).
    pub config: Option<QuestionConfigInput>,
    /// Whether an answer is needed when the question is shown (default false).
    pub required: Option<bool>,
    /// Mark it as feeding a metric: NPS needs an NPS question; CSAT a CSAT question or 5
    /// stars; CES a CES question or 7 stars. One question per metric in a form.
    pub metric: Option<Metric>,
    /// The question text (needed in every locale to publish, except for hidden fields).
    pub title: Vec<TranslationInput>,
    /// Help text.
    pub description: Option<Vec<TranslationInput>>,
    /// Options (choice, dropdown and Likert questions; at most 200).
    pub options: Option<Vec<OptionInput>>,
}

/// Changes to a question; a field left out is kept. Once a version with the question is
/// published, its key and kind never change.
#[derive(InputObject)]
pub struct UpdateQuestionInput {
    /// The question's ID.
    pub id: ID,
    /// New key (only while the question was never published).
    pub key: Option<String>,
    /// New kind (only while the question was never published); without `config`, the new
    /// kind's defaults.
    pub kind: Option<QuestionKind>,
    /// New configuration (replaces the whole configuration).
    pub config: Option<QuestionConfigInput>,
    /// Whether an answer is needed when shown.
    pub required: Option<bool>,
    /// Metric mark; null removes it.
    pub metric: MaybeUndefined<Metric>,
    /// The question text.
    pub title: Option<Vec<TranslationInput>>,
    /// Help text.
    pub description: Option<Vec<TranslationInput>>,
    /// The whole new list of options, in order.
    pub options: Option<Vec<OptionInput>>,
}

/// Moves a question within its section or to another: one drag and drop.
#[derive(InputObject)]
pub struct MoveQuestionInput {
    /// The question's ID.
    pub id: ID,
    /// The section it goes to (its own or another).
    pub section_id: ID,
    /// Its 0-based position there.
    pub position: i32,
}

/// One section of a new arrangement, with its questions in order.
#[derive(InputObject)]
pub struct SectionLayoutInput {
    /// The section's ID.
    pub section_id: ID,
    /// Its questions in order (from any section of the draft).
    pub question_ids: Vec<ID>,
}

/// A new arrangement of the whole draft: every section and question exactly once.
#[derive(InputObject)]
pub struct ArrangeFormInput {
    /// The form's ID.
    pub form_id: ID,
    /// Sections in order, each with its questions in order.
    pub sections: Vec<SectionLayoutInput>,
}

/// Reports the problems collected while reading an input.
pub fn finish(problems: Vec<Problem>) -> AppResult<()> {
    AppError::invalid(problems)
}
