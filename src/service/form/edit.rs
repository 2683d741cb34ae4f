//! The changes an editor makes to a draft, as pure functions on a [`FormDef`]. Each checks its
//! input with paths under `input` (`input.key`, `input.config.maxLength`, `input.options[2].value`)
//! and reports every problem at once.
use crate::codes::ProblemCode;
use std::collections::HashSet;

use uuid::Uuid;

use super::History;
use crate::{
    error::{AppError, AppResult},
    form::{
        Problem, key,
        kind::{Metric, QuestionKind},
        model::{self, FormDef, OptionDef, QuestionDef, Screen, SectionDef, Skip, Text, Theme},
        rules::{Config, Rules},
    },
    logic::expr::Expr,
};

/// An option as a client sends it: without a value, one is generated.
#[derive(Debug, Clone)]
pub struct OptionDraft {
    pub value: Option<String>,
    pub label: Text,
    pub score: Option<f64>,
}

/// A new question.
#[derive(Debug, Clone)]
pub struct QuestionDraft {
    /// Without a key, a readable one is generated from the English title or the kind.
    pub key: Option<String>,
    pub kind: QuestionKind,
    pub config: Option<Config>,
    pub required: bool,
    pub metric: Option<Metric>,
    pub title: Text,
    pub description: Text,
    pub options: Vec<OptionDraft>,
}

/// Changes to a question; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct QuestionPatch {
    pub key: Option<String>,
    pub kind: Option<QuestionKind>,
    pub config: Option<Config>,
    pub required: Option<bool>,
    /// `Some(None)` removes the mark.
    pub metric: Option<Option<Metric>>,
    pub title: Option<Text>,
    pub description: Option<Text>,
    /// The whole new list of options.
    pub options: Option<Vec<OptionDraft>>,
}

/// Changes to a version's own fields; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct FormPatch {
    /// The new locales, the default first. Translations in a locale left out are deleted.
    pub locales: Option<Vec<String>>,
    pub title: Option<Text>,
    pub description: Option<Text>,
    pub welcome: Option<Screen>,
    pub thank_you: Option<Screen>,
    pub theme: Option<Theme>,
}

/// Changes to a section; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct SectionPatch {
    pub title: Option<Text>,
    pub description: Option<Text>,
}

fn problems_or(problems: Vec<Problem>) -> AppResult<()> {
    AppError::invalid(problems)
}

fn section_index(def: &FormDef, uid: Uuid) -> AppResult<usize> {
    def.find_section(uid)
        .ok_or_else(|| AppError::NotFound("section not found in the form's draft".to_owned()))
}

fn question_index(def: &FormDef, uid: Uuid) -> AppResult<(usize, usize)> {
    def.find_question(uid)
        .ok_or_else(|| AppError::NotFound("question not found in the form's draft".to_owned()))
}

/// A 0-based position in a list of `len` items; `None` is the end.
fn position(at: Option<i32>, len: usize, field: &str) -> AppResult<usize> {
    match at {
        None => Ok(len),
        Some(at) if at >= 0 && at as usize <= len => Ok(at as usize),
        Some(_) => Err(AppError::bad_input(
            field,
            format!("must be between 0 and {len} (the number of items there)"),
        )),
    }
}

/// Applies a patch to the version's own fields.
pub fn update_form(def: &mut FormDef, patch: FormPatch) -> AppResult<()> {
    let mut problems = Vec::new();
    if let Some(locales) = patch.locales {
        model::check_locales(&locales, "input.locales", &mut problems);
        problems_or(std::mem::take(&mut problems))?;
        let keep: HashSet<&String> = locales.iter().collect();
        for_each_text(def, |text| text.retain(|locale, _| keep.contains(locale)));
        def.default_locale = locales[0].clone();
        def.locales = locales;
    }
    let locales = def.locales.clone();
    if let Some(title) = patch.title {
        model::check_text(&title, &locales, model::MAX_TITLE_CHARS, "input.title", &mut problems);
        def.title = title;
    }
    if let Some(description) = patch.description {
        model::check_text(
            &description,
            &locales,
            model::MAX_BODY_CHARS,
            "input.description",
            &mut problems,
        );
        def.description = description;
    }
    if let Some(welcome) = patch.welcome {
        def.welcome = welcome;
    }
    if let Some(thank_you) = patch.thank_you {
        def.thank_you = thank_you;
    }
    if let Some(theme) = patch.theme {
        model::check_theme(&theme, "input.theme", &mut problems);
        def.theme = theme;
    }
    // Screens are checked with the whole draft; name them under `input` as well.
    problems.extend(
        model::check_draft(def)
            .into_iter()
            .filter(|p| p.path.starts_with("welcome") || p.path.starts_with("thankYou"))
            .map(|p| Problem {
                path: format!("input.{}", p.path),
                ..p
            }),
    );
    problems_or(problems)
}

