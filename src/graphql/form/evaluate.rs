//! `evaluateForm`: the path engine over the API, so web and mobile clients need no logic engine
//! of their own.
use crate::codes::ProblemCode;
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{Context, Enum, ID, InputObject, Object, OneofObject, SimpleObject};
use chrono::NaiveDate;

use super::{
    logic::{ValueInput, value},
    types::{FormVersion, Question, Section},
};
use crate::{
    error::{AppError, AppResult},
    form::{Problem, kind::QuestionKind, model::FormDef, rules::Rules},
    graphql::id::{self, NodeKind},
    logic::{
        check::Catalogue,
        eval::{Answer, Facts},
        path::{self, Evaluation, Next, ViolationKind},
    },
};

/// Most attributes and hidden fields in one evaluation.
pub const MAX_FACTS: usize = 100;
/// Longest hidden field value, in characters.
pub const MAX_HIDDEN_CHARS: usize = 1_000;

/// An answer, typed as the question's kind asks.
#[derive(OneofObject)]
pub enum AnswerValueInput {
    /// NPS, CSAT, CES, rating and number questions.
    Number(f64),
    /// Short and long text, email and phone questions; when submitting, also numbers and
    /// dates typed as text (Persian and Arabic-Indic digits read as digits).
    Text(String),
    /// Chosen option values: one for single choice, dropdown and Likert; one or more for
    /// multiple choice.
    Choices(Vec<String>),
    /// Yes / no questions.
    Bool(bool),
    /// Date questions.
    Date(NaiveDate),
}

/// The answer to one question.
#[derive(InputObject)]
pub struct AnswerInput {
    /// The question's key.
    pub key: String,
    /// The answer.
    pub value: AnswerValueInput,
    /// The "other, please specify" text of a choice question that offers it (alone, or
    /// with other choices of a multiple choice); not read by the path.
    pub other_text: Option<String>,
}

/// A respondent attribute's value.
#[derive(InputObject)]
pub struct AttributeValueInput {
    /// The attribute's name in the catalogue.
    pub name: String,
    /// Its value, of the attribute's type.
    pub value: ValueInput,
}

/// A hidden field's value (as the link or app supplies it).
#[derive(InputObject)]
pub struct HiddenValueInput {
    /// The hidden field's key.
    pub key: String,
    /// Its value, at most 1,000 characters.
    pub value: String,
}

fn expected(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Nps | QuestionKind::Csat | QuestionKind::Ces | QuestionKind::Rating | QuestionKind::Number => {
            "number"
        }
        QuestionKind::SingleChoice | QuestionKind::MultipleChoice | QuestionKind::Dropdown | QuestionKind::Likert => {
            "choices"
        }
        QuestionKind::YesNo => "bool",
        QuestionKind::Date => "date",
        QuestionKind::ShortText
        | QuestionKind::LongText
        | QuestionKind::Email
        | QuestionKind::Phone
        | QuestionKind::Hidden => "text",
    }
}

