//! Form documents through the API: export and import, Google Forms conversion, templates.
use crate::codes::{NoteCode, ProblemCode};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::{
    READ, WRITE, decode,
    input::{TranslationInput, finish, opt_text},
    types::{FormEdit, FormProblem, LocalizedText},
};
use crate::{
    error::{AppError, AppResult},
    form::{
        Problem,
        google::{ItemOutcome, ItemReport},
        kind::Metric,
        templates,
    },
    graphql::{context::ContextExt, id::NodeKind},
    service,
};

/// A ready form of the template library.
pub struct FormTemplate(&'static templates::Summary);

/// A ready, publishable form of the template library (in fa and en), to start from with
/// `createFormFromTemplate`.
#[Object]
impl FormTemplate {
    /// Stable key, e.g. `nps`, `csat`, `churn`; `createFormFromTemplate` takes it.
    async fn key(&self) -> &str {
        self.0.key
    }
    /// The form's title.
    async fn title(&self) -> LocalizedText {
        LocalizedText::new(self.0.title.clone(), &self.0.default_locale)
    }
    /// What it measures and when to send it.
    async fn description(&self) -> LocalizedText {
        LocalizedText::new(self.0.description.clone(), &self.0.default_locale)
    }
    /// The customer-journey touchpoint it is meant for.
    async fn touchpoint(&self) -> Option<&str> {
        self.0.touchpoint.as_deref()
    }
    /// The metrics its questions feed (empty for templates that collect opinions and stories).
    async fn metrics(&self) -> &[Metric] {
        &self.0.metrics
    }
    /// Its languages, the default first.
    async fn locales(&self) -> &[String] {
        &self.0.locales
    }
    /// How many sections it has.
    async fn section_count(&self) -> usize {
        self.0.sections
    }
    /// How many questions it has.
    async fn question_count(&self) -> usize {
        self.0.questions
    }
    /// The template as a form document (the format of `exportForm`).
    async fn document(&self) -> &str {
        self.0.document
    }
}

/// A form document to import.
#[derive(InputObject)]
pub struct ImportFormInput {
    /// The document: JSON text as `exportForm` writes it (format version 1), at most 786432
    /// bytes (768 KiB) and 100 levels of nesting; larger, deeper or malformed texts are refused
    /// before anything else (`DOCUMENT_TOO_LARGE`, `DOCUMENT_TOO_DEEP`, `MALFORMED_JSON`).
    pub document: String,
    /// A title replacing the document's.
    pub title: Option<Vec<TranslationInput>>,
}

/// A Google form to convert.
#[derive(InputObject)]
pub struct ImportGoogleFormInput {
    /// The JSON that Google's Forms API returns for the form (`forms.get`, a `Form` resource),
    /// with the same limits as `importForm`'s document.
    pub document: String,
    /// The language the Google form is written in, e.g. `fa` or `en`: the new form's only
    /// locale.
    pub locale: String,
    /// A title replacing the Google form's.
    pub title: Option<Vec<TranslationInput>>,
}

/// A template to start a form from.
#[derive(InputObject)]
pub struct CreateFormFromTemplateInput {
    /// The template's key (`formTemplates`).
    pub template: String,
    /// A title replacing the template's.
    pub title: Option<Vec<TranslationInput>>,
}

/// A change made to a Google form item, or why it was not converted.
#[derive(SimpleObject)]
pub struct GoogleFormItemNote {
    /// Stable reason, e.g. `FILE_UPLOAD_NOT_SUPPORTED`, `TIME_AS_TEXT`, `GRADING_AS_SCORES`,
    /// `JUMP_NOT_SUPPORTED`.
    pub code: NoteCode,
    /// For humans.
    pub message: String,
}

/// What became of one item of the Google form.
#[derive(SimpleObject)]
pub struct GoogleFormItem {
    /// Google's item id.
    pub item_id: String,
    /// The item's title.
    pub title: String,
    /// The item in the Google document, e.g. `$.items[3]`.
    pub path: String,
    /// Converted as it was, adapted, or skipped.
    pub outcome: ItemOutcome,
    /// Keys of the questions made from it (one per row of a grid).
    pub keys: Vec<String>,
    /// What changed, or why it was skipped.
    pub notes: Vec<GoogleFormItemNote>,
}

impl From<ItemReport> for GoogleFormItem {
    fn from(report: ItemReport) -> Self {
        GoogleFormItem {
            item_id: report.item_id,
            title: report.title,
            path: report.path,
            outcome: report.outcome,
            keys: report.keys,
            notes: report
                .notes
                .into_iter()
                .map(|n| GoogleFormItemNote {
                    code: n.code,
                    message: n.message,
                })
                .collect(),
        }
    }
}

/// A converted Google form.
#[derive(SimpleObject)]
pub struct GoogleFormImport {
    /// The new draft form.
    pub edit: FormEdit,
    /// Every item of the Google form, in order, with what became of it.
    pub items: Vec<GoogleFormItem>,
}

#[derive(Default)]
pub struct DocumentQuery;

#[Object]
impl DocumentQuery {
    /// A form version as one JSON document (format version 1): sections, questions, kinds and
    /// configurations, options with values and scores, conditions as canonical text and as a
    /// tree, translations, screens, theme, the form's touchpoint and settings. Canonical:
    /// importing it and exporting the copy gives the same text. Sections are referred to by
    /// document ids (`s1`, `s2`…), never by stored ids. Any member, or an API key with
    /// `forms:read`. Weighs 20 in the query's complexity.
    #[graphql(complexity = "crate::graphql::cost::form_work(child_complexity)")]
    async fn export_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] id: ID,
        #[graphql(desc = "A version of the form (default: the draft, else the published version).")] version_id: Option<
            ID,
        >,
    ) -> AppResult<String> {
        let tenant = ctx.authorize(READ)?;
        let form = decode(&id, NodeKind::Form, "id")?;
        let version = version_id
            .map(|v| decode(&v, NodeKind::FormVersion, "versionId"))
            .transpose()?;
        service::form::export(ctx.state()?.db.conn(), tenant, form, version).await
    }

    /// Every problem `importForm` would report for a document (empty when it imports), without
    /// creating anything. Any member, or an API key with `forms:read`.
    async fn check_form_document(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document (limits as for `importForm`).")] document: String,
    ) -> AppResult<Vec<FormProblem>> {
        let tenant = ctx.authorize(READ)?;
        let problems = service::form::check_document(ctx.state()?.db.conn(), tenant, &document).await?;
        Ok(problems.into_iter().map(Into::into).collect())
    }

    /// The template library: NPS, CSAT, CES, retention, churn (exit), point of conversion,
    /// website design, onboarding, customer success story. Any member, or an API key with
    /// `forms:read`.
    async fn form_templates(&self, ctx: &Context<'_>) -> AppResult<Vec<FormTemplate>> {
        ctx.authorize(READ)?;
        Ok(templates::summaries().iter().map(FormTemplate).collect())
    }
}

