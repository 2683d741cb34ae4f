//! Forms: authoring, lifecycle and reading.
mod document;
mod evaluate;
mod input;
mod loader;
pub mod logic;
mod types;

use async_graphql::{Context, ID, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
pub use document::{DocumentMutation, DocumentQuery};
pub use evaluate::{AnswerInput, AnswerValueInput, AttributeValueInput, HiddenValueInput, PathFinish, attribute_value};
pub use loader::FormLoaders;
pub use logic::Condition;
pub use types::{Form, FormVersion, Question, QuestionConfig, Section, Theme};
use uuid::Uuid;

use self::{evaluate::*, input::*, logic::*, types::FormEdit};
use super::{
    context::ContextExt,
    id::{self, NodeKind},
    pagination::{ListOrder, connection, page_complexity, page_request},
};
use crate::{
    auth::{Action, Role, Scope, Tenant},
    error::AppResult,
    form::{
        Problem,
        model::{self, FormDef, FormSettings},
    },
    service::{
        self,
        form::{
            FormFilter, FormStatus, NewForm, Target, Transition,
            edit::{self, FormPatch, QuestionDraft, QuestionPatch, SectionPatch},
        },
    },
};

/// Reading forms: any member, or an API key with `forms:read`.
pub const READ: Action = Action::Scoped(Scope::FormsRead, Role::Analyst);
/// Authoring forms: EDITOR and above, or an API key with `forms:write`.
pub const WRITE: Action = Action::Scoped(Scope::FormsWrite, Role::Editor);

fn decode(id: &ID, kind: NodeKind, field: &str) -> AppResult<Uuid> {
    id::decode(id, kind, field)
}

#[derive(Default)]
pub struct FormQuery;

#[Object]
impl FormQuery {
    /// The organization's forms (oldest first unless `orderBy` says otherwise), archived ones
    /// only when asked for by status.
    /// Any member, or an API key with `forms:read`.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn forms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only forms in these statuses (default: every status but ARCHIVED).")] status: Option<
            Vec<FormStatus>,
        >,
        #[graphql(desc = "Only forms with this touchpoint label (exact).")] touchpoint: Option<String>,
        #[graphql(
            desc = "Words that must all appear in the title, in any of its languages; ي/ك match ی/ک, the zero-width non-joiner and case are ignored."
        )]
        search: Option<String>,
        #[graphql(desc = "Only forms changed (edited, published, closed, archived, settings) at or after this time.")]
        updated_since: Option<DateTime<Utc>>,
        #[graphql(
            desc = "The order (default: oldest created first); `{ field: UPDATED_AT, direction: DESC }` for the most recently changed first."
        )]
        order_by: Option<ListOrder>,
        #[graphql(desc = "The first this many items (1 to 100; default 20 unless `last` is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Only items after this cursor (`pageInfo.endCursor` of the page before).")] after: Option<
            String,
        >,
        #[graphql(desc = "The last this many items (1 to 100): pages backward.")] last: Option<i32>,
        #[graphql(desc = "Only items before this cursor (`pageInfo.startCursor` of the page after).")] before: Option<
            String,
        >,
    ) -> AppResult<FormConnection> {
        let tenant = ctx.authorize(READ)?;
        let request = page_request(ctx, first, after, last, before)?;
        let filter = FormFilter {
            statuses: status.unwrap_or_default(),
            touchpoint,
            search,
            updated_since,
            sort: order_by.unwrap_or_default().into(),
        };
        let page = service::form::list(ctx.state()?.db.conn(), tenant, filter, request).await?;
        Ok(FormConnection::from_page(page.map(Form::new)))
    }

    /// A form by ID, or null. Any member, or an API key with `forms:read`.
    async fn form(&self, ctx: &Context<'_>, #[graphql(desc = "The form's ID.")] id: ID) -> AppResult<Option<Form>> {
        let tenant = ctx.authorize(READ)?;
        let uuid = decode(&id, NodeKind::Form, "id")?;
        match service::form::get(ctx.state()?.db.conn(), tenant, uuid).await {
            Ok(form) => Ok(Some(Form::new(form))),
            Err(crate::error::AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

#[derive(Default)]
pub struct EvaluateQuery;

#[Object]
impl EvaluateQuery {
    /// The path through a form for given answers, respondent attributes and hidden fields:
    /// the sections and questions shown, the required ones, how the form ends, and every
    /// violation (missing required answers, answers off the path). The submission path runs
    /// the same evaluation.
    ///
    /// Needs no credentials for a PUBLISHED form and the versions it has published (default:
    /// the current one). Members of the form's organization may evaluate any version of it,
    /// the draft included (default: the published version, else the draft). Answers are
    /// checked for type and option values (`INVALID_ANSWER`), attributes against the
    /// catalogue (`UNKNOWN_ATTRIBUTE`, `INVALID_ATTRIBUTE`), hidden fields against the form
    /// (`UNKNOWN_HIDDEN_FIELD`). Weighs 20 in the query's complexity.
    #[graphql(complexity = "crate::graphql::cost::form_work(child_complexity)")]
    async fn evaluate_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
        #[graphql(desc = "A version of the form (default: see above).")] version_id: Option<ID>,
        #[graphql(desc = "Answers given so far, at most one per key (at most 500).")] answers: Option<Vec<AnswerInput>>,
        #[graphql(desc = "The respondent's attributes (at most 100).")] attributes: Option<Vec<AttributeValueInput>>,
        #[graphql(desc = "Hidden fields' values (at most 100).")] hidden: Option<Vec<HiddenValueInput>>,
    ) -> AppResult<FormEvaluation> {
        // Credentials that were sent must be valid; a member with read access gets the
        // member's view, anyone else the public one.
        let tenant = match ctx.principal() {
            Ok(principal) => principal.authorize(READ).ok(),
            Err(crate::error::AppError::Unauthenticated(_))
                if matches!(
                    ctx.data::<super::context::RequestAuth>(),
                    Ok(super::context::RequestAuth::Anonymous) | Err(_)
                ) =>
            {
                None
            }
            Err(err) => return Err(err),
        };
        let form = decode(&form_id, NodeKind::Form, "formId")?;
        let version = version_id
            .map(|v| decode(&v, NodeKind::FormVersion, "versionId"))
            .transpose()?;
        evaluate::evaluate_form(
            ctx,
            tenant,
            form,
            version,
            answers.unwrap_or_default(),
            attributes.unwrap_or_default(),
            hidden.unwrap_or_default(),
        )
        .await
    }
}

connection!(FormConnection, FormEdge, Form, "form");

#[derive(Default)]
pub struct FormMutation;

async fn edit_form<R>(
    ctx: &Context<'_>,
    target: Target,
    change: impl FnOnce(&mut FormDef, &service::form::History) -> AppResult<R>,
) -> AppResult<(FormEdit, R)> {
    let tenant = ctx.authorize(WRITE)?;
    let (edited, result) = service::form::edit(&ctx.state()?.db, tenant, target, change).await?;
    Ok((FormEdit::new(edited), result))
}

async fn transition(ctx: &Context<'_>, id: ID, transition: Transition) -> AppResult<FormPayload> {
    let tenant: Tenant = ctx.authorize(WRITE)?;
    let uuid = decode(&id, NodeKind::Form, "input.id")?;
    let form = service::form::transition(&ctx.state()?.db, &ctx.state()?.events, tenant, uuid, transition).await?;
    Ok(FormPayload { form: Form::new(form) })
}

/// Every mutation of this area needs EDITOR or above, or an API key with `forms:write`.
#[Object]
impl FormMutation {
    /// Creates a draft form (version 1) with one empty section.
    async fn create_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Title, languages, touchpoint and settings.")] input: CreateFormInput,
    ) -> AppResult<FormEdit> {
        let tenant = ctx.authorize(WRITE)?;
        let mut problems = Vec::new();
        let given: Vec<String> = input.title.iter().map(|t| t.locale.clone()).collect();
        let title = text(input.title, "input.title", &mut problems);
        let locales = input.locales.unwrap_or(given);
        let mut def = FormDef::new(locales, title);
        if let Some(description) = opt_text(input.description, "input.description", &mut problems) {
            def.description = description;
        }
        let mut settings = FormSettings::default();
        if let Some(patch) = input.settings {
            patch.apply(&mut settings);
        }
        finish(problems)?;
        let new = NewForm {
            def,
            touchpoint: input.touchpoint,
            settings,
        };
        Ok(FormEdit::new(
            service::form::create(&ctx.state()?.db, tenant, new).await?,
        ))
    }

    /// Changes the title, description, languages, screens or theme (in the draft).
    async fn update_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form and the fields to change.")] input: UpdateFormInput,
    ) -> AppResult<FormEdit> {
        let uuid = decode(&input.id, NodeKind::Form, "input.id")?;
        let mut problems = Vec::new();
        let patch = FormPatch {
            locales: input.locales,
            title: opt_text(input.title, "input.title", &mut problems),
            description: opt_text(input.description, "input.description", &mut problems),
            welcome: input.welcome.map(|s| s.into_screen("input.welcome", &mut problems)),
            thank_you: input.thank_you.map(|s| s.into_screen("input.thankYou", &mut problems)),
            theme: input.theme.map(Into::into),
        };
        finish(problems)?;
        let (edit, ()) = edit_form(ctx, Target::Form(uuid), |def, _| edit::update_form(def, patch)).await?;
        Ok(edit)
    }

    /// Changes the touchpoint and collection settings: not versioned, they apply at once.
    async fn update_form_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form, its touchpoint and settings.")] input: UpdateFormSettingsInput,
    ) -> AppResult<FormPayload> {
        let tenant = ctx.authorize(WRITE)?;
        let uuid = decode(&input.id, NodeKind::Form, "input.id")?;
        let touchpoint = match input.touchpoint {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(t) => Some(Some(t)),
        };
        let form = service::form::update_settings(
            &ctx.state()?.db,
            tenant,
            uuid,
            touchpoint,
            input
                .settings
                .map(|patch| move |settings: &mut FormSettings| patch.apply(settings)),
        )
        .await?;
        Ok(FormPayload { form: Form::new(form) })
    }

    /// Adds a section (page).
    async fn add_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form, the position and the texts.")] input: AddSectionInput,
    ) -> AppResult<FormEdit> {
        let uuid = decode(&input.form_id, NodeKind::Form, "input.formId")?;
        let mut problems = Vec::new();
        let title = opt_text(input.title, "input.title", &mut problems).unwrap_or_default();
        let description = opt_text(input.description, "input.description", &mut problems).unwrap_or_default();
        finish(problems)?;
        let (edit, uid) = edit_form(ctx, Target::Form(uuid), |def, _| {
            edit::add_section(def, input.position, title, description)
        })
        .await?;
        Ok(edit.with_section(uid))
    }

    /// Changes a section's texts.
    async fn update_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section and its new texts.")] input: UpdateSectionInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.id, NodeKind::Section, "input.id")?;
        let mut problems = Vec::new();
        let patch = SectionPatch {
            title: opt_text(input.title, "input.title", &mut problems),
            description: opt_text(input.description, "input.description", &mut problems),
        };
        finish(problems)?;
        let (edit, ()) = edit_form(ctx, Target::Section(uid), |def, _| {
            edit::update_section(def, uid, patch)
        })
        .await?;
        Ok(edit.with_section(uid))
    }

    /// Deletes a section together with its questions (from the draft; published versions keep
    /// them).
    async fn delete_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section to delete.")] input: DeleteSectionInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.id, NodeKind::Section, "input.id")?;
        let (edit, ()) = edit_form(ctx, Target::Section(uid), |def, _| edit::delete_section(def, uid)).await?;
        Ok(edit)
    }

    /// Moves a section to another position.
    async fn move_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section and its new position.")] input: MoveSectionInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.id, NodeKind::Section, "input.id")?;
        let (edit, ()) = edit_form(ctx, Target::Section(uid), |def, _| {
            edit::move_section(def, uid, input.position)
        })
        .await?;
        Ok(edit.with_section(uid))
    }

    /// Adds a question to a section.
    async fn add_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section, the position and the question.")] input: AddQuestionInput,
    ) -> AppResult<FormEdit> {
        let section = decode(&input.section_id, NodeKind::Section, "input.sectionId")?;
        let mut problems: Vec<Problem> = Vec::new();
        let draft = QuestionDraft {
            key: input.key,
            kind: input.kind,
            config: input.config.map(Into::into),
            required: input.required.unwrap_or(false),
            metric: input.metric,
            title: text(input.title, "input.title", &mut problems),
            description: opt_text(input.description, "input.description", &mut problems).unwrap_or_default(),
            options: options(input.options.unwrap_or_default(), "input.options", &mut problems),
        };
        finish(problems)?;
        let (edit, uid) = edit_form(ctx, Target::Section(section), |def, history| {
            edit::add_question(def, history, section, input.position, draft)
        })
        .await?;
        Ok(edit.with_question(uid))
    }

    /// Changes a question.
    async fn update_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question and the fields to change.")] input: UpdateQuestionInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.id, NodeKind::Question, "input.id")?;
        let mut problems = Vec::new();
        let patch = QuestionPatch {
            key: input.key,
            kind: input.kind,
            config: input.config.map(Into::into),
            required: input.required,
            metric: match input.metric {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(m) => Some(Some(m)),
            },
            title: opt_text(input.title, "input.title", &mut problems),
            description: opt_text(input.description, "input.description", &mut problems),
            options: input.options.map(|o| options(o, "input.options", &mut problems)),
        };
        finish(problems)?;
        let (edit, ()) = edit_form(ctx, Target::Question(uid), |def, history| {
            edit::update_question(def, history, uid, patch)
        })
        .await?;
        Ok(edit.with_question(uid))
    }

    /// Replaces a question's show-if and require-if conditions (null removes one). Conditions
    /// that cannot be read are refused (`INVALID_CONDITION`); their checks against the form
    /// (unknown keys, types, order, contradictions) come back as `warnings` and refuse
    /// publication.
    async fn set_question_logic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question and its conditions.")] input: SetQuestionLogicInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.question_id, NodeKind::Question, "input.questionId")?;
        let mut problems = Vec::new();
        let show_if = opt_condition(input.show_if, "input.showIf", &mut problems);
        let require_if = opt_condition(input.require_if, "input.requireIf", &mut problems);
        finish(problems)?;
        let (edit, ()) = edit_form(ctx, Target::Question(uid), |def, _| {
            edit::set_question_logic(def, uid, show_if, require_if)
        })
        .await?;
        Ok(edit.with_question(uid))
    }

    /// Replaces a section's show-if, skip, end and disqualify rules together. Conditions that
    /// cannot be read, and skips to sections the draft does not have, are refused; the rest of
    /// the checks come back as `warnings` and refuse publication.
    async fn set_section_logic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section and its rules.")] input: SetSectionLogicInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.section_id, NodeKind::Section, "input.sectionId")?;
        let mut problems = Vec::new();
        let mut skips = Vec::new();
        for (i, skip) in input.skips.unwrap_or_default().into_iter().enumerate() {
            let to = decode(&skip.to, NodeKind::Section, &format!("input.skips[{i}].to"))?;
            match condition(skip.when, &format!("input.skips[{i}].when")) {
                Ok(when) => skips.push(model::Skip { when, to }),
                Err(problem) => problems.push(problem),
            }
        }
        let logic = edit::SectionLogic {
            show_if: opt_condition(input.show_if, "input.showIf", &mut problems),
            skips,
            end_if: opt_condition(input.end_if, "input.endIf", &mut problems),
            disqualify_if: opt_condition(input.disqualify_if, "input.disqualifyIf", &mut problems),
        };
        finish(problems)?;
        let (edit, ()) = edit_form(ctx, Target::Section(uid), |def, _| {
            edit::set_section_logic(def, uid, logic)
        })
        .await?;
        Ok(edit.with_section(uid))
    }

    /// Deletes a question (from the draft; published versions keep it, and its key stays
    /// reserved for it).
    async fn delete_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question to delete.")] input: DeleteQuestionInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.id, NodeKind::Question, "input.id")?;
        let (edit, ()) = edit_form(ctx, Target::Question(uid), |def, _| edit::delete_question(def, uid)).await?;
        Ok(edit)
    }

    /// Moves a question within its section or into another: one drag and drop.
    async fn move_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question, the section it goes to and its position there.")] input: MoveQuestionInput,
    ) -> AppResult<FormEdit> {
        let uid = decode(&input.id, NodeKind::Question, "input.id")?;
        let section = decode(&input.section_id, NodeKind::Section, "input.sectionId")?;
        let (edit, ()) = edit_form(ctx, Target::Question(uid), |def, _| {
            edit::move_question(def, uid, section, input.position)
        })
        .await?;
        Ok(edit.with_question(uid))
    }

    /// Rearranges the whole draft in one call: sections in order, each with its questions in
    /// order. Every section and question must be listed exactly once.
    async fn arrange_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form and its new arrangement.")] input: ArrangeFormInput,
    ) -> AppResult<FormEdit> {
        let uuid = decode(&input.form_id, NodeKind::Form, "input.formId")?;
        let mut layout = Vec::with_capacity(input.sections.len());
        for (i, section) in input.sections.iter().enumerate() {
            let path = format!("input.sections[{i}]");
            let section_uid = decode(&section.section_id, NodeKind::Section, &format!("{path}.sectionId"))?;
            let questions = section
                .question_ids
                .iter()
                .enumerate()
                .map(|(j, q)| decode(q, NodeKind::Question, &format!("{path}.questionIds[{j}]")))
                .collect::<AppResult<Vec<_>>>()?;
            layout.push((section_uid, questions));
        }
        let (edit, ()) = edit_form(ctx, Target::Form(uuid), |def, _| edit::arrange(def, layout)).await?;
        Ok(edit)
    }

    /// Publishes the draft as the form's new version after every publish check (refused with
    /// FORM_NOT_PUBLISHABLE and the list in `extensions.problems` otherwise). The version is
    /// then frozen; later edits start a new draft. Publishing a closed form reopens it.
    async fn publish_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form to publish.")] input: PublishFormInput,
    ) -> AppResult<FormEdit> {
        let tenant = ctx.authorize(WRITE)?;
        let uuid = decode(&input.id, NodeKind::Form, "input.id")?;
        Ok(FormEdit::new(
            service::form::publish(&ctx.state()?.db, &ctx.state()?.events, tenant, uuid).await?,
        ))
    }

    /// Stops a published form from collecting responses.
    async fn close_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form to close.")] input: CloseFormInput,
    ) -> AppResult<FormPayload> {
        transition(ctx, input.id, Transition::Close).await
    }

    /// Lets a closed form collect responses again with its published version.
    async fn reopen_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form to reopen.")] input: ReopenFormInput,
    ) -> AppResult<FormPayload> {
        transition(ctx, input.id, Transition::Reopen).await
    }

    /// Archives a form: read-only and out of default lists.
    async fn archive_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form to archive.")] input: ArchiveFormInput,
    ) -> AppResult<FormPayload> {
        transition(ctx, input.id, Transition::Archive).await
    }

    /// Restores an archived form: CLOSED if it was ever published, else DRAFT.
    async fn restore_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form to restore.")] input: RestoreFormInput,
    ) -> AppResult<FormPayload> {
        transition(ctx, input.id, Transition::Restore).await
    }

    /// Drops a published form's unpublished changes (its draft version).
    async fn discard_form_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form whose draft to drop.")] input: DiscardFormDraftInput,
    ) -> AppResult<FormPayload> {
        let tenant = ctx.authorize(WRITE)?;
        let uuid = decode(&input.id, NodeKind::Form, "input.id")?;
        let form = service::form::discard_draft(&ctx.state()?.db, tenant, uuid).await?;
        Ok(FormPayload { form: Form::new(form) })
    }

    /// A new draft form with the same structure, keys, option values, touchpoint and settings
    /// as the newest version of another.
    async fn duplicate_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form to copy and the copy's title.")] input: DuplicateFormInput,
    ) -> AppResult<FormEdit> {
        let tenant = ctx.authorize(WRITE)?;
        let uuid = decode(&input.id, NodeKind::Form, "input.id")?;
        let mut problems = Vec::new();
        let title = opt_text(input.title, "input.title", &mut problems);
        finish(problems)?;
        Ok(FormEdit::new(
            service::form::duplicate(&ctx.state()?.db, tenant, uuid, title).await?,
        ))
    }

    /// Deletes a form that was never published; returns its ID. A published form keeps its
    /// versions for its responses: archive it instead.
    async fn delete_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form to delete.")] input: DeleteFormInput,
    ) -> AppResult<DeleteFormPayload> {
        let tenant = ctx.authorize(WRITE)?;
        let uuid = decode(&input.id, NodeKind::Form, "input.id")?;
        service::form::delete(&ctx.state()?.db, tenant, uuid).await?;
        Ok(DeleteFormPayload {
            deleted_form_id: input.id,
        })
    }
}

