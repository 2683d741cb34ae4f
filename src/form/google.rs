//! Converts the JSON that Google's Forms API returns for a form (`forms.get`, a `Form`
//! resource) into a new form: choice items become single choice, multiple choice or dropdown,
//! text items short or long text, scale items ratings or Likert scales, date items dates, each
//! row of a grid its own question, page breaks sections, "go to section" on choices skip rules
//! (and "submit form" an end rule), required flags carry over.
//!
//! Every item is reported: converted as it was, adapted (with what changed and why), or
//! skipped (with why: file uploads, images, videos, static text). Nothing is dropped silently.
use crate::codes::{NoteCode, ProblemCode};
use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{
    Problem,
    document::Imported,
    key,
    model::{FormDef, FormSettings, OptionDef, QuestionDef, SectionDef, Skip, Text},
    rules::{ChoiceRules, DateRules, RatingRules, Rules, TextRules},
};
use crate::logic::expr::{CompareOp, Expr, Operand, Value as Constant};

/// What became of one item of the Google form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "GoogleFormItemOutcome")]
pub enum ItemOutcome {
    /// Converted with nothing lost.
    Converted,
    /// Converted, with the changes listed in its notes.
    Adapted,
    /// Not converted; the notes say why.
    Skipped,
}

/// A change or a refusal, with a stable code.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemNote {
    pub code: NoteCode,
    pub message: String,
}

/// The report on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemReport {
    /// Google's item id.
    pub item_id: String,
    /// The item's title.
    pub title: String,
    /// The item in the Google document: `$.items[3]`.
    pub path: String,
    pub outcome: ItemOutcome,
    /// Keys of the questions made from it (one per row for a grid).
    pub keys: Vec<String>,
    pub notes: Vec<ItemNote>,
}