fn for_each_text(def: &mut FormDef, mut f: impl FnMut(&mut Text)) {
    f(&mut def.title);
    f(&mut def.description);
    for screen in [&mut def.welcome, &mut def.thank_you] {
        f(&mut screen.title);
        f(&mut screen.body);
        f(&mut screen.button_label);
    }
    for section in &mut def.sections {
        f(&mut section.title);
        f(&mut section.description);
        for question in &mut section.questions {
            f(&mut question.title);
            f(&mut question.description);
            for option in &mut question.options {
                f(&mut option.label);
            }
        }
    }
}

fn check_section_texts(def: &FormDef, title: &Text, description: &Text) -> AppResult<()> {
    let mut problems = Vec::new();
    model::check_text(
        title,
        &def.locales,
        model::MAX_TITLE_CHARS,
        "input.title",
        &mut problems,
    );
    model::check_text(
        description,
        &def.locales,
        model::MAX_BODY_CHARS,
        "input.description",
        &mut problems,
    );
    problems_or(problems)
}

pub fn add_section(def: &mut FormDef, at: Option<i32>, title: Text, description: Text) -> AppResult<Uuid> {
    if def.sections.len() >= model::MAX_SECTIONS {
        return Err(AppError::bad_input(
            "input.formId",
            format!("a form has at most {} sections", model::MAX_SECTIONS),
        ));
    }
    let index = position(at, def.sections.len(), "input.position")?;
    check_section_texts(def, &title, &description)?;
    let section = SectionDef::new(title, description);
    let uid = section.uid;
    def.sections.insert(index, section);
    Ok(uid)
}

pub fn update_section(def: &mut FormDef, uid: Uuid, patch: SectionPatch) -> AppResult<()> {
    let index = section_index(def, uid)?;
    let title = patch.title.unwrap_or_else(|| def.sections[index].title.clone());
    let description = patch
        .description
        .unwrap_or_else(|| def.sections[index].description.clone());
    check_section_texts(def, &title, &description)?;
    let section = &mut def.sections[index];
    section.title = title;
    section.description = description;
    Ok(())
}

/// Deletes a section with its questions.
pub fn delete_section(def: &mut FormDef, uid: Uuid) -> AppResult<()> {
    let index = section_index(def, uid)?;
    def.sections.remove(index);
    Ok(())
}

pub fn move_section(def: &mut FormDef, uid: Uuid, to: i32) -> AppResult<()> {
    let index = section_index(def, uid)?;
    let section = def.sections.remove(index);
    match position(Some(to), def.sections.len(), "input.position") {
        Ok(to) => {
            def.sections.insert(to, section);
            Ok(())
        }
        Err(err) => {
            def.sections.insert(index, section);
            Err(err)
        }
    }
}

/// The keys a new or renamed question may not take: those of the draft's other questions and
/// those that published versions gave to other questions.
fn taken_keys(def: &FormDef, history: &History, except: Option<Uuid>) -> HashSet<String> {
    let mut taken: HashSet<String> = def
        .questions()
        .filter(|q| Some(q.uid) != except)
        .map(|q| q.key.clone())
        .collect();
    taken.extend(
        history
            .uid_of_key
            .iter()
            .filter(|(_, uid)| Some(**uid) != except)
            .map(|(key, _)| key.clone()),
    );
    taken
}

/// A readable hint for generated keys and values: the English text, else any.
fn hint(text: &Text) -> Option<&str> {
    text.get("en").or_else(|| text.values().next()).map(String::as_str)
}

