//! Whether a metric changed between two periods more than chance explains (PRODUCT.md, "Data
//! rules"): NPS by a z-test on the difference with each period's NPS variance, shares (CSAT %,
//! CES % easy, completion) by a two-proportion z-test, means by Welch's t-test; significant
//! when p < 0.05. Pure, with the normal and Student t distributions written out.
use serde::{Deserialize, Serialize};

use super::figures::{FormFigures, Summary};

/// Significance level.
pub const ALPHA: f64 = 0.05;

/// What a change was tested with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum StatisticalTest {
    /// z = (NPS₁ − NPS₂) / √(v₁/n₁ + v₂/n₂), v = p + d − (p − d)² of each period (shares).
    NpsZ,
    /// Two-proportion z-test with the pooled share.
    TwoProportionZ,
    /// Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom).
    WelchT,
}

/// A compared metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum ComparedMetric {
    /// Net Promoter Score, −100 to 100.
    Nps,
    /// Percent of CSAT answers 4 or 5.
    CsatPercent,
    /// Mean CSAT answer.
    CsatMean,
    /// Mean CES answer.
    CesMean,
    /// Percent of CES answers 5 to 7.
    CesPercentEasy,
    /// Percent of the responses started in the period that were completed.
    CompletionPercent,
    /// Mean seconds to complete.
    TimeToComplete,
}

/// One metric in two periods.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub metric: ComparedMetric,
    pub test: StatisticalTest,
    pub current: Option<f64>,
    pub previous: Option<f64>,
    /// current − previous (points for percents and NPS).
    pub change: Option<f64>,
    /// The z or t statistic; `None` when the test cannot be made (too few answers, no
    /// variance).
    pub statistic: Option<f64>,
    /// Two-sided.
    pub p_value: Option<f64>,
    pub significant: bool,
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The complementary error function: 1 − the Maclaurin series of erf below 2.5, the
/// continued fraction erfc x = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))) above
/// (evaluated by Lentz's method).
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        return 1.0 - erf_series(x);
    }
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for n in 1..1000 {
        let a = n as f64 / 2.0;
        d = x + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (std::f64::consts::PI.sqrt() * f)
}

fn erf_series(x: f64) -> f64 {
    // erf x = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let mut sum = 0.0;
    let mut term = x;
    for n in 0..60 {
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 {
            break;
        }
        term *= -x * x / (n + 1) as f64;
    }
    2.0 / std::f64::consts::PI.sqrt() * sum
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function I_x(a, b) (continued fraction, Lentz).
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(1.0 - x, b, a);
    }
    let tiny = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..1000 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        for coefficient in [even, -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))] {
            d = 1.0 + coefficient * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        let last = c * d;
        if (last - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f / a
}

/// Two-sided p-value of a Student t statistic with `df` degrees of freedom.
pub fn student_p(t: f64, df: f64) -> f64 {
    incomplete_beta(df / (df + t * t), df / 2.0, 0.5).clamp(0.0, 1.0)
}

fn change(metric: ComparedMetric, test: StatisticalTest, current: Option<f64>, previous: Option<f64>) -> Change {
    Change {
        metric,
        test,
        current,
        previous,
        change: current.zip(previous).map(|(a, b)| a - b),
        statistic: None,
        p_value: None,
        significant: false,
    }
}

fn tested(mut c: Change, statistic: Option<f64>, p: impl Fn(f64) -> f64) -> Change {
    if let Some(s) = statistic.filter(|s| s.is_finite()) {
        let p_value = p(s);
        c.statistic = Some(s);
        c.p_value = Some(p_value);
        c.significant = p_value < ALPHA;
    }
    c
}

/// Two shares `x₁/n₁` and `x₂/n₂` (as percents), by a pooled two-proportion z-test.
pub fn shares(metric: ComparedMetric, x1: u64, n1: u64, x2: u64, n2: u64) -> Change {
    let percent = |x: u64, n: u64| (n > 0).then(|| x as f64 / n as f64 * 100.0);
    let c = change(
        metric,
        StatisticalTest::TwoProportionZ,
        percent(x1, n1),
        percent(x2, n2),
    );
    let z = (n1 > 0 && n2 > 0)
        .then(|| {
            let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
            let pooled = (x1 + x2) as f64 / (n1 + n2) as f64;
            let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
            (se > 0.0).then(|| (p1 - p2) / se)
        })
        .flatten();
    tested(c, z, normal_p)
}

/// Two means by Welch's t-test.
pub fn means(metric: ComparedMetric, a: &Summary, b: &Summary) -> Change {
    let c = change(metric, StatisticalTest::WelchT, a.mean, b.mean);
    let (Some(m1), Some(s1), Some(m2), Some(s2)) = (a.mean, a.std_dev, b.mean, b.std_dev) else {
        return c;
    };
    let (n1, n2) = (a.n as f64, b.n as f64);
    let (v1, v2) = (s1 * s1 / n1, s2 * s2 / n2);
    let se = (v1 + v2).sqrt();
    if se <= 0.0 {
        return c;
    }
    let t = (m1 - m2) / se;
    let df = (v1 + v2).powi(2) / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
    tested(c, Some(t), |t| student_p(t, df))
}

/// NPS of two periods by the z-test on the difference.
pub fn nps(a: Option<&super::metrics::Nps>, b: Option<&super::metrics::Nps>) -> Change {
    let c = change(
        ComparedMetric::Nps,
        StatisticalTest::NpsZ,
        a.map(|n| n.score),
        b.map(|n| n.score),
    );
    let (Some(a), Some(b)) = (a, b) else {
        return c;
    };
    if a.n < 2 || b.n < 2 {
        return c;
    }
    let variance = |n: &super::metrics::Nps| {
        let (p, d) = (n.promoters as f64 / n.n as f64, n.detractors as f64 / n.n as f64);
        (p + d - (p - d).powi(2)).max(0.0) / n.n as f64
    };
    let se = (variance(a) + variance(b)).sqrt();
    let z = (se > 0.0).then(|| (a.score - b.score) / 100.0 / se);
    tested(c, z, normal_p)
}

fn question_numbers<'a>(f: &'a FormFigures, key: &str) -> Option<&'a Summary> {
    f.questions.iter().find(|q| q.key == key)?.numbers.as_ref()
}