/// The converted form and the report on every item.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub imported: Imported,
    pub items: Vec<ItemReport>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GForm {
    info: GInfo,
    items: Vec<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GInfo {
    title: String,
    document_title: String,
    description: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GItem {
    item_id: String,
    title: String,
    description: String,
    question_item: Option<GQuestionItem>,
    question_group_item: Option<GGroup>,
    page_break_item: Option<Value>,
    text_item: Option<Value>,
    image_item: Option<Value>,
    video_item: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GQuestionItem {
    question: GQuestion,
    image: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GQuestion {
    required: bool,
    grading: Option<GGrading>,
    choice_question: Option<GChoice>,
    text_question: Option<GText>,
    scale_question: Option<GScale>,
    date_question: Option<GDate>,
    time_question: Option<GTime>,
    file_upload_question: Option<Value>,
    row_question: Option<GRow>,
    rating_question: Option<GRating>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GChoice {
    #[serde(rename = "type")]
    kind: String,
    options: Vec<GOption>,
    shuffle: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GOption {
    value: String,
    image: Option<Value>,
    is_other: bool,
    go_to_action: Option<String>,
    go_to_section_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GText {
    paragraph: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GScale {
    low: i64,
    high: i64,
    low_label: String,
    high_label: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GDate {
    include_time: bool,
    include_year: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GTime {
    duration: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GRow {
    title: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GRating {
    rating_scale_level: u32,
    icon_type: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GGrading {
    point_value: f64,
    correct_answers: Option<GCorrectAnswers>,
    when_right: Option<Value>,
    when_wrong: Option<Value>,
    general_feedback: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GCorrectAnswers {
    answers: Vec<GCorrectAnswer>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GCorrectAnswer {
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GGroup {
    questions: Vec<GQuestion>,
    grid: Option<GGrid>,
    image: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GGrid {
    columns: GChoice,
    shuffle_questions: bool,
}

/// A time of day as `HH:MM`, and a duration as `H:MM:SS`.
pub const TIME_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
pub const DURATION_PATTERN: &str = "^[0-9]{1,3}:[0-5][0-9]:[0-5][0-9]$";

/// A jump of a choice to a section, resolved once every section is known.
struct Jump {
    section: usize,
    key: String,
    value: String,
    target: String,
    report: usize,
}

struct Converter {
    locale: String,
    sections: Vec<SectionDef>,
    /// Google's page-break item id → section index.
    section_of_item: HashMap<String, usize>,
    keys: HashSet<String>,
    jumps: Vec<Jump>,
    /// Per section: the values of choices that submit the form, by question key.
    submits: Vec<(usize, String, String)>,
    reports: Vec<ItemReport>,
}

fn note(code: NoteCode, message: impl Into<String>) -> ItemNote {
    ItemNote {
        code,
        message: message.into(),
    }
}

/// An option value from a label: lower-case ASCII words joined by `_`, else `o<n>`.
fn option_value(label: &str, n: usize, taken: &mut HashSet<String>) -> String {
    let base = key::ascii_words(label, 5, 48);
    let base = if base.is_empty() { format!("o{n}") } else { base };
    let value = if taken.contains(&base) {
        (2..)
            .map(|i| format!("{base}_{i}"))
            .find(|v| !taken.contains(v))
            .unwrap_or(base)
    } else {
        base
    };
    taken.insert(value.clone());
    value
}

impl Converter {
    fn text(&self, value: &str) -> Text {
        let value = value.trim();
        if value.is_empty() {
            Text::new()
        } else {
            Text::from([(self.locale.clone(), value.to_owned())])
        }
    }

    fn new_key(&mut self, title: &str, stem: &str) -> String {
        let key = key::generate(Some(title), stem, &self.keys);
        self.keys.insert(key.clone());
        key
    }

    fn question(&self, key: String, title: &str, description: &str, required: bool, rules: Rules) -> QuestionDef {
        QuestionDef {
            uid: Uuid::now_v7(),
            key,
            required,
            metric: None,
            title: self.text(title),
            description: self.text(description),
            rules,
            options: Vec::new(),
            show_if: None,
            require_if: None,
        }
    }

    /// Choice options; `notes` gets what was dropped.
    fn options(&self, choice: &GChoice, notes: &mut Vec<ItemNote>) -> (Vec<OptionDef>, bool) {
        let mut taken = HashSet::new();
        let mut other = false;
        let mut options = Vec::new();
        for option in &choice.options {
            if option.is_other {
                other = true;
                continue;
            }
            if option.image.is_some() {
                notes.push(note(
                    NoteCode::OptionImageDropped,
                    format!("the image of option `{}` is not kept", option.value),
                ));
            }
            let value = option_value(&option.value, options.len() + 1, &mut taken);
            options.push(OptionDef {
                value,
                label: self.text(&option.value),
                score: None,
            });
        }
        (options, other)
    }

    fn choice_rules(kind: &str, allow_other: bool, shuffle: bool) -> Option<Rules> {
        let rules = ChoiceRules {
            allow_other,
            randomize_options: shuffle,
            ..Default::default()
        };
        match kind {
            "RADIO" => Some(Rules::SingleChoice(rules)),
            "CHECKBOX" => Some(Rules::MultipleChoice(rules)),
            "DROP_DOWN" => Some(Rules::Dropdown(rules)),
            _ => None,
        }
    }

    fn add(&mut self, question: QuestionDef) {
        if let Some(section) = self.sections.last_mut() {
            section.questions.push(question);
        }
    }

    fn item(&mut self, index: usize, raw: &Value) {
        let path = format!("$.items[{index}]");
        let item: GItem = match GItem::deserialize(raw) {
            Ok(item) => item,
            Err(err) => {
                self.reports.push(ItemReport {
                    item_id: String::new(),
                    title: String::new(),
                    path,
                    outcome: ItemOutcome::Skipped,
                    keys: Vec::new(),
                    notes: vec![note(NoteCode::UnreadableItem, format!("not a Forms API item: {err}"))],
                });
                return;
            }
        };
        let mut notes = Vec::new();
        let mut keys = Vec::new();
        let mut skipped = false;
        if let Some(question_item) = &item.question_item {
            if question_item.image.is_some() {
                notes.push(note(NoteCode::ImageDropped, "the question's image is not kept"));
            }
            match self.single(&item, &question_item.question, &mut notes) {
                Some(question) => {
                    keys.push(question.key.clone());
                    self.add(question);
                }
                None => skipped = true,
            }
        } else if let Some(group) = &item.question_group_item {
            skipped = !self.grid(&item, group, &mut notes, &mut keys);
        } else if item.page_break_item.is_some() {
            let section = SectionDef::new(self.text(&item.title), self.text(&item.description));
            self.section_of_item.insert(item.item_id.clone(), self.sections.len());
            self.sections.push(section);
        } else if item.text_item.is_some() {
            skipped = true;
            notes.push(note(
                NoteCode::TextNotSupported,
                "a text block is not a question; put its text in a section or question description",
            ));
        } else if item.image_item.is_some() {
            skipped = true;
            notes.push(note(NoteCode::ImageNotSupported, "images are not form items here"));
        } else if item.video_item.is_some() {
            skipped = true;
            notes.push(note(NoteCode::VideoNotSupported, "videos are not form items here"));
        } else {
            skipped = true;
            notes.push(note(NoteCode::UnknownItem, "the item has no kind this converter knows"));
        }
        let outcome = if skipped {
            ItemOutcome::Skipped
        } else if notes.is_empty() {
            ItemOutcome::Converted
        } else {
            ItemOutcome::Adapted
        };
        let report = self.reports.len();
        for jump in self.jumps.iter_mut().filter(|j| j.report == usize::MAX) {
            jump.report = report;
        }
        self.reports.push(ItemReport {
            item_id: item.item_id,
            title: item.title,
            path,
            outcome,
            keys,
            notes,
        });
    }

    /// A question item; `None` when it cannot be converted (the reason is in `notes`).
    fn single(&mut self, item: &GItem, q: &GQuestion, notes: &mut Vec<ItemNote>) -> Option<QuestionDef> {
        let (title, description) = (item.title.as_str(), item.description.as_str());
        if q.file_upload_question.is_some() {
            notes.push(note(
                NoteCode::FileUploadNotSupported,
                "file uploads are not collected here",
            ));
            return None;
        }
        if let Some(choice) = &q.choice_question {
            let (mut options, other) = self.options(choice, notes);
            let Some(rules) = Self::choice_rules(&choice.kind, other, choice.shuffle) else {
                notes.push(note(
                    NoteCode::UnknownItem,
                    format!("`{}` is not a choice type this converter knows", choice.kind),
                ));
                return None;
            };
            let key = self.new_key(title, "choice");
            self.grading(q, &mut options, &choice.options, notes);
            self.navigation(&key, choice, &options, notes);
            let mut question = self.question(key, title, description, q.required, rules);
            question.options = options;
            return Some(question);
        }
        if q.grading.is_some() {
            notes.push(note(
                NoteCode::GradingDropped,
                "quiz grading of a question without options is not kept",
            ));
        }
        let (stem, rules) = if let Some(text) = &q.text_question {
            let rules = if text.paragraph {
                Rules::LongText(TextRules::default())
            } else {
                Rules::ShortText(TextRules::default())
            };
            ("text", rules)
        } else if let Some(scale) = &q.scale_question {
            return self.scale(title, description, q.required, scale, notes);
        } else if let Some(rating) = &q.rating_question {
            if !rating.icon_type.is_empty() && rating.icon_type != "STAR" {
                notes.push(note(
                    NoteCode::IconChanged,
                    format!("{} icons become stars", rating.icon_type.to_lowercase()),
                ));
            }
            let stars = rating.rating_scale_level.clamp(2, 10);
            if stars != rating.rating_scale_level {
                notes.push(note(
                    NoteCode::ScaleChanged,
                    format!("{} levels become {stars} stars", rating.rating_scale_level),
                ));
            }
            ("rating", Rules::Rating(RatingRules { max_stars: stars }))
        } else if let Some(date) = &q.date_question {
            if date.include_time {
                notes.push(note(
                    NoteCode::TimeDropped,
                    "the time of day is not asked; only the date",
                ));
            }
            if !date.include_year {
                notes.push(note(NoteCode::YearAdded, "the year is asked as part of the date"));
            }
            ("date", Rules::Date(DateRules::default()))
        } else if let Some(time) = &q.time_question {
            let (pattern, what) = if time.duration {
                (DURATION_PATTERN, "a duration becomes a short text of the form H:MM:SS")
            } else {
                (TIME_PATTERN, "a time of day becomes a short text of the form HH:MM")
            };
            notes.push(note(NoteCode::TimeAsText, what));
            let rules = Rules::ShortText(TextRules {
                pattern: Some(pattern.to_owned()),
                ..Default::default()
            });
            ("time", rules)
        } else {
            notes.push(note(
                NoteCode::UnknownItem,
                "the question has no kind this converter knows",
            ));
            return None;
        };
        let key = self.new_key(title, stem);
        Some(self.question(key, title, description, q.required, rules))
    }

    /// A linear scale: stars when it runs from 1 without labels, else a Likert scale whose
    /// points score their numbers and whose ends carry the labels.
    fn scale(
        &mut self,
        title: &str,
        description: &str,
        required: bool,
        scale: &GScale,
        notes: &mut Vec<ItemNote>,
    ) -> Option<QuestionDef> {
        if scale.high <= scale.low || scale.high - scale.low > 20 {
            notes.push(note(
                NoteCode::ScaleNotSupported,
                format!("a scale from {} to {} has no equivalent", scale.low, scale.high),
            ));
            return None;
        }
        let labelled = !scale.low_label.trim().is_empty() || !scale.high_label.trim().is_empty();
        if scale.low == 1 && !labelled && (2..=10).contains(&scale.high) {
            let key = self.new_key(title, "rating");
            let rules = Rules::Rating(RatingRules {
                max_stars: scale.high as u32,
            });
            return Some(self.question(key, title, description, required, rules));
        }
        let key = self.new_key(title, "scale");
        let mut question = self.question(key, title, description, required, Rules::Likert(ChoiceRules::default()));
        question.options = (scale.low..=scale.high)
            .map(|n| {
                let label = match n {
                    n if n == scale.low && !scale.low_label.trim().is_empty() => {
                        format!("{n} — {}", scale.low_label.trim())
                    }
                    n if n == scale.high && !scale.high_label.trim().is_empty() => {
                        format!("{n} — {}", scale.high_label.trim())
                    }
                    n => n.to_string(),
                };
                OptionDef {
                    value: n.to_string(),
                    label: self.text(&label),
                    score: Some(n as f64),
                }
            })
            .collect();
        Some(question)
    }

    /// Quiz points on a choice question become option scores (points for a correct option,
    /// 0 otherwise); feedback is not kept.
    fn grading(&self, q: &GQuestion, options: &mut [OptionDef], raw: &[GOption], notes: &mut Vec<ItemNote>) {
        let Some(grading) = &q.grading else { return };
        let correct: HashSet<&str> = grading
            .correct_answers
            .iter()
            .flat_map(|c| c.answers.iter().map(|a| a.value.as_str()))
            .collect();
        let labels: Vec<&GOption> = raw.iter().filter(|o| !o.is_other).collect();
        for (option, source) in options.iter_mut().zip(labels) {
            let right = correct.contains(source.value.as_str());
            option.score = Some(if right { grading.point_value } else { 0.0 });
        }
        notes.push(note(
            NoteCode::GradingAsScores,
            format!(
                "quiz points become option scores: {} for a correct option, 0 otherwise",
                grading.point_value
            ),
        ));
        if grading.when_right.is_some() || grading.when_wrong.is_some() || grading.general_feedback.is_some() {
            notes.push(note(NoteCode::FeedbackDropped, "quiz feedback is not kept"));
        }
    }

    /// "Go to section" and "submit form" on options.
    fn navigation(&mut self, key: &str, choice: &GChoice, options: &[OptionDef], notes: &mut Vec<ItemNote>) {
        let section = self.sections.len() - 1;
        let raw: Vec<&GOption> = choice.options.iter().filter(|o| !o.is_other).collect();
        for (option, source) in options.iter().zip(raw) {
            if let Some(target) = &source.go_to_section_id {
                self.jumps.push(Jump {
                    section,
                    key: key.to_owned(),
                    value: option.value.clone(),
                    target: target.clone(),
                    report: usize::MAX,
                });
                continue;
            }
            match source.go_to_action.as_deref() {
                Some("SUBMIT_FORM") => self.submits.push((section, key.to_owned(), option.value.clone())),
                Some("RESTART_FORM") => notes.push(note(
                    NoteCode::JumpNotSupported,
                    format!(
                        "option `{}` restarts the form; forms here only move forward, so it goes on to the next section",
                        option.value
                    ),
                )),
                _ => {}
            }
        }
    }

    /// A grid: one question per row, the columns as options.
    fn grid(&mut self, item: &GItem, group: &GGroup, notes: &mut Vec<ItemNote>, keys: &mut Vec<String>) -> bool {
        let Some(grid) = &group.grid else {
            notes.push(note(NoteCode::UnknownItem, "a question group without a grid"));
            return false;
        };
        let Some(_) = Self::choice_rules(&grid.columns.kind, false, false) else {
            notes.push(note(
                NoteCode::UnknownItem,
                format!("`{}` is not a grid type this converter knows", grid.columns.kind),
            ));
            return false;
        };
        if group.image.is_some() {
            notes.push(note(NoteCode::ImageDropped, "the grid's image is not kept"));
        }
        if grid.shuffle_questions {
            notes.push(note(
                NoteCode::RowOrderFixed,
                "rows become separate questions in a fixed order",
            ));
        }
        for row in &group.questions {
            let row_title = row.row_question.as_ref().map_or("", |r| r.title.as_str());
            let title = format!("{} — {row_title}", item.title.trim());
            let key = self.new_key(&format!("{} {row_title}", item.title), "grid");
            let (options, other) = self.options(&grid.columns, notes);
            let rules = Self::choice_rules(&grid.columns.kind, other, grid.columns.shuffle)
                .unwrap_or(Rules::SingleChoice(ChoiceRules::default()));
            let mut question = self.question(key.clone(), &title, &item.description, row.required, rules);
            question.options = options;
            self.add(question);
            keys.push(key);
        }
        true
    }

    /// Resolves the jumps and ends; the sections and the reports.
    fn finish(mut self) -> (Vec<SectionDef>, Vec<ItemReport>) {
        for jump in std::mem::take(&mut self.jumps) {
            let target = self.section_of_item.get(&jump.target).copied();
            let note_on = |reports: &mut Vec<ItemReport>, n: ItemNote| {
                if let Some(report) = reports.get_mut(jump.report) {
                    report.notes.push(n);
                    if report.outcome == ItemOutcome::Converted {
                        report.outcome = ItemOutcome::Adapted;
                    }
                }
            };
            match target {
                Some(to) if to > jump.section => {
                    let to = self.sections[to].uid;
                    self.sections[jump.section].skips.push(Skip {
                        when: Expr::Compare {
                            subject: Operand::Answer(jump.key),
                            op: CompareOp::Eq,
                            value: Constant::Text(jump.value),
                        },
                        to,
                    });
                }
                Some(_) => note_on(
                    &mut self.reports,
                    note(
                        NoteCode::JumpNotSupported,
                        format!(
                            "option `{}` goes back to an earlier section; forms here only move forward, so it goes on to the next section",
                            jump.value
                        ),
                    ),
                ),
                None => note_on(
                    &mut self.reports,
                    note(
                        NoteCode::JumpNotSupported,
                        format!(
                            "option `{}` goes to section `{}`, which the form does not have",
                            jump.value, jump.target
                        ),
                    ),
                ),
            }
        }
        let mut ends: HashMap<usize, Vec<Expr>> = HashMap::new();
        for (section, key, value) in std::mem::take(&mut self.submits) {
            ends.entry(section).or_default().push(Expr::Compare {
                subject: Operand::Answer(key),
                op: CompareOp::Eq,
                value: Constant::Text(value),
            });
        }
        for (section, mut conditions) in ends {
            self.sections[section].end_if = Some(if conditions.len() == 1 {
                conditions.remove(0)
            } else {
                Expr::Or(conditions)
            });
        }
        // Google's first page is implicit: when the form opens with a page break it is empty.
        if self.sections.len() > 1 && self.sections[0].questions.is_empty() {
            self.sections.remove(0);
        }
        (self.sections, self.reports)
    }
}

/// Converts a `forms.get` document, written in `locale`. Refuses only what is not a Google
/// form at all; everything else converts, with a report per item.
pub fn convert(value: &Value, locale: &str) -> Result<Conversion, Vec<Problem>> {
    if !value.is_object() || value.get("info").is_none() {
        return Err(vec![Problem::new(
            "$",
            ProblemCode::NotAGoogleForm,
            "expected the JSON of a Google Forms `Form` resource (with `info` and `items`), as forms.get returns it",
        )]);
    }
    let form = GForm::deserialize(value).map_err(|err| {
        vec![Problem::new(
            "$",
            ProblemCode::NotAGoogleForm,
            format!("not a Google Forms `Form` resource: {err}"),
        )]
    })?;
    let mut converter = Converter {
        locale: locale.to_owned(),
        sections: vec![SectionDef::new(Text::new(), Text::new())],
        section_of_item: HashMap::new(),
        keys: HashSet::new(),
        jumps: Vec::new(),
        submits: Vec::new(),
        reports: Vec::new(),
    };
    for (index, item) in form.items.iter().enumerate() {
        converter.item(index, item);
    }
    let title = if form.info.title.trim().is_empty() {
        &form.info.document_title
    } else {
        &form.info.title
    };
    let mut def = FormDef::new(vec![locale.to_owned()], converter.text(title));
    def.description = converter.text(&form.info.description);
    let (sections, items) = converter.finish();
    def.sections = sections;
    Ok(Conversion {
        imported: Imported {
            def,
            touchpoint: None,
            settings: FormSettings::default(),
        },
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_are_readable_unique_and_valid() {
        let mut taken = HashSet::new();
        let values: Vec<String> = ["Very good!", "Very good", "خیلی خوب", "10 or more", "Très bien"]
            .iter()
            .enumerate()
            .map(|(i, label)| option_value(label, i + 1, &mut taken))
            .collect();
        assert_eq!(values, ["very_good", "very_good_2", "o3", "10_or_more", "tr_s_bien"]);
        assert!(values.iter().all(|v| super::super::model::is_option_value(v)));
    }

    #[test]
    fn what_is_not_a_google_form_is_refused() {
        for value in [serde_json::json!([]), serde_json::json!({ "formatVersion": 1 })] {
            let problems = convert(&value, "en").unwrap_err();
            assert_eq!(problems[0].code, ProblemCode::NotAGoogleForm);
        }
        let empty = convert(&serde_json::json!({ "info": { "title": "Empty" } }), "fa").unwrap();
        assert_eq!(empty.imported.def.sections.len(), 1);
        assert_eq!(empty.imported.def.title.get("fa").map(String::as_str), Some("Empty"));
        assert!(empty.items.is_empty());
    }
}
