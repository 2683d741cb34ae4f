//! The path through a form version for one respondent: which sections and questions they see,
//! which answers are required, where the form ends, and what is wrong with the answers given.
//!
//! Semantics (the product's data rules):
//! - Sections are visited from the first. A section whose show-if does not hold is passed over
//!   (its rules do not apply) and the next one is tried.
//! - In a visited section each question is shown when its show-if holds, required when it is
//!   `required` or its require-if holds. Conditions read only what comes before them on the
//!   path: answers to shown questions earlier on the path, respondent attributes and hidden
//!   fields. An answer to a question that is not on the path counts as not given.
//! - After a visited section, its disqualify rule wins, then its end rule, then its skips in
//!   order (the first that holds); otherwise the next section follows. A skip to a section that
//!   is not after the current one, or to a section the version does not have, never applies
//!   (the static checks refuse such rules before publication).
//!
//! Pure and total: any version and any facts give an answer, in time linear in the form's size
//! times its conditions' size; no input panics.
use std::collections::HashMap;

use super::eval::{Facts, holds};
use crate::form::{kind::QuestionKind, model::FormDef};

/// What follows a section on the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The section at this index (in the version's order).
    Section(usize),
    /// No section is left: the form is complete.
    Complete,
    /// An end rule of the section ended the form (completed).
    Ended,
    /// A disqualify rule of the section ended the form: the respondent does not qualify.
    Disqualified,
}

/// A section on the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Index of the section in the version.
    pub section: usize,
    /// Indices (within the section) of the questions shown, in order.
    pub questions: Vec<usize>,
    /// Indices of the shown questions that are required.
    pub required: Vec<usize>,
    /// What comes after this section.
    pub next: Next,
}

/// What is wrong with a set of answers on the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// A required question on the path has no answer.
    Required,
    /// An answer was given to a question that is not on the path.
    OffPath,
    /// An answer was given to a key the version does not have (or to a hidden field).
    UnknownQuestion,
}

/// One violation, naming the question key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub key: String,
    pub kind: ViolationKind,
}

/// The result of evaluating a version against a respondent's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// The sections the respondent sees, in the order they see them.
    pub steps: Vec<Step>,
    /// How the path finishes: [`Next::Complete`], [`Next::Ended`] or [`Next::Disqualified`].
    pub finish: Next,
    /// Every violation: missing required answers in path order, then answers off the path in
    /// the version's order, then unknown keys in alphabetical order.
    pub violations: Vec<Violation>,
}

impl Evaluation {
    /// Keys of the questions shown, in path order.
    pub fn visible_keys<'a>(&self, def: &'a FormDef) -> Vec<&'a str> {
        self.keys(def, |s| &s.questions)
    }

    /// Keys of the required questions shown, in path order.
    pub fn required_keys<'a>(&self, def: &'a FormDef) -> Vec<&'a str> {
        self.keys(def, |s| &s.required)
    }

    fn keys<'a>(&self, def: &'a FormDef, pick: impl Fn(&Step) -> &Vec<usize>) -> Vec<&'a str> {
        self.steps
            .iter()
            .flat_map(|step| {
                pick(step)
                    .iter()
                    .filter_map(move |&q| def.sections.get(step.section)?.questions.get(q))
                    .map(|q| q.key.as_str())
            })
            .collect()
    }
}

/// The walk's running state: what later conditions may read.
struct Walker<'a> {
    def: &'a FormDef,
    facts: &'a Facts,
    seen: Facts,
}

impl<'a> Walker<'a> {
    fn new(def: &'a FormDef, facts: &'a Facts) -> Self {
        Walker {
            def,
            facts,
            seen: Facts {
                answers: HashMap::new(),
                attributes: facts.attributes.clone(),
                hidden: facts.hidden.clone(),
                response: facts.response.clone(),
            },
        }
    }

    fn shown(&self, section: usize) -> bool {
        self.def.sections[section]
            .show_if
            .as_ref()
            .is_none_or(|c| holds(c, &self.seen))
    }

    /// Visits section `at`: its questions (recording their answers as seen) and its rules.
    fn visit(&mut self, at: usize) -> Step {
        let section = &self.def.sections[at];
        let mut step = Step {
            section: at,
            questions: Vec::new(),
            required: Vec::new(),
            next: Next::Complete,
        };
        for (q, question) in section.questions.iter().enumerate() {
            if question.rules.kind() == QuestionKind::Hidden {
                continue;
            }
            if !question.show_if.as_ref().is_none_or(|c| holds(c, &self.seen)) {
                continue;
            }
            step.questions.push(q);
            if question.required || question.require_if.as_ref().is_some_and(|c| holds(c, &self.seen)) {
                step.required.push(q);
            }
            if let Some(answer) = self.facts.answers.get(&question.key) {
                self.seen.answers.insert(question.key.clone(), answer.clone());
            }
        }
        step.next = self.after(at);
        step
    }

