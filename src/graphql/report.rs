//! Reports: a form's figures (its default report), saved report definitions, open-text
//! answers, and the operations that take data away (deleting a response, erasing a
//! respondent), which every figure follows.
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{form, report};

use super::{
    context::ContextExt,
    cost::{self, RequestBudget},
    form::{
        Form,
        logic::{self, Condition, ConditionInput},
    },
    id::{self, NodeKind},
    pagination::{connection, page_complexity, page_request},
};
use crate::{
    auth::{Action, Role, Scope, Tenant},
    error::{AppError, AppResult},
    form::kind::{Metric, QuestionKind},
    logic::expr::Expr,
    report::figures::{self, FormFigures, ValueCount},
    service::{
        self,
        report::{Definition, Need, Period},
    },
};

/// Reading reports: any member, or an API key with `reports:read`.
pub const READ: Action = Action::Scoped(Scope::ReportsRead, Role::Analyst);
/// Open texts are personal data: members, or API keys that also have `responses:read`.
pub const PERSONAL: Action = Action::Scoped(Scope::ResponsesRead, Role::Analyst);
/// Deleting responses: EDITOR and above, or an API key with `responses:write`.
pub const DELETE_RESPONSES: Action = Action::Scoped(Scope::ResponsesWrite, Role::Editor);
/// Erasing respondents (privacy requests): ADMIN and above, or an API key with
/// `respondents:write`.
pub const ERASE: Action = Action::Scoped(Scope::RespondentsWrite, Role::Admin);

/// What a saved report shows; front ends lay the figures out in this order.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ReportMetric {
    /// Responses started, completed, disqualified; completion rate; time to complete.
    Responses,
    /// Net Promoter Score.
    Nps,
    /// Customer satisfaction.
    Csat,
    /// Customer effort.
    Ces,
    /// Each question's distribution and statistics.
    Questions,
    /// The responses' total scores.
    TotalScore,
}

impl ReportMetric {
    const ALL: [ReportMetric; 6] = [
        ReportMetric::Responses,
        ReportMetric::Nps,
        ReportMetric::Csat,
        ReportMetric::Ces,
        ReportMetric::Questions,
        ReportMetric::TotalScore,
    ];

