//! A form version as data ([`FormDef`]) and every check on it: the invariants each saved draft
//! keeps ([`check_draft`]) and the completeness a version needs to be published
//! ([`check_publishable`]). Pure: storage and the API convert to and from these types.
use crate::codes::ProblemCode;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::logic::expr::Expr;

use super::{
    Problem,
    kind::{Metric, QuestionKind},
    rules::Rules,
};

/// The size limits of a form, stated in the schema.
pub const MAX_SECTIONS: usize = 100;
pub const MAX_QUESTIONS: usize = 500;
pub const MAX_OPTIONS: usize = 200;
pub const MAX_LOCALES: usize = 10;
/// Longest title, label or button text, in characters.
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Longest description or screen body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Longest option value.
pub const MAX_VALUE_LEN: usize = 64;
/// Longest URL (logo, background, redirect, origin).
pub const MAX_URL_LEN: usize = 2_000;
/// Most allowed embedding origins.
pub const MAX_ORIGINS: usize = 50;

/// A text in several languages: locale (`fa`, `en`, `en-GB`…) → text, kept exactly as given.
pub type Text = BTreeMap<String, String>;

/// The welcome or the thank-you screen.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Screen {
    pub enabled: bool,
    pub title: Text,
    pub body: Text,
    pub button_label: Text,
    /// Thank-you screen only: where to send the respondent afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// Theme settings, stored for front ends (not rendered here).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Theme {
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub text_color: Option<String>,
    pub background_image_url: Option<String>,
    pub font_family: Option<String>,
}

/// An option of a choice question.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OptionDef {
    /// Stable value, unique in the question, kept across versions.
    pub value: String,
    pub label: Text,
    /// Weight in scores.
    pub score: Option<f64>,
}

/// A question.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuestionDef {
    /// Identity shared by every version of the form.
    pub uid: Uuid,
    /// Stable key, unique in the form.
    pub key: String,
    pub required: bool,
    /// The metric the question is explicitly marked as feeding.
    pub metric: Option<Metric>,
    pub title: Text,
    pub description: Text,
    pub rules: Rules,
    pub options: Vec<OptionDef>,
    /// Shown only when this holds (always when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Expr>,
    /// Required (when shown) also when this holds, besides `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_if: Option<Expr>,
}

/// A section (page).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SectionDef {
    /// Identity shared by every version of the form.
    pub uid: Uuid,
    pub title: Text,
    pub description: Text,
    pub questions: Vec<QuestionDef>,
    /// Shown only when this holds (always when absent); a hidden section's rules do not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Expr>,
    /// After the section, the first skip that holds decides the next section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skips: Vec<Skip>,
    /// After the section, the form ends here (completed) when this holds; wins over skips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_if: Option<Expr>,
    /// After the section, the respondent is disqualified when this holds; wins over ending and
    /// skips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualify_if: Option<Expr>,
}

/// A skip rule: go to section `to` when `when` holds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Skip {
    pub when: Expr,
    /// The target section's uid.
    pub to: Uuid,
}

/// Everything a version holds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FormDef {
    pub default_locale: String,
    /// Every locale of the form, the default first.
    pub locales: Vec<String>,
    pub title: Text,
    pub description: Text,
    pub welcome: Screen,
    pub thank_you: Screen,
    pub theme: Theme,
    pub sections: Vec<SectionDef>,
}

/// How many responses one respondent may give.
#[derive(async_graphql::Enum, Serialize, Deserialize, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResponseLimit {
    /// No limit.
    #[default]
    Unlimited,
    /// One response per known respondent.
    OnePerRespondent,
    /// One response per device (the client supplies a device id).
    OnePerDevice,
}

/// Collection settings: part of the form, not of a version, so they change without a new one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FormSettings {
    pub response_limit: ResponseLimit,
    pub allow_anonymous: bool,
    pub collect_geolocation: bool,
    pub store_ip_address: bool,
    pub closes_at: Option<DateTime<Utc>>,
    pub response_quota: Option<u32>,
    pub allowed_origins: Vec<String>,
    /// Whether respondents see options' weights and their total score.
    pub show_scores: bool,
}