/// Every metric of `current` against `previous`.
pub fn compare(current: &FormFigures, previous: &FormFigures) -> Vec<Change> {
    let mut out = vec![nps(
        current.nps.as_ref().map(|m| &m.figures),
        previous.nps.as_ref().map(|m| &m.figures),
    )];
    let empty = Summary::default();
    let csat = (current.csat.as_ref(), previous.csat.as_ref());
    out.push(shares(
        ComparedMetric::CsatPercent,
        csat.0.map_or(0, |m| m.figures.satisfied),
        csat.0.map_or(0, |m| m.figures.n),
        csat.1.map_or(0, |m| m.figures.satisfied),
        csat.1.map_or(0, |m| m.figures.n),
    ));
    let numbers = |f: &FormFigures, key: Option<&String>| key.and_then(|k| question_numbers(f, k)).cloned();
    let csat_key = csat.0.or(csat.1).map(|m| &m.key);
    out.push(means(
        ComparedMetric::CsatMean,
        &numbers(current, csat_key).unwrap_or_else(|| empty.clone()),
        &numbers(previous, csat_key).unwrap_or_else(|| empty.clone()),
    ));
    let ces = (current.ces.as_ref(), previous.ces.as_ref());
    let ces_key = ces.0.or(ces.1).map(|m| &m.key);
    out.push(means(
        ComparedMetric::CesMean,
        &numbers(current, ces_key).unwrap_or_else(|| empty.clone()),
        &numbers(previous, ces_key).unwrap_or_else(|| empty.clone()),
    ));
    out.push(shares(
        ComparedMetric::CesPercentEasy,
        ces.0.map_or(0, |m| m.figures.easy),
        ces.0.map_or(0, |m| m.figures.n),
        ces.1.map_or(0, |m| m.figures.easy),
        ces.1.map_or(0, |m| m.figures.n),
    ));
    let completed = |f: &FormFigures| {
        f.completion_percent
            .map_or(0, |p| (p / 100.0 * f.started as f64).round() as u64)
    };
    out.push(shares(
        ComparedMetric::CompletionPercent,
        completed(current),
        current.started,
        completed(previous),
        previous.started,
    ));
    out.push(means(
        ComparedMetric::TimeToComplete,
        &current.time_to_complete,
        &previous.time_to_complete,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn the_distributions_match_known_values() {
        // Φ tails: p(|z| ≥ 1.96) ≈ 0.05, p(|z| ≥ 2.576) ≈ 0.01.
        assert!(close(normal_p(1.959_963_984_540_054), 0.05, 1e-12));
        assert!(close(normal_p(2.575_829_303_548_901), 0.01, 1e-12));
        assert!(close(normal_p(0.0), 1.0, 1e-15));
        assert!(close(erfc(0.3), 0.671_373_240_540_873_2, 1e-13));
        assert!(close(erfc(3.0), 2.209_049_699_858_544e-5, 1e-17));
        // Student t: two-sided critical values.
        assert!(close(student_p(2.228_138_851_986_274, 10.0), 0.05, 1e-10));
        assert!(close(student_p(12.706_204_736_174_7, 1.0), 0.05, 1e-10));
        assert!(close(student_p(1.959_963_984_540_054, 1e7), 0.05, 1e-6));
    }

    #[test]
    fn changes_follow_the_product_s_tests() {
        let c = shares(ComparedMetric::CsatPercent, 80, 100, 60, 100);
        // p̂ = 0.7, se = √(0.21·0.02) = 0.0648, z = 0.2 / 0.0648 = 3.086.
        assert!(close(c.statistic.unwrap(), 0.2 / (0.7f64 * 0.3 * 0.02).sqrt(), 1e-12));
        assert!(c.significant && close(c.change.unwrap(), 20.0, 1e-12));
        let same = shares(ComparedMetric::CsatPercent, 50, 100, 50, 100);
        assert!(!same.significant && close(same.p_value.unwrap(), 1.0, 1e-12));
        let none = shares(ComparedMetric::CsatPercent, 0, 0, 5, 10);
        assert_eq!((none.current, none.statistic, none.significant), (None, None, false));
        let a = Summary {
            n: 20,
            mean: Some(4.1),
            median: None,
            std_dev: Some(0.9),
            margin: None,
        };
        let b = Summary {
            n: 30,
            mean: Some(3.5),
            median: None,
            std_dev: Some(1.4),
            margin: None,
        };
        let w = means(ComparedMetric::CsatMean, &a, &b);
        let (v1, v2): (f64, f64) = (0.81 / 20.0, 1.96 / 30.0);
        assert!(close(w.statistic.unwrap(), 0.6 / (v1 + v2).sqrt(), 1e-12));
        assert!(w.p_value.unwrap() > 0.0 && w.p_value.unwrap() < 0.1);
    }
}