fn build_options(drafts: Vec<OptionDraft>) -> Vec<OptionDef> {
    let mut taken: HashSet<String> = drafts.iter().filter_map(|d| d.value.clone()).collect();
    drafts
        .into_iter()
        .map(|draft| {
            let value = draft.value.unwrap_or_else(|| {
                let value = key::generate(hint(&draft.label), "option", &taken);
                taken.insert(value.clone());
                value
            });
            OptionDef {
                value,
                label: draft.label,
                score: draft.score,
            }
        })
        .collect()
}

/// Problems with a key given for the question `uid` (new or existing).
fn check_key(def: &FormDef, history: &History, uid: Uuid, key: &str, problems: &mut Vec<Problem>) {
    if def.questions().any(|q| q.key == key && q.uid != uid) {
        problems.push(Problem::new(
            "input.key",
            ProblemCode::DuplicateKey,
            format!("another question of the form has the key `{key}`"),
        ));
    } else if history.uid_of_key.get(key).is_some_and(|owner| *owner != uid) {
        problems.push(Problem::new(
            "input.key",
            ProblemCode::KeyRetired,
            format!(
                "`{key}` belonged to another question in a published version; reusing it would merge their answers"
            ),
        ));
    }
}

fn check_metric_free(def: &FormDef, uid: Uuid, metric: Option<Metric>, problems: &mut Vec<Problem>) {
    if let Some(metric) = metric
        && let Some(other) = def.questions().find(|q| q.metric == Some(metric) && q.uid != uid)
    {
        problems.push(Problem::new(
            "input.metric",
            ProblemCode::MetricTaken,
            format!(
                "the question `{}` already feeds {}; unmark it first",
                other.key,
                metric.as_str()
            ),
        ));
    }
}

pub fn add_question(
    def: &mut FormDef,
    history: &History,
    section: Uuid,
    at: Option<i32>,
    draft: QuestionDraft,
) -> AppResult<Uuid> {
    let s = section_index(def, section)?;
    if def.question_count() >= model::MAX_QUESTIONS {
        return Err(AppError::bad_input(
            "input.sectionId",
            format!("a form has at most {} questions", model::MAX_QUESTIONS),
        ));
    }
    let index = position(at, def.sections[s].questions.len(), "input.position")?;
    let uid = Uuid::now_v7();
    let rules = Rules::from_parts(draft.kind, draft.config, "input.config").map_err(AppError::problem)?;
    let mut problems = Vec::new();
    let key = match draft.key {
        Some(key) => {
            check_key(def, history, uid, &key, &mut problems);
            key
        }
        // Metric kinds are best known by their metric (`nps`), others by their English title.
        None => key::generate(
            if draft.kind.implied_metric().is_some() {
                None
            } else {
                hint(&draft.title)
            },
            draft.kind.key_stem(),
            &taken_keys(def, history, None),
        ),
    };
    let question = QuestionDef {
        uid,
        key,
        required: draft.required,
        metric: draft.metric,
        title: draft.title,
        description: draft.description,
        rules,
        options: build_options(draft.options),
        show_if: None,
        require_if: None,
    };
    model::check_question(&question, &def.locales, "input", &mut problems);
    check_metric_free(def, uid, question.metric, &mut problems);
    problems_or(problems)?;
    def.sections[s].questions.insert(index, question);
    Ok(uid)
}