/// The facts the inputs describe, checked against the version and the catalogue (every
/// problem at once). Answers to keys the version does not have are kept: the evaluation
/// reports them as violations.
pub fn facts(
    def: &FormDef,
    catalogue: &Catalogue,
    answers: Vec<AnswerInput>,
    attributes: Vec<AttributeValueInput>,
    hidden: Vec<HiddenValueInput>,
) -> AppResult<Facts> {
    let mut problems = Vec::new();
    let questions: HashMap<&str, _> = def.questions().map(|q| (q.key.as_str(), q)).collect();
    let mut facts = Facts::default();
    for (name, len, max) in [
        ("answers", answers.len(), crate::form::model::MAX_QUESTIONS),
        ("attributes", attributes.len(), MAX_FACTS),
        ("hidden", hidden.len(), MAX_FACTS),
    ] {
        if len > max {
            problems.push(Problem::new(name, ProblemCode::TooMany, format!("at most {max}")));
        }
    }
    AppError::invalid(std::mem::take(&mut problems))?;

    for (i, input) in answers.into_iter().enumerate() {
        let path = format!("answers[{i}]");
        if facts.answers.contains_key(&input.key) {
            problems.push(Problem::new(
                format!("{path}.key"),
                ProblemCode::Duplicate,
                format!("`{}` is answered twice", input.key),
            ));
            continue;
        }
        let answer = match input.value {
            AnswerValueInput::Number(n) => Answer::Number(n),
            AnswerValueInput::Text(t) => Answer::Text(t),
            AnswerValueInput::Choices(c) => Answer::Choices(c),
            AnswerValueInput::Bool(b) => Answer::Bool(b),
            AnswerValueInput::Date(d) => Answer::Date(d),
        };
        if let Some(question) = questions.get(input.key.as_str()) {
            let kind = question.rules.kind();
            let fits = match (&answer, expected(kind)) {
                (Answer::Number(_), "number") | (Answer::Bool(_), "bool") | (Answer::Date(_), "date") => true,
                (Answer::Text(_), "text") => kind != QuestionKind::Hidden,
                (Answer::Choices(c), "choices") => {
                    !c.is_empty() && (c.len() == 1 || matches!(question.rules, Rules::MultipleChoice(_)))
                }
                _ => false,
            };
            if kind == QuestionKind::Hidden {
                problems.push(Problem::new(
                    format!("{path}.key"),
                    ProblemCode::InvalidAnswer,
                    format!("`{}` is a hidden field: send it in `hidden`", input.key),
                ));
                continue;
            }
            if !fits {
                problems.push(Problem::new(
                    format!("{path}.value"),
                    ProblemCode::InvalidAnswer,
                    format!(
                        "`{}` is a {} question: send `{}`{}",
                        input.key,
                        kind.as_str(),
                        expected(kind),
                        if expected(kind) == "choices" {
                            " (one value unless it is a multiple choice)"
                        } else {
                            ""
                        }
                    ),
                ));
                continue;
            }
            if let Answer::Choices(chosen) = &answer {
                let values: HashSet<&str> = question.options.iter().map(|o| o.value.as_str()).collect();
                if let Some(bad) = chosen.iter().find(|c| !values.contains(c.as_str())) {
                    problems.push(Problem::new(
                        format!("{path}.value.choices"),
                        ProblemCode::InvalidAnswer,
                        format!("\"{bad}\" is not an option value of `{}`", input.key),
                    ));
                    continue;
                }
            }
        }
        facts.answers.insert(input.key, answer);
    }
    for (i, input) in attributes.into_iter().enumerate() {
        let path = format!("attributes[{i}]");
        let value = value(input.value);
        let Some(scalar) = catalogue.get(&input.name) else {
            problems.push(Problem::new(
                format!("{path}.name"),
                ProblemCode::UnknownAttribute,
                format!("the attribute catalogue has no `{}`", input.name),
            ));
            continue;
        };
        if !scalar.holds(&value) {
            problems.push(Problem::new(
                format!("{path}.value"),
                ProblemCode::InvalidAttribute,
                format!("`{}` is a {:?} attribute", input.name, catalogue[&input.name]).to_lowercase(),
            ));
            continue;
        }
        facts.attributes.insert(input.name, value);
    }
    for (i, input) in hidden.into_iter().enumerate() {
        let path = format!("hidden[{i}]");
        let known = questions
            .get(input.key.as_str())
            .is_some_and(|q| q.rules.kind() == QuestionKind::Hidden);
        if !known {
            problems.push(Problem::new(
                format!("{path}.key"),
                ProblemCode::UnknownHiddenField,
                format!("the form has no hidden field `{}`", input.key),
            ));
        } else if input.value.chars().count() > MAX_HIDDEN_CHARS {
            problems.push(Problem::new(
                format!("{path}.value"),
                ProblemCode::OutOfRange,
                format!("at most {MAX_HIDDEN_CHARS} characters"),
            ));
        } else {
            facts.hidden.insert(input.key, input.value);
        }
    }
    AppError::invalid(problems)?;
    Ok(facts)
}

/// How the path finishes.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum PathFinish {
    /// After the last section on the path: the response is complete when nothing is missing.
    Complete,
    /// An end rule ended the form early (a completed response).
    Ended,
    /// A disqualify rule ended the form: the response is disqualified and enters no metric.
    Disqualified,
}

/// What comes next.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum NextKind {
    /// Another section: see `section`.
    Section,
    /// No section is left: the form is complete.
    Complete,
    /// An end rule ends the form here (completed).
    End,
    /// A disqualify rule ends the form here.
    Disqualify,
}

/// The step after a section.
#[derive(SimpleObject)]
pub struct NextStep {
    /// Section, complete, end or disqualify.
    pub kind: NextKind,
    /// The next section when `kind` is SECTION.
    pub section: Option<Section>,
}

fn next_step(def: &Arc<FormDef>, version: uuid::Uuid, next: Next) -> NextStep {
    let (kind, section) = match next {
        Next::Section(index) => (
            NextKind::Section,
            Some(Section {
                def: def.clone(),
                version,
                index,
            }),
        ),
        Next::Complete => (NextKind::Complete, None),
        Next::Ended => (NextKind::End, None),
        Next::Disqualified => (NextKind::Disqualify, None),
    };
    NextStep { kind, section }
}

/// One violation.
#[derive(SimpleObject)]
pub struct PathViolation {
    /// The question key.
    pub key: String,
    /// What is wrong: REQUIRED, ANSWER_OFF_PATH or UNKNOWN_QUESTION.
    pub code: ProblemCode,
    /// For humans.
    pub message: String,
}

/// A section on the path.
pub struct PathStep {
    def: Arc<FormDef>,
    version: uuid::Uuid,
    step: path::Step,
}