    fn name(self) -> &'static str {
        match self {
            ReportMetric::Responses => "RESPONSES",
            ReportMetric::Nps => "NPS",
            ReportMetric::Csat => "CSAT",
            ReportMetric::Ces => "CES",
            ReportMetric::Questions => "QUESTIONS",
            ReportMetric::TotalScore => "TOTAL_SCORE",
        }
    }

    fn parse(name: &str) -> Option<ReportMetric> {
        ReportMetric::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Statistics of a set of numbers.
#[derive(SimpleObject)]
pub struct Summary {
    /// How many numbers.
    pub n: u64,
    /// Their mean; null without numbers.
    pub mean: Option<f64>,
    /// Their exact median (null in a touchpoint's report: medians of several forms are not combined).
    pub median: Option<f64>,
    /// Their sample standard deviation (n − 1); null below two numbers.
    pub std_dev: Option<f64>,
    /// The 95 % margin of the mean: 1.96·s/√n.
    pub margin_of_error: Option<f64>,
}

impl From<&figures::Summary> for Summary {
    fn from(s: &figures::Summary) -> Self {
        Summary {
            n: s.n,
            mean: s.mean,
            median: s.median,
            std_dev: s.std_dev,
            margin_of_error: s.margin,
        }
    }
}

/// How many gave a value, and their share.
#[derive(SimpleObject)]
pub struct ValueShare {
    /// The value: an option value (`_other` for "other" texts), a scale point or number,
    /// `true` / `false`.
    pub value: String,
    /// How many answers gave it.
    pub count: u64,
    /// Its share of the question's answers, in percent (a multiple choice's shares can add up
    /// to more than 100).
    pub percent: f64,
}

fn shares(values: &[ValueCount], answered: u64) -> Vec<ValueShare> {
    values
        .iter()
        .map(|v| ValueShare {
            value: v.value.clone(),
            count: v.count,
            percent: if answered == 0 {
                0.0
            } else {
                v.count as f64 / answered as f64 * 100.0
            },
        })
        .collect()
}

/// A part of the answers with its share.
#[derive(SimpleObject)]
pub struct Share {
    /// How many answers.
    pub count: u64,
    /// Their share of all answers, in percent.
    pub percent: f64,
}

fn share(count: u64, n: u64) -> Share {
    Share {
        count,
        percent: if n == 0 { 0.0 } else { count as f64 / n as f64 * 100.0 },
    }
}

/// Net Promoter Score: promoters answer 9–10, passives 7–8, detractors 0–6.
#[derive(SimpleObject)]
pub struct NpsResult {
    /// The question it is read from (empty in a touchpoint's report: each form's own).
    pub question_key: String,
    /// %promoters − %detractors, −100 to +100.
    pub score: f64,
    /// How many answered.
    pub n: u64,
    /// Answers of 9 and 10.
    pub promoters: Share,
    /// Answers of 7 and 8.
    pub passives: Share,
    /// Answers of 0 to 6.
    pub detractors: Share,
    /// 95 % margin in points: 1.96·√((p + d − (p − d)²)/n)·100; null below two answers.
    pub margin_of_error: Option<f64>,
    /// Fewer than 30 answers: too few to trust.
    pub too_small: bool,
    /// Answers per point 0–10.
    pub distribution: Vec<ValueShare>,
}

/// Customer satisfaction: the share of 4 and 5 on a 1–5 scale, and the mean.
#[derive(SimpleObject)]
pub struct CsatResult {
    /// The question it is read from (empty in a touchpoint's report: each form's own).
    pub question_key: String,
    /// Percent of answers that are 4 or 5.
    pub percent: f64,
    /// 95 % margin of the percent: 1.96·√(p(1−p)/n)·100; null below two answers.
    pub margin_of_error: Option<f64>,
    /// The mean answer.
    pub mean: f64,
    /// Answers of 4 or 5.
    pub satisfied: u64,
    /// How many answered.
    pub n: u64,
    /// Fewer than 30 answers.
    pub too_small: bool,
    /// Answers per point 1–5.
    pub distribution: Vec<ValueShare>,
}

/// Customer effort on a 1–7 scale (7 = very easy): the mean and the share of 5–7.
#[derive(SimpleObject)]
pub struct CesResult {
    /// The question it is read from (empty in a touchpoint's report: each form's own).
    pub question_key: String,
    /// The mean answer.
    pub mean: f64,
    /// 95 % margin of the mean: 1.96·s/√n; null below two answers.
    pub margin_of_error: Option<f64>,
    /// Percent of answers 5 to 7.
    pub percent_easy: f64,
    /// Answers 5 to 7.
    pub easy: u64,
    /// How many answered.
    pub n: u64,
    /// Fewer than 30 answers.
    pub too_small: bool,
    /// Answers per point 1–7.
    pub distribution: Vec<ValueShare>,
}

/// Responses: started, finished, and how long they took.
#[derive(SimpleObject)]
pub struct ResponseFigures {
    /// Every response begun (the denominator of the completion rate).
    pub started: u64,
    /// Completed: the responses every other figure is computed over.
    pub completed: u64,
    /// Ended by a disqualify rule: counted apart, in no figure.
    pub disqualified: u64,
    /// Begun and not finished.
    pub in_progress: u64,
    /// completed / started, as a percent (0 to 100, like every share); null before any
    /// response.
    pub completion_percent: Option<f64>,
    /// Seconds to complete, of completed responses.
    pub time_to_complete: Summary,
}

/// One open-text answer.
#[derive(SimpleObject, Clone)]
pub struct OpenText {
    /// The response it belongs to.
    pub response_id: ID,
    /// The answer, as given.
    pub text: String,
    /// When the response was completed.
    pub completed_at: Option<DateTime<Utc>>,
}

connection!(OpenTextConnection, OpenTextEdge, OpenText, "open-text answer");

/// One question's figures.
pub struct QuestionResult {
    figures: figures::QuestionFigures,
    form: Arc<form::Model>,
    period: Period,
    checked: Option<service::report::Filter>,
    texts: bool,
}

/// One question's figures over completed responses.
#[Object]
impl QuestionResult {
    /// The question's key.
    async fn key(&self) -> &str {
        &self.figures.key
    }
    /// Its kind; null for a key only older versions of the form have.
    async fn kind(&self) -> Option<QuestionKind> {
        self.figures.kind.as_deref().and_then(QuestionKind::parse)
    }
    /// Completed responses that answered it.
    async fn answered(&self) -> u64 {
        self.figures.answered
    }
    /// Completed responses that did not (not shown on their path, or left unanswered).
    async fn skipped(&self) -> u64 {
        self.figures.skipped
    }
    /// Answers per option (every option of the version, zeros included), scale point, number
    /// or yes / no.
    async fn distribution(&self) -> Vec<ValueShare> {
        shares(&self.figures.values, self.figures.answered)
    }
    /// Statistics of numeric answers (NPS, CSAT, CES, ratings, numbers); null for other kinds.
    async fn numbers(&self) -> Option<Summary> {
        self.figures.numbers.as_ref().map(Summary::from)
    }
    /// Statistics of the answers' scores (the chosen options' weights); null when the
    /// question has no weights.
    async fn scores(&self) -> Option<Summary> {
        self.figures.scores.as_ref().map(Summary::from)
    }
    /// The answers of a short- or long-text question, in response order, searchable (every
    /// word; ي/ك match ی/ک, the zero-width non-joiner and case are ignored), of the responses
    /// the report counts (its period and filter). Personal data: null for API keys without
    /// `responses:read`, for other kinds of question, and inside a breakdown's groups (ask
    /// `formReport` with a filter for a group's texts).
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn open_texts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words that must all appear.")] search: Option<String>,
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
    ) -> AppResult<Option<OpenTextConnection>> {
        let is_text = self
            .figures
            .kind
            .as_deref()
            .and_then(QuestionKind::parse)
            .is_some_and(QuestionKind::is_open_text);
        if !is_text || !self.texts || ctx.authorize(PERSONAL).is_err() {
            return Ok(None);
        }
        let request = page_request(ctx, first, after, last, before)?;
        let conn = ctx.state()?.db.conn();
        let zone = service::report::tally::zone(
            &ctx.organization(Tenant::trusted(self.form.organization_id))
                .await?
                .time_zone,
        );
        let filter = match &self.checked {
            Some(checked) => Some(checked.sql(conn, &ctx.state()?.versions, &self.form).await?),
            None => None,
        };
        let page = service::report::open_texts(
            conn,
            self.form.id,
            &self.figures.key,
            search.as_deref(),
            service::report::Scope {
                period: self.period,
                zone,
                filter,
            },
            request,
        )
        .await?;
        Ok(Some(OpenTextConnection::from_page(page.map(|t| OpenText {
            response_id: id::encode(NodeKind::Response, t.response_id),
            text: t.text,
            completed_at: t.completed_at,
        }))))
    }
}