id::id_input!(DeleteSectionInput, "A section of the draft to delete.", "section");
id::id_input!(DeleteQuestionInput, "A question of the draft to delete.", "question");
id::id_input!(PublishFormInput, "A form to publish.", "form");
id::id_input!(CloseFormInput, "A form to close.", "form");
id::id_input!(ReopenFormInput, "A closed form to reopen.", "form");
id::id_input!(ArchiveFormInput, "A form to archive.", "form");
id::id_input!(RestoreFormInput, "An archived form to restore.", "form");
id::id_input!(DiscardFormDraftInput, "A form whose draft to drop.", "form");
id::id_input!(DeleteFormInput, "A never-published form to delete.", "form");

/// A form to copy.
#[derive(async_graphql::InputObject)]
pub struct DuplicateFormInput {
    /// The form to copy.
    pub id: ID,
    /// Title of the copy (default: the same title).
    pub title: Option<Vec<TranslationInput>>,
}

/// What a change of a form's settings or lifecycle did.
#[derive(async_graphql::SimpleObject)]
pub struct FormPayload {
    /// The form as it is now.
    pub form: Form,
}

/// What `deleteForm` did.
#[derive(async_graphql::SimpleObject)]
pub struct DeleteFormPayload {
    /// The deleted form's ID.
    pub deleted_form_id: ID,
}