    /// Where section `at`'s rules lead (before passing over hidden sections).
    fn after(&self, at: usize) -> Next {
        let section = &self.def.sections[at];
        if section.disqualify_if.as_ref().is_some_and(|c| holds(c, &self.seen)) {
            return Next::Disqualified;
        }
        if section.end_if.as_ref().is_some_and(|c| holds(c, &self.seen)) {
            return Next::Ended;
        }
        for skip in &section.skips {
            let target = self.def.sections.iter().position(|s| s.uid == skip.to);
            if let Some(target) = target.filter(|t| *t > at)
                && holds(&skip.when, &self.seen)
            {
                return Next::Section(target);
            }
        }
        if at + 1 < self.def.sections.len() {
            Next::Section(at + 1)
        } else {
            Next::Complete
        }
    }

    /// From `next`, passes over hidden sections to the first shown one (or the finish).
    fn settle(&self, next: Next) -> Next {
        let mut next = next;
        while let Next::Section(at) = next {
            if self.shown(at) {
                break;
            }
            next = if at + 1 < self.def.sections.len() {
                Next::Section(at + 1)
            } else {
                Next::Complete
            };
        }
        next
    }

    /// Walks from the first section; returns the steps and the finish.
    fn walk(&mut self) -> (Vec<Step>, Next) {
        let mut steps: Vec<Step> = Vec::new();
        let mut next = if self.def.sections.is_empty() {
            Next::Complete
        } else {
            self.settle(Next::Section(0))
        };
        // Every move goes forward, so the loop ends after at most one visit per section.
        while let Next::Section(at) = next {
            let mut step = self.visit(at);
            next = self.settle(step.next);
            step.next = next;
            steps.push(step);
        }
        (steps, next)
    }
}

/// Evaluates `def` for a respondent's `facts`.
pub fn evaluate(def: &FormDef, facts: &Facts) -> Evaluation {
    let mut walker = Walker::new(def, facts);
    let (steps, finish) = walker.walk();

    let mut violations = Vec::new();
    for step in &steps {
        let section = &def.sections[step.section];
        for &q in &step.required {
            let key = &section.questions[q].key;
            if !facts.answers.contains_key(key) {
                violations.push(Violation {
                    key: key.clone(),
                    kind: ViolationKind::Required,
                });
            }
        }
    }
    let mut on_path: HashMap<&str, ()> = HashMap::new();
    for step in &steps {
        for &q in &step.questions {
            on_path.insert(def.sections[step.section].questions[q].key.as_str(), ());
        }
    }
    let mut known: HashMap<&str, ()> = HashMap::new();
    for question in def.sections.iter().flat_map(|s| &s.questions) {
        if question.rules.kind() == QuestionKind::Hidden {
            continue;
        }
        known.insert(question.key.as_str(), ());
        if facts.answers.contains_key(&question.key) && !on_path.contains_key(question.key.as_str()) {
            violations.push(Violation {
                key: question.key.clone(),
                kind: ViolationKind::OffPath,
            });
        }
    }
    let mut unknown: Vec<&String> = facts
        .answers
        .keys()
        .filter(|k| !known.contains_key(k.as_str()))
        .collect();
    unknown.sort();
    violations.extend(unknown.into_iter().map(|key| Violation {
        key: key.clone(),
        kind: ViolationKind::UnknownQuestion,
    }));

    Evaluation {
        steps,
        finish,
        violations,
    }
}

