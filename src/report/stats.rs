//! Statistics over counts per value (Data rules, "Statistics"): exact medians from the counts,
//! sample standard deviation (n − 1), 95 % margins. Pure; reports build every figure on it,
//! whatever the number of responses behind the counts.

/// z of a two-sided 95 % interval.
pub const Z95: f64 = 1.96;
/// Below this many answers a figure is flagged as too small to trust.
pub const MIN_TRUSTED: u64 = 30;

/// How many times each value occurs, values ascending, no zero counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Distribution {
    counts: Vec<(f64, u64)>,
}

impl Distribution {
    /// From (value, count) pairs in any order; equal values add up, zero counts go, and
    /// values that are not finite numbers are left out.
    pub fn new(pairs: impl IntoIterator<Item = (f64, u64)>) -> Self {
        let mut counts: Vec<(f64, u64)> = pairs.into_iter().filter(|(v, c)| v.is_finite() && *c > 0).collect();
        counts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, u64)> = Vec::with_capacity(counts.len());
        for (value, count) in counts {
            match merged.last_mut() {
                Some((last, total)) if *last == value => *total += count,
                _ => merged.push((value, count)),
            }
        }
        Distribution { counts: merged }
    }

    /// Each value once per occurrence.
    pub fn of_values(values: impl IntoIterator<Item = f64>) -> Self {
        Distribution::new(values.into_iter().map(|v| (v, 1)))
    }

    /// (value, count), values ascending.
    pub fn counts(&self) -> &[(f64, u64)] {
        &self.counts
    }

    pub fn n(&self) -> u64 {
        self.counts.iter().map(|(_, c)| c).sum()
    }

    /// How many values lie in `low..=high`.
    pub fn count_between(&self, low: f64, high: f64) -> u64 {
        self.counts
            .iter()
            .filter(|(v, _)| (low..=high).contains(v))
            .map(|(_, c)| c)
            .sum()
    }

    pub fn sum(&self) -> f64 {
        self.counts.iter().map(|(v, c)| v * *c as f64).sum()
    }

    pub fn mean(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| self.sum() / n as f64)
    }

    /// The exact median: the middle value, or the mean of the two middle values.
    pub fn median(&self) -> Option<f64> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let nth = |k: u64| {
            // The k-th value (1-based) in ascending order.
            let mut seen = 0;
            for (value, count) in &self.counts {
                seen += count;
                if seen >= k {
                    return *value;
                }
            }
            self.counts.last().map_or(0.0, |(v, _)| *v)
        };
        Some(if n % 2 == 1 {
            nth(n / 2 + 1)
        } else {
            (nth(n / 2) + nth(n / 2 + 1)) / 2.0
        })
    }

    /// The sample standard deviation (n − 1); `None` below two values.
    pub fn std_dev(&self) -> Option<f64> {
        let n = self.n();
        let mean = self.mean()?;
        if n < 2 {
            return None;
        }
        let squares: f64 = self.counts.iter().map(|(v, c)| (v - mean).powi(2) * *c as f64).sum();
        Some((squares / (n - 1) as f64).sqrt())
    }

    /// The 95 % margin of the mean: 1.96·s/√n.
    pub fn mean_margin(&self) -> Option<f64> {
        Some(Z95 * self.std_dev()? / (self.n() as f64).sqrt())
    }
}

/// The 95 % margin of a share `p` of `n`, in percentage points: 1.96·√(p(1−p)/n)·100.
pub fn share_margin(p: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| Z95 * (p * (1.0 - p) / n as f64).sqrt() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn figures_of_a_small_distribution() {
        let d = Distribution::of_values([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(d.n(), 8);
        assert!(close(d.mean().unwrap(), 5.0));
        assert!(close(d.median().unwrap(), 4.5));
        // Sample variance: 32 / 7.
        assert!(close(d.std_dev().unwrap(), (32.0f64 / 7.0).sqrt()));
        assert!(close(
            d.mean_margin().unwrap(),
            1.96 * (32.0f64 / 7.0).sqrt() / 8f64.sqrt()
        ));
        assert_eq!(d.count_between(4.0, 5.0), 5);
        let odd = Distribution::new([(3.0, 2), (1.0, 1), (3.0, 0), (f64::NAN, 4)]);
        assert_eq!(odd.counts(), &[(1.0, 1), (3.0, 2)]);
        assert_eq!(odd.median(), Some(3.0));
        let empty = Distribution::default();
        assert_eq!((empty.mean(), empty.median(), empty.std_dev()), (None, None, None));
        assert_eq!(Distribution::of_values([5.0]).std_dev(), None);
        assert!(close(share_margin(0.5, 100).unwrap(), 9.8));
    }
}
