//! A form's report over time (series) and split by a dimension (breakdowns): thin; the work is
//! in `service::report::analysis`.
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, OneofObject, SimpleObject};
use chrono::NaiveDate;
use entity::form;

use super::{
    context::ContextExt,
    cost::{self, RequestBudget},
    form::Form,
    form::logic::{self, ConditionInput},
    id::{self, NodeKind},
    report::{
        CesResult, CsatResult, FormReport, NpsResult, PeriodInput, READ, ResponseFigures, ces_of, check_filter,
        csat_of, need_of, nps_of, responses_of,
    },
};
use crate::{
    error::{AppError, AppResult},
    logic::expr::ResponseField,
    report::{
        calendar::{self, Calendar, Interval},
        compare::{self, ComparedMetric, StatisticalTest},
        figures::{FormFigures, combine},
    },
    service::{
        self,
        report::{
            Need, Period,
            analysis::{self, Dimension, GroupKind},
        },
    },
};

/// Buckets a series has when its period does not say where it starts.
pub const DEFAULT_BUCKETS: u32 = 12;

/// One bucket of a series.
#[derive(SimpleObject)]
pub struct SeriesBucket {
    /// `2026-03-21`, `2026-W12` (ISO week), `2026-03`, `2026-Q1`, `2026`; in the Persian
    /// calendar `1405-01-01`, the week's first day (Saturday) `1404-12-30`, `1405-01`,
    /// `1405-Q1` (a season), `1405`. Labels sort like the buckets.
    pub label: String,
    /// First local day of the bucket (the period's first day for a bucket it cuts).
    pub from: NaiveDate,
    /// Last local day of the bucket (the period's last day for a bucket it cuts).
    pub to: NaiveDate,
    /// The report over the bucket's days: started responses are those started in it,
    /// completed ones (and every metric) those completed in it.
    pub report: FormReport,
}

/// A form's report bucket by bucket.
#[derive(SimpleObject)]
pub struct Series {
    /// The length of the buckets.
    pub interval: Interval,
    /// The calendar they are counted in.
    pub calendar: Calendar,
    /// The buckets covering the period, in order (at most 400).
    pub buckets: Vec<SeriesBucket>,
}

/// Bands of a number or scale: each bound starts a band (`< b₁`, `b₁ to < b₂`, …, `≥ bₙ`).
#[derive(InputObject)]
pub struct AnswerDimensionInput {
    /// The question's key.
    pub key: String,
    /// Band bounds in increasing order (at most 20) for numbers and scales; none: each value
    /// (each option for choices: a multiple choice counts a response under each option it
    /// chose) is a group.
    pub bands: Option<Vec<f64>>,
}

/// An attribute as it was when each response was completed.
#[derive(InputObject)]
pub struct AttributeDimensionInput {
    /// The attribute's name in the catalogue.
    pub name: String,
    /// Band bounds in increasing order (at most 20) for number attributes; none: each value is
    /// a group.
    pub bands: Option<Vec<f64>>,
}

/// Tenure at completion: from a date attribute to the day the response was completed.
#[derive(InputObject)]
pub struct TenureDimensionInput {
    /// A date attribute, e.g. `customer_since`.
    pub attribute: String,
    /// Band bounds in months, increasing (default 1, 6, 12, 24: under a month, 1 to 6
    /// months, 6 to 12, 1 to 2 years, 2 years and more). A month is 365.25 / 12 days.
    pub months: Option<Vec<u32>>,
}

/// What a breakdown splits responses by.
#[derive(OneofObject)]
pub enum DimensionInput {
    /// The answer to a question of the form.
    Answer(AnswerDimensionInput),
    /// A respondent attribute, as it was when the response was completed (responses in
    /// progress, anonymous ones and those of respondents without it have no value).
    Attribute(AttributeDimensionInput),
    /// The respondent's tenure when the response was completed.
    Tenure(TenureDimensionInput),
    /// A field of the response: CHANNEL, LOCALE or STATUS.
    Response(ResponseField),
    /// A hidden field of the form (e.g. the support agent), by key.
    Hidden(String),
}