/// A section the respondent sees, with its questions shown.
#[Object]
impl PathStep {
    /// The section.
    async fn section(&self) -> Section {
        Section {
            def: self.def.clone(),
            version: self.version,
            index: self.step.section,
        }
    }
    /// The questions shown, in order.
    async fn questions(&self) -> Vec<Question> {
        self.step
            .questions
            .iter()
            .map(|&index| Question {
                def: self.def.clone(),
                version: self.version,
                section: self.step.section,
                index,
            })
            .collect()
    }
    /// Keys of the questions shown that need an answer.
    async fn required_keys(&self) -> Vec<String> {
        let section = &self.def.sections[self.step.section];
        self.step
            .required
            .iter()
            .map(|&q| section.questions[q].key.clone())
            .collect()
    }
    /// What follows this section.
    async fn next(&self) -> NextStep {
        next_step(&self.def, self.version, self.step.next)
    }
}

/// The path through a form version for given answers, attributes and hidden fields.
pub struct FormEvaluation {
    pub version: FormVersion,
    pub def: Arc<FormDef>,
    pub facts: Facts,
    pub evaluation: Evaluation,
}

impl FormEvaluation {
    pub fn new(version: FormVersion, def: Arc<FormDef>, facts: Facts) -> Self {
        let evaluation = path::evaluate(&def, &facts);
        FormEvaluation {
            version,
            def,
            facts,
            evaluation,
        }
    }
}

/// The path a respondent takes, what is required on it, how it ends and what is wrong with
/// the answers given.
#[Object]
impl FormEvaluation {
    /// The version evaluated.
    async fn version(&self) -> &FormVersion {
        &self.version
    }
    /// The sections the respondent sees, in order.
    async fn path(&self) -> Vec<PathStep> {
        self.evaluation
            .steps
            .iter()
            .map(|step| PathStep {
                def: self.def.clone(),
                version: self.version.uuid(),
                step: step.clone(),
            })
            .collect()
    }
    /// Keys of every question shown, in path order.
    async fn visible_keys(&self) -> Vec<String> {
        self.evaluation
            .visible_keys(&self.def)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
    /// Keys of every required question shown, in path order.
    async fn required_keys(&self) -> Vec<String> {
        self.evaluation
            .required_keys(&self.def)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
    /// How the path finishes.
    async fn finish(&self) -> PathFinish {
        match self.evaluation.finish {
            Next::Ended => PathFinish::Ended,
            Next::Disqualified => PathFinish::Disqualified,
            Next::Complete | Next::Section(_) => PathFinish::Complete,
        }
    }
    /// True when there is no violation: the answers could be completed as they are.
    async fn valid(&self) -> bool {
        self.evaluation.violations.is_empty()
    }
    /// Missing required answers (in path order), answers off the path, unknown keys.
    async fn violations(&self) -> Vec<PathViolation> {
        self.evaluation
            .violations
            .iter()
            .map(|v| {
                let (code, message) = match v.kind {
                    ViolationKind::Required => (ProblemCode::Required, "required on this path but not answered"),
                    ViolationKind::OffPath => (
                        ProblemCode::AnswerOffPath,
                        "answered, but the question is not on this path",
                    ),
                    ViolationKind::UnknownQuestion => (
                        ProblemCode::UnknownQuestion,
                        "the version has no question with this key",
                    ),
                };
                PathViolation {
                    key: v.key.clone(),
                    code,
                    message: message.to_owned(),
                }
            })
            .collect()
    }
    /// What follows a section for a respondent positioned there, whether or not the path
    /// passes through it (answers before it on the path, and its own, are read).
    async fn next(&self, #[graphql(desc = "A section of the version.")] after: ID) -> AppResult<NextStep> {
        let uid = id::decode(&after, NodeKind::Section, "after")?;
        let index = self
            .def
            .find_section(uid)
            .ok_or_else(|| AppError::bad_input("after", "not a section of this version"))?;
        let next = path::next_after(&self.def, &self.facts, index)
            .ok_or_else(|| AppError::bad_input("after", "not a section of this version"))?;
        Ok(next_step(&self.def, self.version.uuid(), next))
    }
}

/// Runs `evaluateForm`.
pub async fn evaluate_form(
    ctx: &Context<'_>,
    tenant: Option<crate::auth::Tenant>,
    form_id: uuid::Uuid,
    version_id: Option<uuid::Uuid>,
    answers: Vec<AnswerInput>,
    attributes: Vec<AttributeValueInput>,
    hidden: Vec<HiddenValueInput>,
) -> AppResult<FormEvaluation> {
    use crate::graphql::context::ContextExt;
    let conn = ctx.state()?.db.conn();
    let (row, def) = crate::service::form::version_for_evaluation(conn, tenant, form_id, version_id).await?;
    let catalogue = if attributes.is_empty() {
        Arc::new(Catalogue::new())
    } else {
        super::types::catalogue(ctx, row.organization_id).await?
    };
    let facts = facts(&def, &catalogue, answers, attributes, hidden)?;
    let def = Arc::new(def);
    Ok(FormEvaluation::new(FormVersion::with_def(row, def.clone()), def, facts))
}

/// An attribute value input as a name and a typed value.
pub fn attribute_value(input: AttributeValueInput) -> (String, crate::logic::expr::Value) {
    (input.name, value(input.value))
}