/// What follows section `at` for a respondent positioned there, whether or not the path
/// passes through it: the answers seen are those on the path before it, plus its own shown
/// questions'. `None` when the version has no section `at`.
pub fn next_after(def: &FormDef, facts: &Facts, at: usize) -> Option<Next> {
    if at >= def.sections.len() {
        return None;
    }
    let mut walker = Walker::new(def, facts);
    let mut next = walker.settle(Next::Section(0));
    while let Next::Section(i) = next {
        if i >= at {
            break;
        }
        let step = walker.visit(i);
        next = walker.settle(step.next);
    }
    let step = walker.visit(at);
    Some(walker.settle(step.next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        form::{
            model::{QuestionDef, SectionDef, Skip, Text},
            rules::Rules,
        },
        logic::{eval::Answer, expr::parse},
    };

    fn question(key: &str, rules: Rules) -> QuestionDef {
        QuestionDef {
            uid: uuid::Uuid::now_v7(),
            key: key.into(),
            required: false,
            metric: None,
            title: Text::new(),
            description: Text::new(),
            rules,
            options: Vec::new(),
            show_if: None,
            require_if: None,
        }
    }

    fn form(sections: Vec<Vec<QuestionDef>>) -> FormDef {
        let mut def = FormDef::new(vec!["en".into()], Text::new());
        def.sections = sections
            .into_iter()
            .map(|questions| {
                let mut s = SectionDef::new(Text::new(), Text::new());
                s.questions = questions;
                s
            })
            .collect();
        def
    }

    fn facts(answers: &[(&str, f64)]) -> Facts {
        Facts {
            answers: answers
                .iter()
                .map(|(k, v)| (k.to_string(), Answer::Number(*v)))
                .collect(),
            ..Facts::default()
        }
    }

    fn cond(text: &str) -> Option<crate::logic::expr::Expr> {
        Some(parse(text).unwrap())
    }

    /// The CSAT follow-up: "what disappointed you?" only at 3 or less.
    #[test]
    fn show_if_follows_earlier_answers_and_drops_off_path_answers() {
        let mut why = question("why", Rules::Nps);
        why.show_if = cond("answer(service) <= 3");
        why.required = true;
        let def = form(vec![vec![question("service", Rules::Csat), why]]);

        let low = evaluate(&def, &facts(&[("service", 2.0)]));
        assert_eq!(low.visible_keys(&def), ["service", "why"]);
        assert_eq!(low.required_keys(&def), ["why"]);
        assert_eq!(
            low.violations,
            [Violation {
                key: "why".into(),
                kind: ViolationKind::Required
            }]
        );
        let high = evaluate(&def, &facts(&[("service", 5.0), ("why", 1.0), ("nope", 1.0)]));
        assert_eq!(high.visible_keys(&def), ["service"]);
        assert_eq!(high.finish, Next::Complete);
        let kinds: Vec<_> = high.violations.iter().map(|v| (v.key.as_str(), v.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("why", ViolationKind::OffPath),
                ("nope", ViolationKind::UnknownQuestion)
            ]
        );
    }

    #[test]
    fn skips_end_and_disqualify_in_their_order() {
        let mut def = form(vec![
            vec![question("a", Rules::Nps)],
            vec![question("b", Rules::Nps)],
            vec![question("c", Rules::Nps)],
        ]);
        let third = def.sections[2].uid;
        def.sections[0].skips = vec![
            Skip {
                when: parse("answer(a) >= 9").unwrap(),
                to: third,
            },
            // Never reached when the first holds.
            Skip {
                when: parse("answer(a) >= 5").unwrap(),
                to: def.sections[1].uid,
            },
        ];
        def.sections[0].end_if = parse("answer(a) = 10").unwrap().into();
        def.sections[0].disqualify_if = parse("answer(a) = 0").unwrap().into();

        let path = |a: f64| {
            let e = evaluate(&def, &facts(&[("a", a)]));
            (e.steps.iter().map(|s| s.section).collect::<Vec<_>>(), e.finish)
        };
        assert_eq!(path(9.0), (vec![0, 2], Next::Complete));
        assert_eq!(path(6.0), (vec![0, 1, 2], Next::Complete));
        assert_eq!(path(10.0), (vec![0], Next::Ended));
        assert_eq!(path(0.0), (vec![0], Next::Disqualified));
        assert_eq!(next_after(&def, &facts(&[("a", 9.0)]), 0), Some(Next::Section(2)));
        assert_eq!(next_after(&def, &facts(&[("a", 9.0)]), 1), Some(Next::Section(2)));
        assert_eq!(next_after(&def, &facts(&[]), 2), Some(Next::Complete));
        assert_eq!(next_after(&def, &facts(&[]), 3), None);
    }

    #[test]
    fn hidden_sections_are_passed_over_and_backward_skips_never_apply() {
        let mut def = form(vec![
            vec![question("a", Rules::Nps)],
            vec![question("b", Rules::Nps)],
            vec![question("c", Rules::Nps)],
        ]);
        def.sections[1].show_if = cond("answer(a) < 5");
        def.sections[2].skips = vec![Skip {
            when: parse("answer(a) IS ANSWERED").unwrap(),
            to: def.sections[0].uid,
        }];
        let e = evaluate(&def, &facts(&[("a", 8.0), ("b", 1.0)]));
        assert_eq!(e.steps.iter().map(|s| s.section).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(e.steps[0].next, Next::Section(2));
        assert_eq!(e.violations[0].kind, ViolationKind::OffPath);
        // An off-path answer is not seen by later conditions.
        def.sections[2].questions[0].show_if = cond("answer(b) IS ANSWERED");
        let e = evaluate(&def, &facts(&[("a", 8.0), ("b", 1.0)]));
        assert!(e.steps[1].questions.is_empty());
    }
}