/// One group of a breakdown.
#[derive(SimpleObject)]
pub struct BreakdownGroup {
    /// A value, the responses without one, or the smaller groups folded together.
    pub kind: GroupKind,
    /// The value (option value, number, `true`/`false`, channel, attribute value), or the
    /// band's label (`< 7`, `7 to < 9`, `≥ 9`, `1 to < 6 months`); null for NONE and OTHER.
    pub value: Option<String>,
    /// A band's lower bound (included); null when open or not a band.
    pub low: Option<f64>,
    /// A band's upper bound (excluded); null when open or not a band.
    pub high: Option<f64>,
    /// Completed responses in the group (the n of its metrics).
    pub n: u64,
    /// Fewer than 30 completed responses: too few to trust.
    pub too_small: bool,
    /// The group's report. Its open texts are not listed (null): ask `formReport` with a
    /// filter for the group.
    pub report: FormReport,
}

/// A form's report split by a dimension.
#[derive(SimpleObject)]
pub struct Breakdown {
    /// Groups with values first, largest first (bands in their order), then the folded
    /// rest; the group without a value where it falls.
    pub groups: Vec<BreakdownGroup>,
}

fn dimension(input: DimensionInput) -> AppResult<Dimension> {
    Ok(match input {
        DimensionInput::Answer(a) => Dimension::Answer {
            key: a.key,
            bands: a.bands.unwrap_or_default(),
        },
        DimensionInput::Attribute(a) => Dimension::Attribute {
            name: a.name,
            bands: a.bands.unwrap_or_default(),
        },
        DimensionInput::Tenure(t) => Dimension::Tenure {
            attribute: t.attribute,
            months: t.months.unwrap_or_else(|| vec![1, 6, 12, 24]),
        },
        DimensionInput::Response(field) => Dimension::Response(field),
        DimensionInput::Hidden(key) => Dimension::Hidden(key),
    })
}

/// One metric in both periods.
#[derive(SimpleObject)]
pub struct MetricChange {
    /// The metric.
    pub metric: ComparedMetric,
    /// The test it was compared with.
    pub test: StatisticalTest,
    /// Its value in the period; null without answers.
    pub current: Option<f64>,
    /// Its value in the period compared with; null without answers.
    pub previous: Option<f64>,
    /// current − previous (points, for NPS and percents).
    pub change: Option<f64>,
    /// The z or t statistic; null when the test cannot be made (too few answers, no
    /// variance in either period).
    pub statistic: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// p < 0.05.
    pub significant: bool,
}

/// A period against another: both reports and each metric's change with its test.
#[derive(SimpleObject)]
pub struct Comparison {
    /// The report over the period.
    pub current: FormReport,
    /// The report over the period compared with.
    pub previous: FormReport,
    /// NPS, CSAT (percent and mean), CES (mean and percent easy), completion and time to
    /// complete, in that order.
    pub changes: Vec<MetricChange>,
}

/// A touchpoint's report: every published form of the touchpoint (or of the organization)
/// together, each feeding NPS, CSAT and CES through the question it marks.
pub struct JourneyReport {
    touchpoint: Option<String>,
    forms: Arc<Vec<form::Model>>,
    period: Period,
    figures: FormFigures,
}

/// A touchpoint's NPS, CSAT, CES and responses across its forms.
#[Object]
impl JourneyReport {
    /// The touchpoint; null: every published form.
    async fn touchpoint(&self) -> Option<&str> {
        self.touchpoint.as_deref()
    }
    /// The forms counted.
    async fn forms(&self) -> Vec<Form> {
        self.forms.iter().cloned().map(Form::new).collect()
    }
    /// First local day counted; null: since the beginning.
    async fn from(&self) -> Option<NaiveDate> {
        self.period.from
    }
    /// Last local day counted; null: up to now.
    async fn to(&self) -> Option<NaiveDate> {
        self.period.to
    }
    /// Responses of every form together (medians are not combined: null).
    async fn responses(&self) -> ResponseFigures {
        responses_of(&self.figures)
    }
    /// NPS over every form's NPS question together; null without answers.
    async fn nps(&self) -> Option<NpsResult> {
        nps_of(&self.figures)
    }
    /// CSAT over every form's CSAT question together; null without answers.
    async fn csat(&self) -> Option<CsatResult> {
        csat_of(&self.figures)
    }
    /// CES over every form's CES question together; null without answers.
    async fn ces(&self) -> Option<CesResult> {
        ces_of(&self.figures)
    }
}