pub fn responses_of(f: &FormFigures) -> ResponseFigures {
    ResponseFigures {
        started: f.started,
        completed: f.completed,
        disqualified: f.disqualified,
        in_progress: f.in_progress,
        completion_percent: f.completion_percent,
        time_to_complete: Summary::from(&f.time_to_complete),
    }
}

pub fn nps_of(figures: &FormFigures) -> Option<NpsResult> {
    let m = figures.nps.as_ref()?;
    let f = &m.figures;
    Some(NpsResult {
        question_key: m.key.clone(),
        score: f.score,
        n: f.n,
        promoters: share(f.promoters, f.n),
        passives: share(f.passives, f.n),
        detractors: share(f.detractors, f.n),
        margin_of_error: f.margin,
        too_small: f.too_small,
        distribution: shares(&m.values, f.n),
    })
}

pub fn csat_of(figures: &FormFigures) -> Option<CsatResult> {
    let m = figures.csat.as_ref()?;
    let f = &m.figures;
    Some(CsatResult {
        question_key: m.key.clone(),
        percent: f.percent,
        margin_of_error: f.margin,
        mean: f.mean,
        satisfied: f.satisfied,
        n: f.n,
        too_small: f.too_small,
        distribution: shares(&m.values, f.n),
    })
}

pub fn ces_of(figures: &FormFigures) -> Option<CesResult> {
    let m = figures.ces.as_ref()?;
    let f = &m.figures;
    Some(CesResult {
        question_key: m.key.clone(),
        mean: f.mean,
        margin_of_error: f.margin,
        percent_easy: f.percent_easy,
        easy: f.easy,
        n: f.n,
        too_small: f.too_small,
        distribution: shares(&m.values, f.n),
    })
}

