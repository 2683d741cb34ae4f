//! Times to complete as the tallies keep them. One count per second value per day made a
//! period's times most of the rows it read (a busy form's 90 days: about 10,000 of 12,000),
//! so the tallies keep them three ways instead:
//!
//! - counts by **bin** of the value (8 bins per doubling: each at most an eighth of its lower
//!   bound wide, so a day of times from 20 s to 20 min holds about 50 bins), read with every
//!   other count;
//! - the exact **sum** and **sum of squares** of the seconds (integers: the sum of squares in
//!   two 32-bit parts, so no realistic form overflows 64 bits), which give the mean, the
//!   sample standard deviation and the margin exactly;
//! - the exact counts per **second**, under their bin, in grains of their own (see
//!   [`super::tally::Grain::exact`]), read only for the one or two bins the median falls in.
//!
//! So the median stays exact (Data rules, "Statistics") and a period reads bins, not seconds.
//! Pure: the tallies write what [`counted`] says and reports read it back with [`summary`].
use super::{figures::Summary, stats::Distribution};

/// The value of the sum of seconds among a period's sums.
pub const SUM: &str = "1";
/// The value of the high part (the squares over 2³², summed) of the sum of squares.
pub const SQUARES_HIGH: &str = "2h";
/// The value of the low part (the squares modulo 2³², summed) of the sum of squares.
pub const SQUARES_LOW: &str = "2l";
/// Values below this have a bin each.
const EXACT_BELOW: i64 = 16;
/// log₂ of the bins per doubling.
const BITS: u32 = 3;

/// The lower bound of the bin `seconds` falls in: the value itself below 16, else the value
/// with all but its 4 leading bits cleared.
pub fn bin(seconds: i64) -> i64 {
    if seconds < EXACT_BELOW {
        return seconds;
    }
    let shift = 63 - seconds.leading_zeros() - BITS;
    (seconds >> shift) << shift
}

/// The first value after the bin whose lower bound is `lower`.
pub fn bin_end(lower: i64) -> i64 {
    if lower < EXACT_BELOW {
        return lower + 1;
    }
    lower + (1i64 << (63 - lower.leading_zeros() - BITS))
}

/// `seconds²` as (high, low): `seconds² = high · 2³² + low`.
pub fn square_parts(seconds: i64) -> (i64, i64) {
    let square = i128::from(seconds) * i128::from(seconds);
    ((square >> 32) as i64, (square & 0xFFFF_FFFF) as i64)
}