#[derive(Default)]
pub struct DocumentMutation;

/// Every mutation here needs EDITOR or above, or an API key with `forms:write`.
#[Object]
impl DocumentMutation {
    /// Creates a draft form from a form document. The document is checked like authoring
    /// (kinds, configurations, keys, option values, translations in the form's locales,
    /// sizes, theme, settings) plus every condition check (against the organization's
    /// attribute catalogue); a bad document is refused with every problem at once, each at its
    /// JSON path (`$.sections[1].questions[0].kind`) with a stable code, e.g. `UNKNOWN_FIELD`,
    /// `INVALID_VALUE`, `REQUIRED`, `UNKNOWN_KIND`, `INVALID_CONDITION`, `CONDITION_MISMATCH`
    /// (text and tree disagree), `SKIP_TARGET_UNKNOWN`, `UNSUPPORTED_FORMAT_VERSION`. What
    /// only publishing needs (every translation, no empty section) shows in the draft's
    /// `problems`.
    async fn import_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document and an optional new title.")] input: ImportFormInput,
    ) -> AppResult<FormEdit> {
        let tenant = ctx.authorize(WRITE)?;
        let mut problems = Vec::new();
        let title = opt_text(input.title, "input.title", &mut problems);
        finish(problems)?;
        Ok(FormEdit::new(
            service::form::import(&ctx.state()?.db, tenant, &input.document, title).await?,
        ))
    }

    /// Creates a draft form from a Google form (the JSON of `forms.get`): choice items become
    /// single choice, multiple choice or dropdown questions; text items short or long text;
    /// linear scales a rating (1 to n without labels) or a Likert scale scored by its numbers;
    /// rating items ratings; date items dates; time items short texts with a time pattern;
    /// each row of a grid its own question; page breaks sections; "go to section" on options
    /// skip rules and "submit form" an end rule; quiz points option scores; required flags
    /// carry over. File uploads, images, videos and text blocks are skipped, each reported.
    async fn import_google_form(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The Google form's JSON and its language.")] input: ImportGoogleFormInput,
    ) -> AppResult<GoogleFormImport> {
        let tenant = ctx.authorize(WRITE)?;
        let mut problems = Vec::new();
        let title = opt_text(input.title, "input.title", &mut problems);
        finish(problems)?;
        let (edited, items) =
            service::form::import_google(&ctx.state()?.db, tenant, &input.document, &input.locale, title).await?;
        Ok(GoogleFormImport {
            edit: FormEdit::new(edited),
            items: items.into_iter().map(Into::into).collect(),
        })
    }

    /// Creates a draft form from a template of the library, ready to edit or publish.
    async fn create_form_from_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template and an optional new title.")] input: CreateFormFromTemplateInput,
    ) -> AppResult<FormEdit> {
        let tenant = ctx.authorize(WRITE)?;
        let mut problems = Vec::new();
        let title = opt_text(input.title, "input.title", &mut problems);
        let template = templates::find(&input.template);
        if template.is_none() {
            let keys: Vec<&str> = templates::TEMPLATES.iter().map(|t| t.key).collect();
            problems.push(Problem::new(
                "input.template",
                ProblemCode::UnknownTemplate,
                format!(
                    "no template `{}`; the templates are {}",
                    input.template,
                    keys.join(", ")
                ),
            ));
        }
        finish(problems)?;
        let template = template.ok_or_else(|| AppError::not_found("template"))?;
        Ok(FormEdit::new(
            service::form::import(&ctx.state()?.db, tenant, template.document, title).await?,
        ))
    }
}
