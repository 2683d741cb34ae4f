//! Versions as rows and back: [`FormDef`] ↔ `form_versions`, `form_sections`,
//! `form_questions`, `question_options`. Loading any number of versions' contents takes three
//! queries; writing one rewrites its rows in a handful of bulk statements.
use std::collections::HashMap;

use entity::{form_question, form_section, form_version, question_option};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    form::{
        kind::Metric,
        model::{FormDef, OptionDef, QuestionDef, Screen, SectionDef, Text, Theme},
        rules::Rules,
    },
    logic::expr::Expr,
};

/// Rows per bulk insert, well under every backend's bound-parameter limit.
const CHUNK: usize = 400;

pub fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising plain data (maps of strings, numbers, enums) cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

pub fn from_json<T: DeserializeOwned>(json: &str, what: &str) -> AppResult<T> {
    serde_json::from_str(json).map_err(|e| AppError::internal(&format!("stored {what} unreadable"), e))
}

/// A stored condition's text back as a tree.
fn condition(text: Option<&str>, what: &str) -> AppResult<Option<Expr>> {
    text.map(|t| {
        crate::logic::expr::parse(t)
            .map_err(|e| AppError::Internal(format!("stored {what} unreadable at {}: {}", e.offset, e.message)))
    })
    .transpose()
}

/// A version's own fields (everything but its sections) from its row.
pub fn head(version: &form_version::Model) -> AppResult<FormDef> {
    Ok(FormDef {
        default_locale: version.default_locale.clone(),
        locales: from_json(&version.locales, "locales")?,
        title: from_json::<Text>(&version.title, "title")?,
        description: from_json::<Text>(&version.description, "description")?,
        welcome: from_json::<Screen>(&version.welcome, "welcome screen")?,
        thank_you: from_json::<Screen>(&version.thank_you, "thank-you screen")?,
        theme: from_json::<Theme>(&version.theme, "theme")?,
        sections: Vec::new(),
    })
}

/// Writes a version's own fields into its row.
pub fn set_head(model: &mut form_version::ActiveModel, def: &FormDef) {
    model.default_locale = Set(def.default_locale.clone());
    model.locales = Set(to_json(&def.locales));
    model.title = Set(to_json(&def.title));
    model.description = Set(to_json(&def.description));
    model.welcome = Set(to_json(&def.welcome));
    model.thank_you = Set(to_json(&def.thank_you));
    model.theme = Set(to_json(&def.theme));
}