/// A form's report over a period.
pub struct FormReport {
    form: Arc<form::Model>,
    period: Period,
    filter: Option<Expr>,
    /// The filter as checked (for the open texts it selects).
    checked: Option<service::report::Filter>,
    /// Whether open texts can be listed (not inside a breakdown's group).
    texts: bool,
    figures: Arc<FormFigures>,
}

impl FormReport {
    /// `filter` is checked against the form (problems at `path`); only the figures `need`
    /// names are computed.
    pub async fn load(
        ctx: &Context<'_>,
        form: form::Model,
        period: Period,
        filter: Option<Expr>,
        path: &str,
        need: &Need,
    ) -> AppResult<FormReport> {
        if let Ok(budget) = ctx.data::<Arc<RequestBudget>>() {
            budget.spend_report()?;
        }
        let state = ctx.state()?;
        let checked = check_filter(ctx, &form, filter.clone(), path).await?;
        let figures = service::report::form_figures(&state.reads(), &form, period, checked.as_ref(), need).await?;
        Ok(FormReport {
            form: Arc::new(form),
            period,
            filter,
            checked,
            texts: true,
            figures,
        })
    }

    /// The figures.
    pub fn figures(&self) -> &FormFigures {
        &self.figures
    }

    /// A part of a series or breakdown: figures already computed.
    pub fn part(
        form: Arc<form::Model>,
        period: Period,
        filter: Option<Expr>,
        checked: Option<service::report::Filter>,
        texts: bool,
        figures: FormFigures,
    ) -> FormReport {
        FormReport {
            form,
            period,
            filter,
            checked,
            texts,
            figures: Arc::new(figures),
        }
    }
}

/// What a selection of a report reads: every question's figures when it lists questions, else
/// only those of the metrics it selects.
pub fn need_of(report: async_graphql::Lookahead<'_>) -> Need {
    let times = report.field("totalScore").exists() || report.field("responses").field("timeToComplete").exists();
    if report.field("questions").exists() || report.field("question").exists() {
        return Need { times, ..Need::all() };
    }
    let mut need = Need {
        times,
        ..Need::default()
    };
    for (field, metric) in [("nps", Metric::Nps), ("csat", Metric::Csat), ("ces", Metric::Ces)] {
        if report.field(field).exists() {
            need.metrics.insert(metric);
        }
    }
    need
}

/// `filter` checked as a filter of `form`'s report (problems at `path`).
pub async fn check_filter(
    ctx: &Context<'_>,
    form: &form::Model,
    filter: Option<Expr>,
    path: &str,
) -> AppResult<Option<service::report::Filter>> {
    let state = ctx.state()?;
    match filter {
        Some(expr) => Ok(Some(
            service::report::Filter::check(state.db.conn(), &state.versions, form, expr, path).await?,
        )),
        None => Ok(None),
    }
}

/// A form's figures over a period of local days (the organization's time zone), from
/// completed responses (started, in-progress and disqualified ones are counted apart). Exact,
/// whatever the number of responses: read from counts kept as responses arrive, and cached
/// until the form's responses change.
#[Object]
impl FormReport {
    /// The form.
    async fn form(&self) -> Form {
        Form::new((*self.form).clone())
    }
    /// First local day counted; null: since the beginning.
    async fn from(&self) -> Option<NaiveDate> {
        self.period.from
    }
    /// Last local day counted; null: up to now.
    async fn to(&self) -> Option<NaiveDate> {
        self.period.to
    }
    /// The filter that selected the responses counted; null: every response.
    async fn filter(&self) -> Option<Condition> {
        Condition::of(&self.filter)
    }
    /// Responses started, completed, disqualified; completion rate; time to complete.
    async fn responses(&self) -> ResponseFigures {
        responses_of(&self.figures)
    }
    /// NPS of the form's NPS question; null without one or without answers.
    async fn nps(&self) -> Option<NpsResult> {
        nps_of(&self.figures)
    }
    /// CSAT of the form's CSAT question; null without one or without answers.
    async fn csat(&self) -> Option<CsatResult> {
        csat_of(&self.figures)
    }
    /// CES of the form's CES question; null without one or without answers.
    async fn ces(&self) -> Option<CesResult> {
        ces_of(&self.figures)
    }
    /// The completed responses' total scores (sums of option weights).
    async fn total_score(&self) -> Summary {
        Summary::from(&self.figures.total_score)
    }
    /// Every question of the version reported on (hidden fields aside), in form order, then
    /// keys only older versions have.
    async fn questions(&self) -> Vec<QuestionResult> {
        self.figures
            .questions
            .iter()
            .map(|q| QuestionResult {
                figures: q.clone(),
                form: self.form.clone(),
                period: self.period,
                checked: self.checked.clone(),
                texts: self.texts,
            })
            .collect()
    }
    /// One question by key, or null.
    async fn question(&self, #[graphql(desc = "The question's key.")] key: String) -> Option<QuestionResult> {
        self.figures
            .questions
            .iter()
            .find(|q| q.key == key)
            .map(|q| QuestionResult {
                figures: q.clone(),
                form: self.form.clone(),
                period: self.period,
                checked: self.checked.clone(),
                texts: self.texts,
            })
    }
}