pub fn update_question(def: &mut FormDef, history: &History, uid: Uuid, patch: QuestionPatch) -> AppResult<()> {
    let (s, q) = question_index(def, uid)?;
    let mut question = def.sections[s].questions[q].clone();
    let mut problems = Vec::new();
    let published = history.published.get(&uid);
    if let Some(key) = patch.key
        && key != question.key
    {
        if published.is_some() {
            problems.push(Problem::new(
                "input.key",
                ProblemCode::KeyFrozen,
                format!(
                    "the key `{}` is published: answers, reports and conditions refer to it, so it never changes",
                    question.key
                ),
            ));
        } else {
            check_key(def, history, uid, &key, &mut problems);
        }
        question.key = key;
    }
    let kind = patch.kind.unwrap_or(question.rules.kind());
    if let Some((_, published_kind)) = published
        && *published_kind != kind
    {
        problems.push(Problem::new(
            "input.kind",
            ProblemCode::KindFrozen,
            format!(
                "the question is published as {}: answers of another kind would not mix; add a new question instead",
                published_kind.as_str()
            ),
        ));
    }
    if patch.kind.is_some() || patch.config.is_some() {
        let config = match patch.config {
            Some(config) => Some(config),
            // Same kind: keep its configuration; another kind starts from its defaults.
            None if kind == question.rules.kind() => question.rules.config(),
            None => None,
        };
        match Rules::from_parts(kind, config, "input.config") {
            Ok(rules) => question.rules = rules,
            Err(problem) => problems.push(problem),
        }
    }
    if let Some(required) = patch.required {
        question.required = required;
    }
    if let Some(metric) = patch.metric {
        question.metric = metric;
    }
    if let Some(title) = patch.title {
        question.title = title;
    }
    if let Some(description) = patch.description {
        question.description = description;
    }
    if let Some(options) = patch.options {
        question.options = build_options(options);
    } else if !question.rules.kind().has_options() {
        question.options.clear();
    }
    model::check_question(&question, &def.locales, "input", &mut problems);
    check_metric_free(def, uid, question.metric, &mut problems);
    problems_or(problems)?;
    let renamed = (def.sections[s].questions[q].key != question.key)
        .then(|| (def.sections[s].questions[q].key.clone(), question.key.clone()));
    def.sections[s].questions[q] = question;
    // Conditions follow a renamed (never published) key.
    if let Some((from, to)) = renamed {
        def.for_each_condition_mut(|c| c.rename_key(&from, &to));
    }
    Ok(())
}

/// Most skip rules after one section.
pub const MAX_SKIPS: usize = 50;

/// Replaces a question's show-if and require-if (`None` removes one). Their checks against the
/// form are warnings until publication.
pub fn set_question_logic(
    def: &mut FormDef,
    uid: Uuid,
    show_if: Option<Expr>,
    require_if: Option<Expr>,
) -> AppResult<()> {
    let (s, q) = question_index(def, uid)?;
    let question = &mut def.sections[s].questions[q];
    question.show_if = show_if;
    question.require_if = require_if;
    Ok(())
}

/// A section's rules, replaced together.
#[derive(Debug, Clone, Default)]
pub struct SectionLogic {
    pub show_if: Option<Expr>,
    /// In order; targets are section uids.
    pub skips: Vec<Skip>,
    pub end_if: Option<Expr>,
    pub disqualify_if: Option<Expr>,
}

/// Replaces a section's show-if, skips, end and disqualify rules. A skip must name a section
/// of the form; the rest of its checks (it must go forward) are warnings until publication.
pub fn set_section_logic(def: &mut FormDef, uid: Uuid, logic: SectionLogic) -> AppResult<()> {
    let s = section_index(def, uid)?;
    let mut problems = Vec::new();
    if logic.skips.len() > MAX_SKIPS {
        problems.push(Problem::new(
            "input.skips",
            ProblemCode::TooMany,
            format!("at most {MAX_SKIPS} skip rules per section"),
        ));
    }
    for (i, skip) in logic.skips.iter().enumerate() {
        if def.find_section(skip.to).is_none() {
            problems.push(Problem::new(
                format!("input.skips[{i}].to"),
                ProblemCode::SkipTargetUnknown,
                "no such section in the form's draft",
            ));
        }
    }
    problems_or(problems)?;
    let section = &mut def.sections[s];
    section.show_if = logic.show_if;
    section.skips = logic.skips;
    section.end_if = logic.end_if;
    section.disqualify_if = logic.disqualify_if;
    Ok(())
}

pub fn delete_question(def: &mut FormDef, uid: Uuid) -> AppResult<()> {
    let (s, q) = question_index(def, uid)?;
    def.sections[s].questions.remove(q);
    Ok(())
}