impl Default for FormSettings {
    fn default() -> Self {
        FormSettings {
            response_limit: ResponseLimit::Unlimited,
            allow_anonymous: true,
            collect_geolocation: false,
            store_ip_address: false,
            closes_at: None,
            response_quota: None,
            allowed_origins: Vec::new(),
            show_scores: false,
        }
    }
}

impl SectionDef {
    /// A new empty section without rules.
    pub fn new(title: Text, description: Text) -> SectionDef {
        SectionDef {
            uid: Uuid::now_v7(),
            title,
            description,
            questions: Vec::new(),
            show_if: None,
            skips: Vec::new(),
            end_if: None,
            disqualify_if: None,
        }
    }
}

impl FormDef {
    /// Gives every section and question a new identity (for a copy that is another form);
    /// skips follow their target sections.
    pub fn renew_identities(&mut self) {
        let renamed: HashMap<Uuid, Uuid> = self.sections.iter().map(|s| (s.uid, Uuid::now_v7())).collect();
        for section in &mut self.sections {
            if let Some(uid) = renamed.get(&section.uid) {
                section.uid = *uid;
            }
            for skip in &mut section.skips {
                if let Some(to) = renamed.get(&skip.to) {
                    skip.to = *to;
                }
            }
            for question in &mut section.questions {
                question.uid = Uuid::now_v7();
            }
        }
    }

    /// Whether any condition reads a respondent attribute.
    pub fn reads_attributes(&self) -> bool {
        self.conditions().any(|c| {
            c.operands()
                .iter()
                .any(|o| matches!(o, crate::logic::expr::Operand::Attribute(_)))
        })
    }

    /// Every condition of the version.
    pub fn conditions(&self) -> impl Iterator<Item = &Expr> {
        self.sections.iter().flat_map(|section| {
            let own = [&section.show_if, &section.end_if, &section.disqualify_if];
            let questions = section.questions.iter().flat_map(|q| [&q.show_if, &q.require_if]);
            own.into_iter()
                .chain(questions)
                .flatten()
                .chain(section.skips.iter().map(|k| &k.when))
        })
    }

    /// Applies `f` to every condition of the version.
    pub fn for_each_condition_mut(&mut self, mut f: impl FnMut(&mut Expr)) {
        for section in &mut self.sections {
            let own = [&mut section.show_if, &mut section.end_if, &mut section.disqualify_if];
            own.into_iter().flatten().for_each(&mut f);
            section.skips.iter_mut().for_each(|k| f(&mut k.when));
            for question in &mut section.questions {
                [&mut question.show_if, &mut question.require_if]
                    .into_iter()
                    .flatten()
                    .for_each(&mut f);
            }
        }
    }

    /// An empty form in `locales` (the first is the default) with one untitled section.
    pub fn new(locales: Vec<String>, title: Text) -> FormDef {
        FormDef {
            default_locale: locales.first().cloned().unwrap_or_else(|| "en".to_owned()),
            locales,
            title,
            description: Text::new(),
            welcome: Screen::default(),
            thank_you: Screen::default(),
            theme: Theme::default(),
            sections: vec![SectionDef::new(Text::new(), Text::new())],
        }
    }

    pub fn questions(&self) -> impl Iterator<Item = &QuestionDef> {
        self.sections.iter().flat_map(|s| s.questions.iter())
    }

    pub fn question_count(&self) -> usize {
        self.sections.iter().map(|s| s.questions.len()).sum()
    }

    /// Where the question with `uid` is: (section index, question index).
    pub fn find_question(&self, uid: Uuid) -> Option<(usize, usize)> {
        self.sections
            .iter()
            .enumerate()
            .find_map(|(s, section)| section.questions.iter().position(|q| q.uid == uid).map(|q| (s, q)))
    }

    pub fn find_section(&self, uid: Uuid) -> Option<usize> {
        self.sections.iter().position(|s| s.uid == uid)
    }

    pub fn keys(&self) -> HashSet<String> {
        self.questions().map(|q| q.key.clone()).collect()
    }