/// A saved report.
#[derive(Clone)]
pub struct Report(pub report::Model);

/// A saved report: a name, forms, the metrics to show and a period, called by id again and
/// again.
#[Object]
impl Report {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        id::encode(NodeKind::Report, self.0.id)
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The metrics front ends show, in order.
    async fn metrics(&self) -> AppResult<Vec<ReportMetric>> {
        let definition = service::report::definition_of(&self.0)?;
        Ok(definition
            .metrics
            .iter()
            .filter_map(|m| ReportMetric::parse(m))
            .collect())
    }
    /// First local day counted; null: since the beginning.
    async fn from(&self) -> AppResult<Option<NaiveDate>> {
        Ok(service::report::definition_of(&self.0)?.period.from)
    }
    /// Last local day counted; null: up to now.
    async fn to(&self) -> AppResult<Option<NaiveDate>> {
        Ok(service::report::definition_of(&self.0)?.period.to)
    }
    /// Which responses its results count; null: every response.
    async fn filter(&self) -> AppResult<Option<Condition>> {
        Ok(Condition::of(&service::report::definition_of(&self.0)?.filter))
    }
    /// The forms, in order (forms deleted since are left out).
    async fn forms(&self, ctx: &Context<'_>) -> AppResult<Vec<Form>> {
        Ok(self.forms_of(ctx).await?.0.into_iter().map(Form::new).collect())
    }
    /// Each form's figures over the report's period, in order. Weighs as ten form reports in
    /// the query's complexity.
    #[graphql(complexity = "cost::saved_report_results(child_complexity)")]
    async fn results(&self, ctx: &Context<'_>) -> AppResult<Vec<FormReport>> {
        let (forms, definition) = self.forms_of(ctx).await?;
        let mut out = Vec::with_capacity(forms.len());
        for form in forms {
            out.push(
                FormReport::load(
                    ctx,
                    form,
                    definition.period,
                    definition.filter.clone(),
                    "filter",
                    &need_of(ctx.look_ahead()),
                )
                .await?,
            );
        }
        Ok(out)
    }
    /// When it was saved first.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

impl Report {
    /// The report's forms that still exist, in order, and its definition.
    async fn forms_of(&self, ctx: &Context<'_>) -> AppResult<(Vec<form::Model>, Definition)> {
        let tenant = ctx.authorize(READ)?;
        let conn = ctx.state()?.db.conn();
        let definition = service::report::definition_of(&self.0)?;
        let mut forms = Vec::with_capacity(definition.forms.len());
        for id in definition.forms.iter().copied() {
            match service::form::get(conn, tenant, id).await {
                Ok(form) => forms.push(form),
                Err(AppError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok((forms, definition))
    }
}

connection!(ReportConnection, ReportEdge, Report, "report");

/// A period of local days.
#[derive(InputObject, Default)]
pub struct PeriodInput {
    /// First day counted; null: since the beginning.
    pub from: Option<NaiveDate>,
    /// Last day counted; null: up to now.
    pub to: Option<NaiveDate>,
}

impl From<PeriodInput> for Period {
    fn from(p: PeriodInput) -> Self {
        Period { from: p.from, to: p.to }
    }
}

/// A report to save.
#[derive(InputObject)]
pub struct CreateReportInput {
    /// Its name (1–200 characters).
    pub name: String,
    /// Its forms (1 to 50).
    pub form_ids: Vec<ID>,
    /// The metrics to show, in order (default: all).
    pub metrics: Option<Vec<ReportMetric>>,
    /// The period (default: all time).
    pub period: Option<PeriodInput>,
    /// Which responses count (default: every one); checked against each form.
    pub filter: Option<ConditionInput>,
}

/// Changes to a saved report; fields left out are kept.
#[derive(InputObject)]
pub struct UpdateReportInput {
    /// The report's ID.
    pub id: ID,
    /// A new name.
    pub name: Option<String>,
    /// New forms.
    pub form_ids: Option<Vec<ID>>,
    /// New metrics.
    pub metrics: Option<Vec<ReportMetric>>,
    /// A new period; null: all time.
    pub period: MaybeUndefined<PeriodInput>,
    /// A new filter; null: every response.
    pub filter: MaybeUndefined<ConditionInput>,
}

fn form_ids(ids: &[ID]) -> AppResult<Vec<uuid::Uuid>> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| id::decode(id, NodeKind::Form, &format!("input.formIds[{i}]")))
        .collect()
}

fn metric_names(metrics: Option<Vec<ReportMetric>>) -> Vec<String> {
    metrics
        .unwrap_or_else(|| ReportMetric::ALL.to_vec())
        .into_iter()
        .map(|m| m.name().to_owned())
        .collect()
}

/// What an erasure did.
#[derive(SimpleObject)]
pub struct ErasedRespondent {
    /// Responses of the respondent that were made anonymous.
    pub responses: u64,
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// A form's report (its default one) over a period. Any member, or an API key with
    /// `reports:read`. Weighs 100 in the query's complexity; a request computes at most 100
    /// reports.
    #[graphql(complexity = "cost::report(child_complexity)")]
    async fn form_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
        #[graphql(desc = "The period (default: all time).")] period: Option<PeriodInput>,
        #[graphql(
            desc = "Only the responses this condition holds for (default: every response). The condition language of forms, plus `response(channel|locale|status|completed_on|duration|total_score)`; `attribute(name)` reads the respondent's attributes as they were when the response was completed."
        )]
        filter: Option<ConditionInput>,
    ) -> AppResult<FormReport> {
        let tenant = ctx.authorize(READ)?;
        let id = id::decode(&form_id, NodeKind::Form, "formId")?;
        let period = Period::from(period.unwrap_or_default()).check("period")?;
        let filter = logic::filter_arg(filter, "filter")?;
        let form = service::form::get(ctx.state()?.db.conn(), tenant, id).await?;
        FormReport::load(ctx, form, period, filter, "filter", &need_of(ctx.look_ahead())).await
    }

    /// A saved report by ID, or null.
    async fn report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's ID.")] id: ID,
    ) -> AppResult<Option<Report>> {
        let tenant = ctx.authorize(READ)?;
        let uuid = id::decode(&id, NodeKind::Report, "id")?;
        match service::report::get(ctx.state()?.db.conn(), tenant, uuid).await {
            Ok(row) => Ok(Some(Report(row))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The organization's saved reports, oldest first.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
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
    ) -> AppResult<ReportConnection> {
        let tenant = ctx.authorize(READ)?;
        let page = service::report::list(
            ctx.state()?.db.conn(),
            tenant,
            page_request(ctx, first, after, last, before)?,
        )
        .await?;
        Ok(ReportConnection::from_page(page.map(Report)))
    }
}

#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// Saves a report definition. Members only.
    async fn create_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: CreateReportInput,
    ) -> AppResult<ReportPayload> {
        let tenant = ctx.authorize(Action::ManageReports)?;
        let definition = Definition {
            forms: form_ids(&input.form_ids)?,
            metrics: metric_names(input.metrics),
            period: input.period.map(Period::from).unwrap_or_default(),
            filter: logic::filter_arg(input.filter, "input.filter")?,
        };
        let state = ctx.state()?;
        let report = service::report::create(state.db.conn(), &state.versions, tenant, &input.name, definition).await?;
        Ok(ReportPayload { report: Report(report) })
    }

    /// Changes a saved report. Members only.
    async fn update_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateReportInput,
    ) -> AppResult<ReportPayload> {
        let tenant = ctx.authorize(Action::ManageReports)?;
        let id = id::decode(&input.id, NodeKind::Report, "input.id")?;
        let forms = input.form_ids.as_deref().map(form_ids).transpose()?;
        let metrics = input.metrics.map(|m| metric_names(Some(m)));
        let period = input.period;
        let filter = match input.filter {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(f) => Some(Some(logic::filter(f, "input.filter").map_err(AppError::problem)?)),
        };
        let state = ctx.state()?;
        let report = service::report::update(
            state.db.conn(),
            &state.versions,
            tenant,
            id,
            input.name.as_deref(),
            |d| {
                if let Some(filter) = filter {
                    d.filter = filter;
                }
                if let Some(forms) = forms {
                    d.forms = forms;
                }
                if let Some(metrics) = metrics {
                    d.metrics = metrics;
                }
                match period {
                    MaybeUndefined::Undefined => {}
                    MaybeUndefined::Null => d.period = Period::default(),
                    MaybeUndefined::Value(p) => d.period = p.into(),
                }
            },
        )
        .await?;
        Ok(ReportPayload { report: Report(report) })
    }

    /// Deletes a saved report. Members only.
    async fn delete_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report to delete.")] input: DeleteReportInput,
    ) -> AppResult<DeleteReportPayload> {
        let tenant = ctx.authorize(Action::ManageReports)?;
        let uuid = id::decode(&input.id, NodeKind::Report, "input.id")?;
        service::report::delete(ctx.state()?.db.conn(), tenant, uuid).await?;
        Ok(DeleteReportPayload {
            deleted_report_id: input.id,
        })
    }

    /// Deletes a response with its answers; every figure is corrected as if it had never
    /// been. EDITOR and above, or an API key with `responses:write`.
    async fn delete_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The response to delete.")] input: DeleteResponseInput,
    ) -> AppResult<DeleteResponsePayload> {
        let tenant = ctx.authorize(DELETE_RESPONSES)?;
        let uuid = id::decode(&input.id, NodeKind::Response, "input.id")?;
        service::response::remove::delete(
            &ctx.state()?.db,
            &ctx.state()?.events,
            ctx.state()?.clock.now(),
            tenant,
            uuid,
        )
        .await?;
        Ok(DeleteResponsePayload {
            deleted_response_id: input.id,
        })
    }

    /// Erases a respondent (a privacy request): the respondent and their attributes are
    /// deleted; their responses lose every text answer (open texts, emails, phones, "other"
    /// texts, hidden fields), the address hash, location, user agent and device, and the link
    /// to them. Their closed answers stay as anonymous data, so unfiltered figures do not
    /// change. ADMIN and above, or an API key with `respondents:write`.
    async fn erase_respondent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The respondent to erase.")] input: EraseRespondentInput,
    ) -> AppResult<ErasedRespondent> {
        let tenant = ctx.authorize(ERASE)?;
        let uuid = id::decode(&input.id, NodeKind::Respondent, "input.id")?;
        let state = ctx.state()?;
        let erased =
            service::response::remove::erase_respondent(&state.db, &state.events, state.clock.now(), tenant, uuid)
                .await?;
        Ok(ErasedRespondent {
            responses: erased.responses,
        })
    }
}

id::id_input!(DeleteReportInput, "A saved report to delete.", "report");
id::id_input!(DeleteResponseInput, "A response to delete.", "response");
id::id_input!(EraseRespondentInput, "A respondent to erase.", "respondent");

/// What a change to a saved report did.
#[derive(SimpleObject)]
pub struct ReportPayload {
    /// The saved report as it is now.
    pub report: Report,
}

/// What `deleteReport` did.
#[derive(SimpleObject)]
pub struct DeleteReportPayload {
    /// The deleted report's ID.
    pub deleted_report_id: ID,
}

/// What `deleteResponse` did.
#[derive(SimpleObject)]
pub struct DeleteResponsePayload {
    /// The deleted response's ID.
    pub deleted_response_id: ID,
}