/// The sections (with questions and options) of each of `version_ids`, in order: three
/// queries whatever the number of versions and their sizes.
pub async fn load_sections(
    conn: &impl ConnectionTrait,
    version_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<SectionDef>>> {
    let mut out: HashMap<Uuid, Vec<SectionDef>> = version_ids.iter().map(|id| (*id, Vec::new())).collect();
    if version_ids.is_empty() {
        return Ok(out);
    }
    let ids = version_ids.to_vec();
    let sections = form_section::Entity::find()
        .filter(form_section::Column::VersionId.is_in(ids.clone()))
        .order_by_asc(form_section::Column::Position)
        .all(conn)
        .await?;
    let questions = form_question::Entity::find()
        .filter(form_question::Column::VersionId.is_in(ids.clone()))
        .order_by_asc(form_question::Column::Position)
        .all(conn)
        .await?;
    let options = question_option::Entity::find()
        .filter(question_option::Column::VersionId.is_in(ids))
        .order_by_asc(question_option::Column::Position)
        .all(conn)
        .await?;

    let mut options_of: HashMap<(Uuid, Uuid), Vec<OptionDef>> = HashMap::new();
    for option in options {
        options_of
            .entry((option.version_id, option.question_uid))
            .or_default()
            .push(OptionDef {
                value: option.value,
                label: from_json(&option.label, "option label")?,
                score: option.score,
            });
    }
    let mut questions_of: HashMap<(Uuid, Uuid), Vec<QuestionDef>> = HashMap::new();
    for question in questions {
        let metric = match question.metric.as_deref() {
            None => None,
            Some(name) => {
                Some(Metric::parse(name).ok_or_else(|| AppError::Internal(format!("unknown stored metric {name}")))?)
            }
        };
        let rules: Rules = from_json(&question.rules, "question rules")?;
        if rules.kind().as_str() != question.kind {
            return Err(AppError::Internal(format!(
                "question {} stores kind {} but rules of {}",
                question.uid,
                question.kind,
                rules.kind().as_str()
            )));
        }
        questions_of
            .entry((question.version_id, question.section_uid))
            .or_default()
            .push(QuestionDef {
                options: options_of
                    .remove(&(question.version_id, question.uid))
                    .unwrap_or_default(),
                uid: question.uid,
                key: question.key,
                required: question.required,
                metric,
                title: from_json(&question.title, "question title")?,
                description: from_json(&question.description, "question description")?,
                rules,
                show_if: condition(question.show_if.as_deref(), "question show-if")?,
                require_if: condition(question.require_if.as_deref(), "question require-if")?,
            });
    }
    for section in sections {
        out.entry(section.version_id).or_default().push(SectionDef {
            questions: questions_of
                .remove(&(section.version_id, section.uid))
                .unwrap_or_default(),
            uid: section.uid,
            title: from_json(&section.title, "section title")?,
            description: from_json(&section.description, "section description")?,
            show_if: condition(section.show_if.as_deref(), "section show-if")?,
            skips: from_json(&section.skips, "section skips")?,
            end_if: condition(section.end_if.as_deref(), "section end-if")?,
            disqualify_if: condition(section.disqualify_if.as_deref(), "section disqualify-if")?,
        });
    }
    Ok(out)
}

/// A whole version: its row's fields and its sections.
pub async fn load_def(conn: &impl ConnectionTrait, version: &form_version::Model) -> AppResult<FormDef> {
    let mut def = head(version)?;
    def.sections = load_sections(conn, &[version.id])
        .await?
        .remove(&version.id)
        .unwrap_or_default();
    Ok(def)
}

/// Replaces the sections, questions and options of `version_id` with those of `def`.
pub async fn write_sections(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    version_id: Uuid,
    def: &FormDef,
) -> AppResult<()> {
    question_option::Entity::delete_many()
        .filter(question_option::Column::VersionId.eq(version_id))
        .exec(conn)
        .await?;
    form_question::Entity::delete_many()
        .filter(form_question::Column::VersionId.eq(version_id))
        .exec(conn)
        .await?;
    form_section::Entity::delete_many()
        .filter(form_section::Column::VersionId.eq(version_id))
        .exec(conn)
        .await?;

    let mut sections = Vec::new();
    let mut questions = Vec::new();
    let mut options = Vec::new();
    for (s, section) in def.sections.iter().enumerate() {
        sections.push(form_section::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            version_id: Set(version_id),
            uid: Set(section.uid),
            position: Set(s as i32),
            title: Set(to_json(&section.title)),
            description: Set(to_json(&section.description)),
            show_if: Set(section.show_if.as_ref().map(Expr::to_string)),
            skips: Set(to_json(&section.skips)),
            end_if: Set(section.end_if.as_ref().map(Expr::to_string)),
            disqualify_if: Set(section.disqualify_if.as_ref().map(Expr::to_string)),
        });
        for (q, question) in section.questions.iter().enumerate() {
            questions.push(form_question::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(organization_id),
                version_id: Set(version_id),
                section_uid: Set(section.uid),
                uid: Set(question.uid),
                position: Set(q as i32),
                key: Set(question.key.clone()),
                kind: Set(question.rules.kind().as_str().to_owned()),
                required: Set(question.required),
                metric: Set(question.metric.map(|m| m.as_str().to_owned())),
                title: Set(to_json(&question.title)),
                description: Set(to_json(&question.description)),
                rules: Set(to_json(&question.rules)),
                show_if: Set(question.show_if.as_ref().map(Expr::to_string)),
                require_if: Set(question.require_if.as_ref().map(Expr::to_string)),
            });
            for (o, option) in question.options.iter().enumerate() {
                options.push(question_option::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(organization_id),
                    version_id: Set(version_id),
                    question_uid: Set(question.uid),
                    position: Set(o as i32),
                    value: Set(option.value.clone()),
                    label: Set(to_json(&option.label)),
                    score: Set(option.score),
                });
            }
        }
    }
    insert_all::<form_section::Entity, _>(conn, sections).await?;
    insert_all::<form_question::Entity, _>(conn, questions).await?;
    insert_all::<question_option::Entity, _>(conn, options).await
}

async fn insert_all<E, C>(conn: &C, rows: Vec<E::ActiveModel>) -> AppResult<()>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows.by_ref().take(CHUNK).collect();
        E::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}