    /// The question that feeds each metric: the one marked for it, else the first whose kind
    /// implies it.
    pub fn metric_questions(&self) -> Vec<(Metric, &QuestionDef)> {
        [Metric::Nps, Metric::Csat, Metric::Ces]
            .into_iter()
            .filter_map(|metric| {
                self.questions()
                    .find(|q| q.metric == Some(metric))
                    .or_else(|| {
                        self.questions()
                            .find(|q| q.rules.kind().implied_metric() == Some(metric))
                    })
                    .map(|q| (metric, q))
            })
            .collect()
    }

    /// Every text of the version with its path, for translation checks and search.
    fn texts(&self) -> Vec<(String, &Text, bool)> {
        // (path, text, required in every locale when publishing)
        let mut texts = vec![
            ("title".to_owned(), &self.title, true),
            ("description".to_owned(), &self.description, false),
        ];
        for (name, screen) in [("welcome", &self.welcome), ("thankYou", &self.thank_you)] {
            texts.push((format!("{name}.title"), &screen.title, screen.enabled));
            texts.push((format!("{name}.body"), &screen.body, false));
            texts.push((format!("{name}.buttonLabel"), &screen.button_label, false));
        }
        for (s, section) in self.sections.iter().enumerate() {
            texts.push((format!("sections[{s}].title"), &section.title, false));
            texts.push((format!("sections[{s}].description"), &section.description, false));
            for (q, question) in section.questions.iter().enumerate() {
                let path = format!("sections[{s}].questions[{q}]");
                let titled = question.rules.kind() != QuestionKind::Hidden;
                texts.push((format!("{path}.title"), &question.title, titled));
                texts.push((format!("{path}.description"), &question.description, false));
                for (o, option) in question.options.iter().enumerate() {
                    texts.push((format!("{path}.options[{o}].label"), &option.label, true));
                }
            }
        }
        texts
    }
}