/// Moves a question to `position` in `section` (its own or another): one drag and drop.
pub fn move_question(def: &mut FormDef, uid: Uuid, section: Uuid, to: i32) -> AppResult<()> {
    let (s, q) = question_index(def, uid)?;
    let target = section_index(def, section)?;
    let question = def.sections[s].questions.remove(q);
    match position(Some(to), def.sections[target].questions.len(), "input.position") {
        Ok(to) => {
            def.sections[target].questions.insert(to, question);
            Ok(())
        }
        Err(err) => {
            def.sections[s].questions.insert(q, question);
            Err(err)
        }
    }
}

/// Rearranges the whole draft at once: the sections in the given order, each with the given
/// questions in order. Every section and question of the draft must appear exactly once.
pub fn arrange(def: &mut FormDef, layout: Vec<(Uuid, Vec<Uuid>)>) -> AppResult<()> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (i, (section, questions)) in layout.iter().enumerate() {
        let path = format!("input.sections[{i}]");
        if def.find_section(*section).is_none() {
            problems.push(Problem::new(
                format!("{path}.sectionId"),
                ProblemCode::NotInForm,
                "no such section in the form's draft",
            ));
        } else if !seen.insert(*section) {
            problems.push(Problem::new(
                format!("{path}.sectionId"),
                ProblemCode::Duplicate,
                "listed twice",
            ));
        }
        for (j, question) in questions.iter().enumerate() {
            let here = format!("{path}.questionIds[{j}]");
            if def.find_question(*question).is_none() {
                problems.push(Problem::new(
                    here,
                    ProblemCode::NotInForm,
                    "no such question in the form's draft",
                ));
            } else if !seen.insert(*question) {
                problems.push(Problem::new(here, ProblemCode::Duplicate, "listed twice"));
            }
        }
    }
    let missing = def.sections.len() + def.question_count() - seen.len();
    if problems.is_empty() && missing > 0 {
        problems.push(Problem::new(
            "input.sections",
            ProblemCode::Incomplete,
            format!("{missing} section(s) or question(s) of the draft are not listed: list every one (delete them with their own mutations)"),
        ));
    }
    problems_or(problems)?;
    let mut old_sections = std::mem::take(&mut def.sections);
    let mut questions: std::collections::HashMap<Uuid, QuestionDef> = old_sections
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.questions))
        .map(|q| (q.uid, q))
        .collect();
    let mut sections: std::collections::HashMap<Uuid, SectionDef> =
        old_sections.into_iter().map(|s| (s.uid, s)).collect();
    for (section_uid, question_uids) in layout {
        if let Some(mut section) = sections.remove(&section_uid) {
            section.questions = question_uids.iter().filter_map(|q| questions.remove(q)).collect();
            def.sections.push(section);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pairs: &[(&str, &str)]) -> Text {
        pairs.iter().map(|(l, t)| (l.to_string(), t.to_string())).collect()
    }

    fn draft(kind: QuestionKind, en: &str) -> QuestionDraft {
        QuestionDraft {
            key: None,
            kind,
            config: None,
            required: false,
            metric: None,
            title: text(&[("en", en), ("fa", "پرسش")]),
            description: Text::new(),
            options: Vec::new(),
        }
    }

    fn form() -> FormDef {
        FormDef::new(vec!["fa".into(), "en".into()], text(&[("fa", "فرم")]))
    }

    #[test]
    fn keys_are_generated_unique_and_retired_keys_stay_taken() {
        let mut def = form();
        let section = def.sections[0].uid;
        let mut history = History::default();
        history.uid_of_key.insert("nps".into(), Uuid::now_v7());
        let a = add_question(
            &mut def,
            &history,
            section,
            None,
            draft(QuestionKind::Nps, "How likely…"),
        )
        .unwrap();
        let b = add_question(
            &mut def,
            &history,
            section,
            Some(0),
            draft(QuestionKind::LongText, "Why?"),
        )
        .unwrap();
        let keys: Vec<&str> = def.questions().map(|q| q.key.as_str()).collect();
        // Metric kinds take their metric's name; `nps` was published for another question.
        assert_eq!(keys, ["why", "nps_2"]);
        assert_eq!(def.find_question(a), Some((0, 1)));
        assert_eq!(def.find_question(b), Some((0, 0)));
        let mut reuse = draft(QuestionKind::Nps, "Again");
        reuse.key = Some("nps".into());
        let err = add_question(&mut def, &history, section, None, reuse).unwrap_err();
        assert!(matches!(err, AppError::Problems { ref problems, .. } if problems[0].code == ProblemCode::KeyRetired));
    }

    #[test]
    fn options_get_values_and_moves_stay_in_bounds() {
        let mut def = form();
        let first = def.sections[0].uid;
        let second = add_section(&mut def, None, Text::new(), Text::new()).unwrap();
        let mut choice = draft(QuestionKind::SingleChoice, "Plan");
        choice.options = vec![
            OptionDraft {
                value: None,
                label: text(&[("en", "Pro plan"), ("fa", "حرفه‌ای")]),
                score: None,
            },
            OptionDraft {
                value: Some("pro_plan".into()),
                label: text(&[("en", "Other"), ("fa", "دیگر")]),
                score: Some(1.0),
            },
        ];
        let uid = add_question(&mut def, &History::default(), first, None, choice).unwrap();
        let values: Vec<&str> = def.sections[0].questions[0]
            .options
            .iter()
            .map(|o| o.value.as_str())
            .collect();
        assert_eq!(values, ["pro_plan_2", "pro_plan"]);
        assert!(move_question(&mut def, uid, second, 1).is_err());
        assert_eq!(def.find_question(uid), Some((0, 0)));
        move_question(&mut def, uid, second, 0).unwrap();
        assert_eq!(def.find_question(uid), Some((1, 0)));
    }

    #[test]
    fn arrange_needs_every_part_once() {
        let mut def = form();
        let first = def.sections[0].uid;
        let second = add_section(&mut def, None, Text::new(), Text::new()).unwrap();
        let h = History::default();
        let a = add_question(&mut def, &h, first, None, draft(QuestionKind::YesNo, "A")).unwrap();
        let b = add_question(&mut def, &h, first, None, draft(QuestionKind::YesNo, "B")).unwrap();
        assert!(arrange(&mut def, vec![(second, vec![b]), (first, vec![])]).is_err());
        assert!(arrange(&mut def, vec![(second, vec![b, a]), (first, vec![a])]).is_err());
        arrange(&mut def, vec![(second, vec![b, a]), (first, vec![])]).unwrap();
        assert_eq!(def.sections[0].uid, second);
        assert_eq!(def.find_question(a), Some((0, 1)));
    }

    #[test]
    fn published_keys_and_kinds_are_frozen() {
        let mut def = form();
        let section = def.sections[0].uid;
        let uid = add_question(
            &mut def,
            &History::default(),
            section,
            None,
            draft(QuestionKind::Nps, "Score"),
        )
        .unwrap();
        let mut history = History::default();
        assert_eq!(def.sections[0].questions[0].key, "nps");
        history.published.insert(uid, ("nps".into(), QuestionKind::Nps));
        history.uid_of_key.insert("nps".into(), uid);
        let rename = QuestionPatch {
            key: Some("score".into()),
            kind: Some(QuestionKind::Csat),
            ..Default::default()
        };
        let Err(AppError::Problems { problems, .. }) = update_question(&mut def, &history, uid, rename) else {
            panic!("a published key and kind changed");
        };
        let codes: Vec<ProblemCode> = problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, [ProblemCode::KeyFrozen, ProblemCode::KindFrozen]);
        let retitle = QuestionPatch {
            title: Some(text(&[("en", "New"), ("fa", "تازه")])),
            required: Some(true),
            ..Default::default()
        };
        update_question(&mut def, &history, uid, retitle).unwrap();
        assert!(def.sections[0].questions[0].required);
    }

    #[test]
    fn removing_a_locale_removes_its_translations() {
        let mut def = form();
        let section = def.sections[0].uid;
        add_question(
            &mut def,
            &History::default(),
            section,
            None,
            draft(QuestionKind::Email, "Email"),
        )
        .unwrap();
        update_form(
            &mut def,
            FormPatch {
                locales: Some(vec!["fa".into()]),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(def.default_locale, "fa");
        assert_eq!(def.sections[0].questions[0].title, text(&[("fa", "پرسش")]));
        assert!(model::check_draft(&def).is_empty());
    }
}
