//! The product's metric definitions, exactly (PRODUCT.md, "Metric definitions"), over the
//! distribution of a question's answers. Pure.
use serde::{Deserialize, Serialize};

use super::stats::{Distribution, MIN_TRUSTED, Z95, share_margin};

/// Net Promoter Score of 0–10 answers: promoters 9–10, passives 7–8, detractors 0–6.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Nps {
    pub n: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// %promoters − %detractors, −100 to +100.
    pub score: f64,
    /// 95 %: 1.96·√((p + d − (p − d)²)/n)·100; `None` below two answers.
    pub margin: Option<f64>,
    pub too_small: bool,
}

/// Customer satisfaction of 1–5 answers: the share of 4 and 5, and the mean.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Csat {
    pub n: u64,
    pub satisfied: u64,
    pub percent: f64,
    /// 95 %: 1.96·√(p(1−p)/n)·100; `None` below two answers.
    pub margin: Option<f64>,
    pub mean: f64,
    pub too_small: bool,
}

/// Customer effort of 1–7 answers (7 = very easy): the mean and the share of 5–7.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Ces {
    pub n: u64,
    pub mean: f64,
    /// 95 % margin of the mean: 1.96·s/√n; `None` below two answers.
    pub margin: Option<f64>,
    pub easy: u64,
    pub percent_easy: f64,
    pub too_small: bool,
}

/// NPS of a distribution of 0–10 answers; `None` without answers.
pub fn nps(d: &Distribution) -> Option<Nps> {
    let n = d.n();
    if n == 0 {
        return None;
    }
    let promoters = d.count_between(9.0, 10.0);
    let passives = d.count_between(7.0, 8.0);
    let detractors = d.count_between(0.0, 6.0);
    let (p, q) = (promoters as f64 / n as f64, detractors as f64 / n as f64);
    let variance = (p + q - (p - q).powi(2)).max(0.0);
    Some(Nps {
        n,
        promoters,
        passives,
        detractors,
        score: (p - q) * 100.0,
        margin: (n >= 2).then(|| Z95 * (variance / n as f64).sqrt() * 100.0),
        too_small: n < MIN_TRUSTED,
    })
}

/// CSAT of a distribution of 1–5 answers; `None` without answers.
pub fn csat(d: &Distribution) -> Option<Csat> {
    let n = d.n();
    let mean = d.mean()?;
    let satisfied = d.count_between(4.0, 5.0);
    let p = satisfied as f64 / n as f64;
    Some(Csat {
        n,
        satisfied,
        percent: p * 100.0,
        margin: share_margin(p, n).filter(|_| n >= 2),
        mean,
        too_small: n < MIN_TRUSTED,
    })
}

/// CES of a distribution of 1–7 answers; `None` without answers.
pub fn ces(d: &Distribution) -> Option<Ces> {
    let n = d.n();
    let mean = d.mean()?;
    let easy = d.count_between(5.0, 7.0);
    Some(Ces {
        n,
        mean,
        margin: d.mean_margin(),
        easy,
        percent_easy: easy as f64 / n as f64 * 100.0,
        too_small: n < MIN_TRUSTED,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn nps_by_the_definition() {
        // 5 promoters, 3 passives, 2 detractors of 10: NPS 30.
        let d = Distribution::of_values([10.0, 9.0, 9.0, 10.0, 9.0, 8.0, 7.0, 7.0, 6.0, 0.0]);
        let nps = nps(&d).unwrap();
        assert_eq!((nps.promoters, nps.passives, nps.detractors, nps.n), (5, 3, 2, 10));
        assert!(close(nps.score, 30.0));
        let (p, q) = (0.5, 0.2);
        assert!(close(
            nps.margin.unwrap(),
            1.96 * ((p + q - (p - q) * (p - q)) / 10.0f64).sqrt() * 100.0
        ));
        assert!(nps.too_small);
        // Passives are 7–8, not 5–7: a 5 and a 6 are detractors.
        let d = Distribution::of_values([5.0, 6.0, 7.0]);
        assert_eq!(super::nps(&d).unwrap().detractors, 2);
        assert!(super::nps(&Distribution::default()).is_none());
        let all_promoters = Distribution::new([(10.0, 40)]);
        let top = super::nps(&all_promoters).unwrap();
        assert!(close(top.score, 100.0) && close(top.margin.unwrap(), 0.0) && !top.too_small);
    }

    #[test]
    fn csat_and_ces_by_the_definition() {
        let d = Distribution::of_values([5.0, 4.0, 3.0, 2.0]);
        let c = csat(&d).unwrap();
        assert_eq!(c.satisfied, 2);
        assert!(close(c.percent, 50.0) && close(c.mean, 3.5));
        assert!(close(c.margin.unwrap(), 1.96 * (0.25f64 / 4.0).sqrt() * 100.0));
        let d = Distribution::of_values([7.0, 5.0, 4.0, 1.0]);
        let e = ces(&d).unwrap();
        assert_eq!(e.easy, 2);
        assert!(close(e.mean, 4.25) && close(e.percent_easy, 50.0));
        assert!(close(e.margin.unwrap(), d.mean_margin().unwrap()));
    }

    #[test]
    fn a_single_answer_has_no_margin_anywhere() {
        let one = |v: f64| Distribution::of_values([v]);
        assert_eq!(nps(&one(9.0)).unwrap().margin, None);
        assert_eq!(csat(&one(4.0)).unwrap().margin, None);
        assert_eq!(ces(&one(6.0)).unwrap().margin, None);
        let two = |v: f64| Distribution::of_values([v, v]);
        assert!(nps(&two(9.0)).unwrap().margin.is_some());
        assert!(csat(&two(4.0)).unwrap().margin.is_some());
        assert!(ces(&two(6.0)).unwrap().margin.is_some());
    }
}