/// Whether `tag` looks like a BCP 47 language tag (`fa`, `en`, `en-GB`, `zh-Hant`).
pub fn is_locale(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    tag.len() <= 35
        && (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Checks a form's locales: valid tags, no repeats, at most [`MAX_LOCALES`].
pub fn check_locales(locales: &[String], path: &str, problems: &mut Vec<Problem>) {
    if locales.is_empty() {
        problems.push(Problem::new(
            path,
            ProblemCode::Required,
            "a form needs at least one locale",
        ));
    }
    if locales.len() > MAX_LOCALES {
        problems.push(Problem::new(
            path,
            ProblemCode::TooMany,
            format!("at most {MAX_LOCALES} locales"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, locale) in locales.iter().enumerate() {
        if !is_locale(locale) {
            problems.push(Problem::new(
                format!("{path}[{i}]"),
                ProblemCode::InvalidLocale,
                format!("`{locale}` is not a language tag such as fa, en or en-GB"),
            ));
        } else if !seen.insert(locale) {
            problems.push(Problem::new(
                format!("{path}[{i}]"),
                ProblemCode::Duplicate,
                format!("`{locale}` is listed twice"),
            ));
        }
    }
}

/// Checks one text: only the form's locales, no blank translation, at most `max` characters.
pub fn check_text(text: &Text, locales: &[String], max: usize, path: &str, problems: &mut Vec<Problem>) {
    for (locale, value) in text {
        let here = format!("{path}.{locale}");
        if !locales.iter().any(|l| l == locale) {
            problems.push(Problem::new(
                here,
                ProblemCode::UnknownLocale,
                format!("`{locale}` is not one of the form's locales ({})", locales.join(", ")),
            ));
        } else if value.trim().is_empty() {
            problems.push(Problem::new(
                here,
                ProblemCode::Blank,
                "a translation must not be blank; leave the locale out instead",
            ));
        } else if value.chars().count() > max {
            problems.push(Problem::new(
                here,
                ProblemCode::TooLong,
                format!("at most {max} characters"),
            ));
        }
    }
}

/// Whether `value` is a valid option value: 1–64 of `a-z`, `0-9`, `_` and `-`, starting with
/// a letter or digit.
pub fn is_option_value(value: &str) -> bool {
    value.len() <= MAX_VALUE_LEN
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Whether a question with `rules` can feed `metric`: the metric's own kind, or stars on the
/// metric's scale (5 for CSAT, 7 for CES).
pub fn metric_fits(rules: &Rules, metric: Metric) -> bool {
    match (rules, metric) {
        (Rules::Rating(r), Metric::Csat) => r.max_stars == 5,
        (Rules::Rating(r), Metric::Ces) => r.max_stars == 7,
        (rules, metric) => rules.kind() == metric.kind(),
    }
}

/// Checks one question alone (everything but uniqueness of its key in the form); `path`
/// names it (`input` in a mutation, `sections[0].questions[2]` in a version).
pub fn check_question(question: &QuestionDef, locales: &[String], path: &str, problems: &mut Vec<Problem>) {
    if let Err(problem) = super::key::check(&question.key, &format!("{path}.key")) {
        problems.push(problem);
    }
    check_text(
        &question.title,
        locales,
        MAX_TITLE_CHARS,
        &format!("{path}.title"),
        problems,
    );
    check_text(
        &question.description,
        locales,
        MAX_BODY_CHARS,
        &format!("{path}.description"),
        problems,
    );
    problems.extend(question.rules.check(question.options.len(), &format!("{path}.config")));
    let kind = question.rules.kind();
    if !kind.has_options() && !question.options.is_empty() {
        problems.push(Problem::new(
            format!("{path}.options"),
            ProblemCode::NotApplicable,
            format!("a {} question has no options", kind.as_str()),
        ));
    }
    if question.options.len() > MAX_OPTIONS {
        problems.push(Problem::new(
            format!("{path}.options"),
            ProblemCode::TooMany,
            format!("at most {MAX_OPTIONS} options"),
        ));
    }
    let mut values = HashSet::new();
    for (i, option) in question.options.iter().enumerate() {
        let here = format!("{path}.options[{i}]");
        if !is_option_value(&option.value) {
            problems.push(Problem::new(
                format!("{here}.value"),
                ProblemCode::InvalidValue,
                format!(
                    "`{}` is not an option value: 1–{MAX_VALUE_LEN} of a-z, 0-9, _ and -, starting with a letter or digit",
                    option.value
                ),
            ));
        } else if !values.insert(option.value.as_str()) {
            problems.push(Problem::new(
                format!("{here}.value"),
                ProblemCode::Duplicate,
                format!("the value `{}` is used twice", option.value),
            ));
        }
        check_text(
            &option.label,
            locales,
            MAX_TITLE_CHARS,
            &format!("{here}.label"),
            problems,
        );
        if option.score.is_some_and(|s| !s.is_finite() || s.abs() > 1e9) {
            problems.push(Problem::new(
                format!("{here}.score"),
                ProblemCode::OutOfRange,
                "must be a finite number within ±1,000,000,000",
            ));
        }
    }
    if let Some(metric) = question.metric
        && !metric_fits(&question.rules, metric)
    {
        problems.push(Problem::new(
            format!("{path}.metric"),
            ProblemCode::MetricMismatch,
            format!(
                "a {} question cannot feed {metric:?}: use a {} question{}",
                kind.as_str(),
                metric.kind().as_str(),
                match metric {
                    Metric::Csat => " or a 5-star rating",
                    Metric::Ces => " or a 7-star rating",
                    Metric::Nps => "",
                }
            ),
        ));
    }
}

fn check_screen(screen: &Screen, locales: &[String], path: &str, thank_you: bool, problems: &mut Vec<Problem>) {
    check_text(
        &screen.title,
        locales,
        MAX_TITLE_CHARS,
        &format!("{path}.title"),
        problems,
    );
    check_text(&screen.body, locales, MAX_BODY_CHARS, &format!("{path}.body"), problems);
    check_text(
        &screen.button_label,
        locales,
        MAX_TITLE_CHARS,
        &format!("{path}.buttonLabel"),
        problems,
    );
    if let Some(url) = &screen.redirect_url {
        if !thank_you {
            problems.push(Problem::new(
                format!("{path}.redirectUrl"),
                ProblemCode::NotApplicable,
                "only the thank-you screen redirects",
            ));
        } else if !is_url(url) {
            problems.push(url_problem(&format!("{path}.redirectUrl")));
        }
    }
}

/// An absolute http(s) URL without white space.
pub fn is_url(url: &str) -> bool {
    url.len() <= MAX_URL_LEN
        && (url.starts_with("https://") || url.starts_with("http://"))
        && url.split_once("://").is_some_and(|(_, rest)| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        })
}

fn url_problem(path: &str) -> Problem {
    Problem::new(
        path,
        ProblemCode::InvalidUrl,
        format!("must be an absolute http:// or https:// URL of at most {MAX_URL_LEN} characters"),
    )
}

/// `#rgb`, `#rrggbb` or `#rrggbbaa`.
pub fn is_color(color: &str) -> bool {
    color
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Checks theme settings.
pub fn check_theme(theme: &Theme, path: &str, problems: &mut Vec<Problem>) {
    for (name, url) in [
        ("logoUrl", &theme.logo_url),
        ("backgroundImageUrl", &theme.background_image_url),
    ] {
        if url.as_deref().is_some_and(|u| !is_url(u)) {
            problems.push(url_problem(&format!("{path}.{name}")));
        }
    }
    for (name, color) in [
        ("primaryColor", &theme.primary_color),
        ("backgroundColor", &theme.background_color),
        ("textColor", &theme.text_color),
    ] {
        if color.as_deref().is_some_and(|c| !is_color(c)) {
            problems.push(Problem::new(
                format!("{path}.{name}"),
                ProblemCode::InvalidColor,
                "must be a hex colour: #rgb, #rrggbb or #rrggbbaa",
            ));
        }
    }
    if let Some(font) = &theme.font_family
        && (font.trim().is_empty() || font.chars().count() > 100)
    {
        problems.push(Problem::new(
            format!("{path}.fontFamily"),
            ProblemCode::OutOfRange,
            "must be 1–100 characters",
        ));
    }
}

/// An origin: `scheme://host[:port]`, nothing after.
pub fn is_origin(origin: &str) -> bool {
    is_url(origin)
        && origin
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.contains('/') && !rest.contains('?') && !rest.contains('#'))
}

/// Checks collection settings.
pub fn check_settings(settings: &FormSettings, path: &str, problems: &mut Vec<Problem>) {
    if settings.response_quota == Some(0) {
        problems.push(Problem::new(
            format!("{path}.responseQuota"),
            ProblemCode::OutOfRange,
            "must be at least 1 (leave it out for no quota)",
        ));
    }
    if settings.allowed_origins.len() > MAX_ORIGINS {
        problems.push(Problem::new(
            format!("{path}.allowedOrigins"),
            ProblemCode::TooMany,
            format!("at most {MAX_ORIGINS} origins"),
        ));
    }
    for (i, origin) in settings.allowed_origins.iter().enumerate() {
        if !is_origin(origin) {
            problems.push(Problem::new(
                format!("{path}.allowedOrigins[{i}]"),
                ProblemCode::InvalidOrigin,
                format!("`{origin}` is not an origin such as https://shop.example.com"),
            ));
        }
    }
}

/// The invariants every saved version keeps: sizes, valid and unique keys and values, each
/// question's rules, texts only in the form's locales, one marked question per metric.
pub fn check_draft(def: &FormDef) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_locales(&def.locales, "locales", &mut problems);
    if def.locales.first() != Some(&def.default_locale) {
        problems.push(Problem::new(
            "defaultLocale",
            ProblemCode::InvalidLocale,
            "the default locale must be the first of the form's locales",
        ));
    }
    let locales = &def.locales;
    check_text(&def.title, locales, MAX_TITLE_CHARS, "title", &mut problems);
    check_text(&def.description, locales, MAX_BODY_CHARS, "description", &mut problems);
    check_screen(&def.welcome, locales, "welcome", false, &mut problems);
    check_screen(&def.thank_you, locales, "thankYou", true, &mut problems);
    check_theme(&def.theme, "theme", &mut problems);
    if def.sections.len() > MAX_SECTIONS {
        problems.push(Problem::new(
            "sections",
            ProblemCode::TooMany,
            format!("at most {MAX_SECTIONS} sections"),
        ));
    }
    if def.question_count() > MAX_QUESTIONS {
        problems.push(Problem::new(
            "sections",
            ProblemCode::TooMany,
            format!("at most {MAX_QUESTIONS} questions in a form"),
        ));
    }
    let mut keys: HashMap<&str, String> = HashMap::new();
    let mut uids = HashSet::new();
    let mut marked: HashMap<Metric, String> = HashMap::new();
    for (s, section) in def.sections.iter().enumerate() {
        let path = format!("sections[{s}]");
        if !uids.insert(section.uid) {
            problems.push(Problem::new(&path, ProblemCode::Duplicate, "the section appears twice"));
        }
        check_text(
            &section.title,
            locales,
            MAX_TITLE_CHARS,
            &format!("{path}.title"),
            &mut problems,
        );
        check_text(
            &section.description,
            locales,
            MAX_BODY_CHARS,
            &format!("{path}.description"),
            &mut problems,
        );
        for (q, question) in section.questions.iter().enumerate() {
            let path = format!("{path}.questions[{q}]");
            if !uids.insert(question.uid) {
                problems.push(Problem::new(
                    &path,
                    ProblemCode::Duplicate,
                    "the question appears twice",
                ));
            }
            check_question(question, locales, &path, &mut problems);
            if let Some(first) = keys.get(question.key.as_str()) {
                problems.push(Problem::new(
                    format!("{path}.key"),
                    ProblemCode::DuplicateKey,
                    format!("the key `{}` is already used by {first}", question.key),
                ));
            } else {
                keys.insert(&question.key, path.clone());
            }
            if let Some(metric) = question.metric {
                if let Some(first) = marked.get(&metric) {
                    problems.push(Problem::new(
                        format!("{path}.metric"),
                        ProblemCode::MetricTaken,
                        format!("{first} already feeds {metric:?}; a form has one question per metric"),
                    ));
                } else {
                    marked.insert(metric, path.clone());
                }
            }
        }
    }
    problems
}

/// Everything that keeps a version from being published: the draft invariants, then
/// completeness: at least one question, no empty section, options where the kind needs them,
/// every respondent-facing text in every locale of the form.
///
/// `attributes` is the organization's attribute catalogue, for the conditions' checks
/// ([`crate::logic::check`]), which all refuse publication.
pub fn check_publishable(
    def: &FormDef,
    attributes: &std::collections::HashMap<String, crate::logic::check::Scalar>,
) -> Vec<Problem> {
    let mut problems = check_draft(def);
    problems.extend(crate::logic::check::check(def, attributes));
    if def.question_count() == 0 {
        problems.push(Problem::new(
            "sections",
            ProblemCode::FormEmpty,
            "a form needs at least one question",
        ));
    }
    for (s, section) in def.sections.iter().enumerate() {
        if section.questions.is_empty() {
            problems.push(Problem::new(
                format!("sections[{s}].questions"),
                ProblemCode::SectionEmpty,
                "a section needs at least one question (delete it or add one)",
            ));
        }
        for (q, question) in section.questions.iter().enumerate() {
            if question.rules.kind().has_options() && question.options.len() == 1 {
                problems.push(Problem::new(
                    format!("sections[{s}].questions[{q}].options"),
                    ProblemCode::OptionsRequired,
                    "a choice needs at least two options",
                ));
            }
        }
    }
    for (path, text, required) in def.texts() {
        let complete = required || !text.is_empty();
        if !complete {
            continue;
        }
        for locale in &def.locales {
            if !text.contains_key(locale) {
                problems.push(Problem::new(
                    format!("{path}.{locale}"),
                    ProblemCode::TranslationMissing,
                    format!("no `{locale}` text"),
                ));
            }
        }
    }
    problems
}

/// Every title translation, normalised for search.
pub fn search_text(title: &Text) -> String {
    title
        .values()
        .map(|t| super::text::normalize_for_search(t))
        .collect::<Vec<_>>()
        .join(" \u{1f} ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::rules::{ChoiceRules, RatingRules, TextRules};

    fn text(pairs: &[(&str, &str)]) -> Text {
        pairs.iter().map(|(l, t)| (l.to_string(), t.to_string())).collect()
    }

    fn question(key: &str, rules: Rules, options: usize) -> QuestionDef {
        QuestionDef {
            uid: Uuid::now_v7(),
            key: key.into(),
            required: false,
            metric: None,
            title: text(&[("fa", "پرسش"), ("en", "Question")]),
            description: Text::new(),
            rules,
            show_if: None,
            require_if: None,
            options: (0..options)
                .map(|i| OptionDef {
                    value: format!("o{i}"),
                    label: text(&[("fa", "گزینه"), ("en", "Option")]),
                    score: Some(i as f64),
                })
                .collect(),
        }
    }

    fn form(questions: Vec<QuestionDef>) -> FormDef {
        let mut def = FormDef::new(
            vec!["fa".into(), "en".into()],
            text(&[("fa", "نظرسنجی"), ("en", "Survey")]),
        );
        def.sections[0].questions = questions;
        def
    }

    fn codes(problems: &[Problem]) -> Vec<(ProblemCode, &str)> {
        problems.iter().map(|p| (p.code, p.path.as_str())).collect()
    }

    #[test]
    fn a_complete_form_is_publishable() {
        let def = form(vec![
            question("nps", Rules::Nps, 0),
            question("reason", Rules::LongText(TextRules::default()), 0),
            question("plan", Rules::SingleChoice(ChoiceRules::default()), 3),
        ]);
        assert_eq!(codes(&check_publishable(&def, &Default::default())), []);
        assert_eq!(def.metric_questions()[0].0, Metric::Nps);
        assert_eq!(def.metric_questions()[0].1.key, "nps");
    }

    #[test]
    fn empty_forms_sections_and_lone_options_are_not_publishable() {
        let def = form(vec![]);
        assert!(check_draft(&def).is_empty());
        let problems = check_publishable(&def, &Default::default());
        assert!(codes(&problems).contains(&(ProblemCode::FormEmpty, "sections")));
        assert!(codes(&problems).contains(&(ProblemCode::SectionEmpty, "sections[0].questions")));
        let lone = form(vec![question("plan", Rules::Dropdown(ChoiceRules::default()), 1)]);
        assert_eq!(
            codes(&check_publishable(&lone, &Default::default())),
            [(ProblemCode::OptionsRequired, "sections[0].questions[0].options")]
        );
    }

    #[test]
    fn keys_values_and_metric_marks_are_unique() {
        let mut def = form(vec![question("a", Rules::Csat, 0), question("a", Rules::Csat, 0)]);
        def.sections[0].questions[0].metric = Some(Metric::Csat);
        def.sections[0].questions[1].metric = Some(Metric::Csat);
        let problems = codes(&check_draft(&def))
            .into_iter()
            .map(|(c, p)| (c, p.to_owned()))
            .collect::<Vec<_>>();
        assert!(problems.contains(&(ProblemCode::DuplicateKey, "sections[0].questions[1].key".into())));
        assert!(problems.contains(&(ProblemCode::MetricTaken, "sections[0].questions[1].metric".into())));
        let mut options = form(vec![question("plan", Rules::SingleChoice(ChoiceRules::default()), 2)]);
        options.sections[0].questions[0].options[1].value = "o0".into();
        assert_eq!(
            codes(&check_draft(&options)),
            [(ProblemCode::Duplicate, "sections[0].questions[0].options[1].value")]
        );
        options.sections[0].questions[0].options[1].value = "Bad Value".into();
        assert_eq!(codes(&check_draft(&options))[0].0, ProblemCode::InvalidValue);
    }

    #[test]
    fn metrics_need_a_fitting_scale() {
        let mut stars5 = question("service", Rules::Rating(RatingRules { max_stars: 5 }), 0);
        stars5.metric = Some(Metric::Csat);
        let mut problems = Vec::new();
        check_question(&stars5, &["en".into(), "fa".into()], "input", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        stars5.metric = Some(Metric::Nps);
        check_question(&stars5, &["en".into(), "fa".into()], "input", &mut problems);
        assert_eq!(codes(&problems), [(ProblemCode::MetricMismatch, "input.metric")]);
        let mut marked = form(vec![question("nps", Rules::Nps, 0), question("later", Rules::Nps, 0)]);
        marked.sections[0].questions[1].metric = Some(Metric::Nps);
        assert_eq!(marked.metric_questions()[0].1.key, "later");
    }

    #[test]
    fn translations_must_be_complete_to_publish_and_known_to_save() {
        let mut def = form(vec![question("reason", Rules::LongText(TextRules::default()), 0)]);
        def.sections[0].questions[0].title.remove("en");
        def.sections[0].title = text(&[("fa", "بخش اول")]);
        let problems = check_publishable(&def, &Default::default());
        assert_eq!(
            codes(&problems),
            [
                (ProblemCode::TranslationMissing, "sections[0].title.en"),
                (ProblemCode::TranslationMissing, "sections[0].questions[0].title.en")
            ]
        );
        def.sections[0].questions[0].title.insert("de".into(), "Frage".into());
        def.sections[0].questions[0]
            .description
            .insert("en".into(), "  ".into());
        assert_eq!(
            codes(&check_draft(&def)),
            [
                (ProblemCode::UnknownLocale, "sections[0].questions[0].title.de"),
                (ProblemCode::Blank, "sections[0].questions[0].description.en")
            ]
        );
    }

    #[test]
    fn locales_urls_colours_and_origins() {
        for good in ["fa", "en", "en-GB", "zh-Hant", "fil"] {
            assert!(is_locale(good), "{good}");
        }
        for bad in ["", "EN", "e", "english", "en_GB", "fa-"] {
            assert!(!is_locale(bad), "{bad}");
        }
        assert!(is_url("https://cdn.example.com/logo.png") && !is_url("javascript:alert(1)"));
        assert!(!is_url("https:///path") && !is_url("https://a b"));
        assert!(is_color("#fff") && is_color("#1A2b3C") && !is_color("red") && !is_color("#12345"));
        assert!(is_origin("https://shop.example.com:8443") && !is_origin("https://shop.example.com/page"));
        let mut problems = Vec::new();
        check_settings(
            &FormSettings {
                response_quota: Some(0),
                allowed_origins: vec!["shop.example.com".into()],
                ..Default::default()
            },
            "input.settings",
            &mut problems,
        );
        assert_eq!(
            codes(&problems),
            [
                (ProblemCode::OutOfRange, "input.settings.responseQuota"),
                (ProblemCode::InvalidOrigin, "input.settings.allowedOrigins[0]")
            ]
        );
    }

    #[test]
    fn the_documented_size_limits_hold() {
        let at_limit = form(
            (0..MAX_QUESTIONS)
                .map(|i| question(&format!("q{i}"), Rules::YesNo, 0))
                .collect(),
        );
        assert!(check_draft(&at_limit).is_empty());
        let over = form(
            (0..=MAX_QUESTIONS)
                .map(|i| question(&format!("q{i}"), Rules::YesNo, 0))
                .collect(),
        );
        assert_eq!(codes(&check_draft(&over)), [(ProblemCode::TooMany, "sections")]);
        let mut many = form(vec![question(
            "plan",
            Rules::SingleChoice(ChoiceRules::default()),
            MAX_OPTIONS + 1,
        )]);
        assert_eq!(
            codes(&check_draft(&many)),
            [(ProblemCode::TooMany, "sections[0].questions[0].options")]
        );
        many.sections = (0..=MAX_SECTIONS)
            .map(|_| FormDef::new(vec!["fa".into()], Text::new()).sections.remove(0))
            .collect();
        assert_eq!(codes(&check_draft(&many)), [(ProblemCode::TooMany, "sections")]);
    }

    #[test]
    fn search_text_covers_every_translation() {
        let title = text(&[("fa", "رضايت مشتري"), ("en", "Customer Satisfaction")]);
        let searchable = search_text(&title);
        assert!(searchable.contains("رضایت مشتری"));
        assert!(searchable.contains("customer satisfaction"));
    }
}