/// One bucket of a touchpoint's series.
#[derive(SimpleObject)]
pub struct JourneyBucket {
    /// As a form series' bucket label.
    pub label: String,
    /// First local day of the bucket.
    pub from: NaiveDate,
    /// Last local day of the bucket.
    pub to: NaiveDate,
    /// The touchpoint's report over the bucket.
    pub report: JourneyReport,
}

/// A touchpoint's report bucket by bucket: the journey view.
#[derive(SimpleObject)]
pub struct JourneySeries {
    /// The length of the buckets.
    pub interval: Interval,
    /// The calendar they are counted in.
    pub calendar: Calendar,
    /// The buckets, in order.
    pub buckets: Vec<JourneyBucket>,
}

/// Where unfinished responses stopped, for one question.
#[derive(SimpleObject)]
pub struct QuestionDropOff {
    /// The question's key.
    pub key: String,
    /// Responses in progress that reached it: their path showed it, up to where they stopped.
    pub reached: u64,
    /// Of those, the ones that answered it.
    pub answered: u64,
    /// The ones that stopped here: their last answer was the question before it on their path.
    pub stopped: u64,
    /// stopped / reached, in percent; null when none reached it.
    pub stopped_percent: Option<f64>,
}

/// Where the responses that were started and not finished stopped.
#[derive(SimpleObject)]
pub struct DropOffReport {
    /// Responses in progress examined (started in the period, selected by the filter).
    pub in_progress: u64,
    /// Of those, the ones that answered every question their path shows so far (they stopped
    /// before submitting).
    pub stopped_at_end: u64,
    /// Every question of the current version, in form order (then keys only older versions
    /// had).
    pub questions: Vec<QuestionDropOff>,
}