/// What one time to complete adds: its bin, and the sums' values with the amounts they grow
/// by (times `sign`).
pub fn counted(seconds: i64, sign: i64) -> (i64, [(&'static str, i64); 3]) {
    let (high, low) = square_parts(seconds);
    (
        bin(seconds),
        [
            (SUM, sign * seconds),
            (SQUARES_HIGH, sign * high),
            (SQUARES_LOW, sign * low),
        ],
    )
}

/// The ranks (1-based, ascending) the median of `n` values is read from.
fn median_ranks(n: u64) -> Vec<u64> {
    match n {
        0 => Vec::new(),
        _ if n % 2 == 1 => vec![n / 2 + 1],
        _ => vec![n / 2, n / 2 + 1],
    }
}

/// For each rank, the bin (its lower bound) holding its value and the rank within that bin.
fn bins_of_ranks(bins: &[(i64, u64)], ranks: &[u64]) -> Vec<(u64, i64)> {
    let mut out = Vec::new();
    let mut before = 0;
    for (lower, count) in bins {
        for rank in ranks {
            if *rank > before && *rank <= before + count {
                out.push((rank - before, *lower));
            }
        }
        before += count;
    }
    out
}

/// The bins (lower bounds, ascending, at most two) the median of values counted by `bins`
/// (ascending, no zero counts) lies in: the bins whose exact seconds a report reads.
pub fn median_bins(bins: &[(i64, u64)]) -> Vec<i64> {
    let n = bins.iter().map(|(_, c)| c).sum();
    let mut out: Vec<i64> = bins_of_ranks(bins, &median_ranks(n))
        .into_iter()
        .map(|(_, lower)| lower)
        .collect();
    out.dedup();
    out
}

/// Times to complete as a period's tallies give them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kept {
    /// (lower bound, count), ascending, no zero counts.
    pub bins: Vec<(i64, u64)>,
    /// Σ seconds.
    pub sum: i128,
    /// Σ seconds².
    pub squares: i128,
}

impl Kept {
    /// From the bins (any order) and the sums by value ([`SUM`], [`SQUARES_HIGH`],
    /// [`SQUARES_LOW`]).
    pub fn new(bins: impl IntoIterator<Item = (i64, u64)>, sums: &[(String, u64)]) -> Kept {
        let mut bins: Vec<(i64, u64)> = bins.into_iter().filter(|(_, c)| *c > 0).collect();
        bins.sort_unstable();
        let part = |name: &str| -> i128 {
            sums.iter()
                .filter(|(v, _)| v == name)
                .map(|(_, c)| i128::from(*c))
                .sum()
        };
        Kept {
            bins,
            sum: part(SUM),
            squares: (part(SQUARES_HIGH) << 32) + part(SQUARES_LOW),
        }
    }
}

impl Kept {
    /// What the tallies would keep of every exact second in `exact` (counted elsewhere: by
    /// segment, or from the responses), so that figures from either agree to the last bit.
    pub fn of(exact: &Distribution) -> Kept {
        let mut kept = Kept::default();
        for (value, count) in exact.counts() {
            let (seconds, count) = (*value as i64, i128::from(*count));
            match kept.bins.last_mut() {
                Some((lower, n)) if *lower == bin(seconds) => *n += count as u64,
                _ => kept.bins.push((bin(seconds), count as u64)),
            }
            kept.sum += count * i128::from(seconds);
            kept.squares += count * i128::from(seconds) * i128::from(seconds);
        }
        kept
    }
}

/// n, mean, exact median, sample standard deviation and the mean's margin of the times `kept`
/// holds, the median read from `exact` (the exact counts of at least the bins
/// [`median_bins`] names; counts of other bins are ignored).
pub fn summary(kept: &Kept, exact: &Distribution) -> Summary {
    let n: u64 = kept.bins.iter().map(|(_, c)| c).sum();
    if n == 0 {
        return Summary::default();
    }
    let mean = kept.sum as f64 / n as f64;
    let std_dev = (n >= 2).then(|| {
        // n·Σx² − (Σx)² is exact in 128 bits and never negative.
        let spread = i128::from(n) * kept.squares - kept.sum * kept.sum;
        (spread.max(0) as f64 / (n as f64 * (n - 1) as f64)).sqrt()
    });
    // The value of `rank` within the bin from `lower`, from its exact counts.
    let nth = |rank: u64, lower: i64| -> Option<f64> {
        let end = bin_end(lower);
        let mut seen = 0;
        for (value, count) in exact.counts() {
            if *value < lower as f64 || *value >= end as f64 {
                continue;
            }
            seen += count;
            if seen >= rank {
                return Some(*value);
            }
        }
        None
    };
    let ranked: Vec<Option<f64>> = bins_of_ranks(&kept.bins, &median_ranks(n))
        .into_iter()
        .map(|(rank, lower)| nth(rank, lower))
        .collect();
    let median = match ranked.as_slice() {
        [Some(one)] => Some(*one),
        [Some(a), Some(b)] => Some((a + b) / 2.0),
        _ => None,
    };
    Summary {
        n,
        mean: Some(mean),
        median,
        std_dev,
        margin: std_dev.map(|s| super::stats::Z95 * s / (n as f64).sqrt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    #[test]
    fn bins_are_at_most_an_eighth_of_their_values_wide_and_tile_the_numbers() {
        let mut lower = 0;
        while lower < 5_000_000 {
            let end = bin_end(lower);
            assert!(end > lower);
            assert!(lower < EXACT_BELOW || (end - lower) * 8 <= lower, "{lower}..{end}");
            for v in [lower, end - 1] {
                assert_eq!(bin(v), lower, "{v}");
            }
            lower = end;
        }
        assert_eq!(bin(i64::from(i32::MAX)), bin_end(bin(i64::from(i32::MAX))) - (1 << 27));
        assert_eq!((bin(20), bin(75), bin(600), bin(1_199)), (20, 72, 576, 1_152));
        assert_eq!(square_parts(i64::from(i32::MAX)), {
            let s = i128::from(i32::MAX).pow(2);
            ((s >> 32) as i64, (s & 0xFFFF_FFFF) as i64)
        });
    }

    /// The tallies' way (bins, sums, exact seconds of the median's bins only) gives the
    /// figures of every value counted exactly.
    #[test]
    fn kept_times_give_the_figures_of_the_exact_counts() {
        let mut rng = StdRng::seed_from_u64(16);
        for round in 0..400 {
            let n = rng.random_range(0..60);
            let top = [30, 2_000, 200_000, i64::from(i32::MAX)][round % 4];
            let values: Vec<i64> = (0..n).map(|_| rng.random_range(0..top)).collect();
            let exact = Distribution::of_values(values.iter().map(|v| *v as f64));
            let mut bins: std::collections::BTreeMap<i64, u64> = Default::default();
            let mut sums: std::collections::BTreeMap<&str, i64> = Default::default();
            for v in &values {
                let (lower, parts) = counted(*v, 1);
                *bins.entry(lower).or_default() += 1;
                for (name, amount) in parts {
                    *sums.entry(name).or_default() += amount;
                }
            }
            let bins: Vec<(i64, u64)> = bins.into_iter().collect();
            let sums: Vec<(String, u64)> = sums.into_iter().map(|(k, v)| (k.to_owned(), v as u64)).collect();
            let kept = Kept::new(bins.clone(), &sums);
            let wanted = median_bins(&kept.bins);
            assert!(wanted.len() <= 2);
            // Only the median's bins, as a report reads them.
            let read = Distribution::new(
                exact
                    .counts()
                    .iter()
                    .filter(|(v, _)| wanted.contains(&bin(*v as i64)))
                    .copied(),
            );
            let got = summary(&kept, &read);
            assert_eq!(summary(&Kept::of(&exact), &exact), got, "{values:?}");
            let want = Summary::of(&exact);
            assert_eq!((got.n, got.median), (want.n, want.median), "{values:?}");
            for (a, b) in [
                (got.mean, want.mean),
                (got.std_dev, want.std_dev),
                (got.margin, want.margin),
            ] {
                match (a, b) {
                    (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} {b} {values:?}"),
                    (a, b) => assert_eq!(a, b, "{values:?}"),
                }
            }
        }
    }
}