/// A series' days: the period's, its end defaulting to today (in `zone`) and its start to the
/// start of the bucket [`DEFAULT_BUCKETS`] − 1 before the end's.
fn series_period(
    ctx: &Context<'_>,
    zone: chrono_tz::Tz,
    period: Period,
    interval: Interval,
    calendar: Calendar,
) -> AppResult<(NaiveDate, NaiveDate)> {
    let today = ctx.state()?.clock.now().with_timezone(&zone).date_naive();
    let to = period.to.unwrap_or(today);
    let from = period
        .from
        .unwrap_or_else(|| calendar::start_of_last(to, DEFAULT_BUCKETS, interval, calendar));
    Period {
        from: Some(from),
        to: Some(to),
    }
    .check("period")?;
    Ok((from, to))
}

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// A form's report per day, week, month, quarter or year, in the Gregorian or Persian
    /// calendar, in the organization's time zone. Any member, or an API key with
    /// `reports:read`. Weighs as ten form reports.
    #[graphql(complexity = "cost::saved_report_results(child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn form_series(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
        #[graphql(desc = "The length of a bucket.")] interval: Interval,
        #[graphql(desc = "The calendar (default GREGORIAN).", default_with = "Calendar::Gregorian")] calendar: Calendar,
        #[graphql(
            desc = "The days covered (default: up to today, from the start of the bucket 11 before today's: 12 buckets)."
        )]
        period: Option<PeriodInput>,
        #[graphql(desc = "Only the responses this condition holds for; as `formReport`'s filter.")] filter: Option<
            ConditionInput,
        >,
    ) -> AppResult<Series> {
        let tenant = ctx.authorize(READ)?;
        let id = id::decode(&form_id, NodeKind::Form, "formId")?;
        let period = Period::from(period.unwrap_or_default()).check("period")?;
        let filter = logic::filter_arg(filter, "filter")?;
        let state = ctx.state()?;
        let form = service::form::get(state.db.conn(), tenant, id).await?;
        if let Ok(budget) = ctx.data::<Arc<RequestBudget>>() {
            budget.spend_report()?;
        }
        let checked = check_filter(ctx, &form, filter.clone(), "filter").await?;
        let zone = service::report::zone_of(state.db.conn(), &form).await?;
        let (from, to) = series_period(ctx, zone, period, interval, calendar)?;
        let need = need_of(ctx.look_ahead().field("buckets").field("report"));
        let buckets = analysis::series(
            &state.reads(),
            &form,
            from,
            to,
            checked.as_ref(),
            interval,
            calendar,
            &need,
        )
        .await?;
        let form = Arc::new(form);
        Ok(Series {
            interval,
            calendar,
            buckets: buckets
                .into_iter()
                .map(|(bucket, figures)| SeriesBucket {
                    label: bucket.label,
                    from: bucket.start,
                    to: bucket.end,
                    report: FormReport::part(
                        form.clone(),
                        Period {
                            from: Some(bucket.start),
                            to: Some(bucket.end),
                        },
                        filter.clone(),
                        checked.clone(),
                        true,
                        figures,
                    ),
                })
                .collect(),
        })
    }

    /// Where the form's responses that were started and not finished stopped: per question,
    /// how many reached it, answered it and stopped there. Any member, or an API key with
    /// `reports:read`. Weighs as ten form reports.
    #[graphql(complexity = "cost::saved_report_results(child_complexity)")]
    async fn form_drop_off(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
        #[graphql(desc = "Responses started in this period (default: all time).")] period: Option<PeriodInput>,
        #[graphql(desc = "Only the responses this condition holds for; as `formReport`'s filter.")] filter: Option<
            ConditionInput,
        >,
    ) -> AppResult<DropOffReport> {
        let tenant = ctx.authorize(READ)?;
        let id = id::decode(&form_id, NodeKind::Form, "formId")?;
        let period = Period::from(period.unwrap_or_default()).check("period")?;
        let filter = logic::filter_arg(filter, "filter")?;
        let state = ctx.state()?;
        let form = service::form::get(state.db.conn(), tenant, id).await?;
        if let Ok(budget) = ctx.data::<Arc<RequestBudget>>() {
            budget.spend_report()?;
        }
        let checked = check_filter(ctx, &form, filter, "filter").await?;
        let (questions, in_progress, stopped_at_end) =
            analysis::drop_off(&state.reads(), &form, period, checked.as_ref()).await?;
        Ok(DropOffReport {
            in_progress,
            stopped_at_end,
            questions: questions
                .into_iter()
                .map(|q| QuestionDropOff {
                    stopped_percent: (q.reached > 0).then(|| q.stopped as f64 / q.reached as f64 * 100.0),
                    key: q.key,
                    reached: q.reached,
                    answered: q.answered,
                    stopped: q.stopped,
                })
                .collect(),
        })
    }

    /// The touchpoint labels of the organization's forms, in order.
    async fn touchpoints(&self, ctx: &Context<'_>) -> AppResult<Vec<String>> {
        let tenant = ctx.authorize(READ)?;
        analysis::touchpoints(&ctx.state()?.reads(), tenant).await
    }

    /// NPS, CSAT, CES and responses across every published form of a touchpoint (purchase,
    /// support…), or of the organization. Any member, or an API key with `reports:read`.
    /// Weighs as ten form reports.
    #[graphql(complexity = "cost::saved_report_results(child_complexity)")]
    async fn touchpoint_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The touchpoint label (exact); null: every published form.")] touchpoint: Option<String>,
        #[graphql(desc = "The period (default: all time).")] period: Option<PeriodInput>,
        #[graphql(desc = "Only the responses this condition holds for; checked against every form.")] filter: Option<
            ConditionInput,
        >,
    ) -> AppResult<JourneyReport> {
        let tenant = ctx.authorize(READ)?;
        let period = Period::from(period.unwrap_or_default()).check("period")?;
        let filter = logic::filter_arg(filter, "filter")?;
        let state = ctx.state()?;
        let forms = analysis::journey_forms(&state.reads(), tenant, touchpoint.as_deref()).await?;
        if let Ok(budget) = ctx.data::<Arc<RequestBudget>>() {
            budget.spend_report()?;
        }
        let mut parts = Vec::with_capacity(forms.len());
        for form in &forms {
            let checked = check_filter(ctx, form, filter.clone(), "filter").await?;
            parts.push(
                service::report::form_figures(&state.reads(), form, period, checked.as_ref(), &Need::headline())
                    .await?,
            );
        }
        let figures = combine(&parts.iter().map(|p| p.as_ref()).collect::<Vec<_>>());
        Ok(JourneyReport {
            touchpoint,
            forms: Arc::new(forms),
            period,
            figures,
        })
    }

    /// A touchpoint's report per day, week, month, quarter or year (the journey over time).
    /// Any member, or an API key with `reports:read`. Weighs as ten form reports.
    #[graphql(complexity = "cost::saved_report_results(child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn touchpoint_series(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The touchpoint label (exact); null: every published form.")] touchpoint: Option<String>,
        #[graphql(desc = "The length of a bucket.")] interval: Interval,
        #[graphql(desc = "The calendar (default GREGORIAN).", default_with = "Calendar::Gregorian")] calendar: Calendar,
        #[graphql(desc = "The days covered (default: 12 buckets up to today).")] period: Option<PeriodInput>,
        #[graphql(desc = "Only the responses this condition holds for; checked against every form.")] filter: Option<
            ConditionInput,
        >,
    ) -> AppResult<JourneySeries> {
        let tenant = ctx.authorize(READ)?;
        let period = Period::from(period.unwrap_or_default()).check("period")?;
        let filter = logic::filter_arg(filter, "filter")?;
        let state = ctx.state()?;
        let forms = analysis::journey_forms(&state.reads(), tenant, touchpoint.as_deref()).await?;
        if let Ok(budget) = ctx.data::<Arc<RequestBudget>>() {
            budget.spend_report()?;
        }
        let zone = service::report::tally::zone(&ctx.organization(tenant).await?.time_zone);
        let (from, to) = series_period(ctx, zone, period, interval, calendar)?;
        let buckets = calendar::buckets(from, to, interval, calendar);
        let mut per_bucket: Vec<Vec<FormFigures>> = vec![Vec::new(); buckets.len()];
        for form in &forms {
            let checked = check_filter(ctx, form, filter.clone(), "filter").await?;
            let series = analysis::series(
                &state.reads(),
                form,
                from,
                to,
                checked.as_ref(),
                interval,
                calendar,
                &Need::headline(),
            )
            .await?;
            for (i, (_, figures)) in series.into_iter().enumerate() {
                if let Some(slot) = per_bucket.get_mut(i) {
                    slot.push(figures);
                }
            }
        }
        let forms = Arc::new(forms);
        Ok(JourneySeries {
            interval,
            calendar,
            buckets: buckets
                .into_iter()
                .zip(per_bucket)
                .map(|(bucket, parts)| JourneyBucket {
                    report: JourneyReport {
                        touchpoint: touchpoint.clone(),
                        forms: forms.clone(),
                        period: Period {
                            from: Some(bucket.start),
                            to: Some(bucket.end),
                        },
                        figures: combine(&parts.iter().collect::<Vec<_>>()),
                    },
                    label: bucket.label,
                    from: bucket.start,
                    to: bucket.end,
                })
                .collect(),
        })
    }

    /// A period of a form's report against another (by default the equal number of days just
    /// before it): NPS by a z-test on the difference with each period's variance, shares by a
    /// two-proportion z-test, means by Welch's t-test; significant when p < 0.05. Any member,
    /// or an API key with `reports:read`. Weighs as two form reports.
    #[graphql(complexity = "cost::report(child_complexity).saturating_mul(2)")]
    async fn form_comparison(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
        #[graphql(desc = "The period: both days are needed.")] period: PeriodInput,
        #[graphql(desc = "The period compared with (default: as many days, ending the day before `period`).")]
        previous: Option<PeriodInput>,
        #[graphql(desc = "Only the responses this condition holds for, in both periods; as `formReport`'s filter.")]
        filter: Option<ConditionInput>,
    ) -> AppResult<Comparison> {
        let tenant = ctx.authorize(READ)?;
        let id = id::decode(&form_id, NodeKind::Form, "formId")?;
        let current = Period::from(period).check("period")?;
        let (Some(from), Some(to)) = (current.from, current.to) else {
            return Err(AppError::bad_input(
                if current.from.is_none() {
                    "period.from"
                } else {
                    "period.to"
                },
                "a comparison needs both days of its period",
            ));
        };
        let previous = match previous {
            Some(p) => {
                let p = Period::from(p).check("previous")?;
                if p.from.is_none() || p.to.is_none() {
                    return Err(AppError::bad_input(
                        if p.from.is_none() {
                            "previous.from"
                        } else {
                            "previous.to"
                        },
                        "a comparison needs both days of the period compared with",
                    ));
                }
                p
            }
            None => {
                let days = (to - from).num_days() + 1;
                Period {
                    from: from.checked_sub_days(chrono::Days::new(days as u64)),
                    to: from.pred_opt(),
                }
            }
        };
        let filter = logic::filter_arg(filter, "filter")?;
        let form = service::form::get(ctx.state()?.db.conn(), tenant, id).await?;
        // The changes read every metric; the reports, what their selections ask for.
        let look = ctx.look_ahead();
        let (a, b) = (need_of(look.field("current")), need_of(look.field("previous")));
        let need = Need {
            all: a.all || b.all,
            metrics: Need::headline().metrics,
            // The comparison of times to complete reads them.
            times: true,
        };
        let now = FormReport::load(ctx, form.clone(), current, filter.clone(), "filter", &need).await?;
        let before = FormReport::load(ctx, form, previous, filter, "filter", &need).await?;
        let changes = compare::compare(now.figures(), before.figures())
            .into_iter()
            .map(|c| MetricChange {
                metric: c.metric,
                test: c.test,
                current: c.current,
                previous: c.previous,
                change: c.change,
                statistic: c.statistic,
                p_value: c.p_value,
                significant: c.significant,
            })
            .collect();
        Ok(Comparison {
            current: now,
            previous: before,
            changes,
        })
    }

    /// A form's report split by the answer to a question, a respondent attribute as it was,
    /// tenure, channel, locale, status or a hidden field. Any member, or an API key with
    /// `reports:read`. Weighs as ten form reports.
    #[graphql(complexity = "cost::saved_report_results(child_complexity)")]
    async fn form_breakdown(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
        #[graphql(desc = "What to split by.")] by: DimensionInput,
        #[graphql(desc = "The period (default: all time).")] period: Option<PeriodInput>,
        #[graphql(desc = "Only the responses this condition holds for; as `formReport`'s filter.")] filter: Option<
            ConditionInput,
        >,
        #[graphql(desc = "Groups listed before the rest is folded into one OTHER group (1 to 50; default 10).")]
        limit: Option<i32>,
    ) -> AppResult<Breakdown> {
        let tenant = ctx.authorize(READ)?;
        let id = id::decode(&form_id, NodeKind::Form, "formId")?;
        let period = Period::from(period.unwrap_or_default()).check("period")?;
        let filter = logic::filter_arg(filter, "filter")?;
        let dimension = dimension(by)?;
        let state = ctx.state()?;
        let form = service::form::get(state.db.conn(), tenant, id).await?;
        if let Ok(budget) = ctx.data::<Arc<RequestBudget>>() {
            budget.spend_report()?;
        }
        let checked = check_filter(ctx, &form, filter.clone(), "filter").await?;
        let limit = usize::try_from(limit.unwrap_or(10)).unwrap_or(0);
        let need = need_of(ctx.look_ahead().field("groups").field("report"));
        let groups = analysis::breakdown(
            &state.reads(),
            &form,
            period,
            checked.as_ref(),
            &dimension,
            limit,
            &need,
        )
        .await?;
        let form = Arc::new(form);
        Ok(Breakdown {
            groups: groups
                .into_iter()
                .map(|g| BreakdownGroup {
                    kind: g.kind,
                    value: g.value,
                    low: g.low,
                    high: g.high,
                    n: g.figures.completed,
                    too_small: g.figures.completed < crate::report::stats::MIN_TRUSTED,
                    report: FormReport::part(form.clone(), period, filter.clone(), checked.clone(), false, g.figures),
                })
                .collect(),
        })
    }
}
