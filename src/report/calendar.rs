//! The buckets of a time series: days, weeks, months, quarters and years of the Gregorian
//! calendar (ISO weeks, from Monday) or of the Persian (Solar Hijri) calendar (weeks from
//! Saturday, Persian months and seasons), as ranges of local days. Month arithmetic is ICU4X's
//! (`icu_calendar`), not ours. Pure.
use chrono::{Datelike, Days, NaiveDate, Weekday};
use icu_calendar::{Date, Iso, cal::Persian};

/// A calendar a series is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, async_graphql::Enum)]
pub enum Calendar {
    /// The Gregorian calendar; weeks are ISO weeks (Monday to Sunday).
    Gregorian,
    /// The Persian (Solar Hijri, Jalali) calendar; weeks run Saturday to Friday, quarters are
    /// the seasons (Farvardin–Khordad, …).
    Persian,
}

/// The length of a series' buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, async_graphql::Enum)]
pub enum Interval {
    /// A local day.
    Day,
    /// A week: Monday to Sunday (Gregorian, ISO weeks), Saturday to Friday (Persian).
    Week,
    /// A calendar month.
    Month,
    /// Three months (in the Persian calendar, a season).
    Quarter,
    /// A calendar year.
    Year,
}

/// One bucket: local days `start..=end` and a label that sorts like the buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// `2026-03-21`, `2026-W12`, `2026-03`, `2026-Q1`, `2026`; in the Persian calendar
    /// `1405-01-01`, the week's first day `1404-12-30`, `1405-01`, `1405-Q1`, `1405`.
    pub label: String,
}

/// A day's (year, month, day) in the Persian calendar.
pub fn persian(day: NaiveDate) -> (i32, u8, u8) {
    match Date::try_new_iso(day.year(), day.month() as u8, day.day() as u8) {
        Ok(iso) => {
            let p = iso.to_calendar(Persian::new());
            (p.year().extended_year(), p.month().ordinal, p.day_of_month().0)
        }
        Err(_) => (0, 1, 1),
    }
}

/// The Gregorian day of a Persian (year, month, day).
fn from_persian(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
    let iso: Date<Iso> = Date::try_new_persian(year, month, day).ok()?.to_calendar(Iso);
    NaiveDate::from_ymd_opt(
        iso.year().extended_year(),
        u32::from(iso.month().ordinal),
        u32::from(iso.day_of_month().0),
    )
}

/// The first day of the Persian month `month` (1-based; months past 12 roll into later years).
fn persian_month_start(year: i32, month: i32) -> Option<NaiveDate> {
    let index = year * 12 + (month - 1);
    from_persian(index.div_euclid(12), (index.rem_euclid(12) + 1) as u8, 1)
}

fn gregorian_month_start(year: i32, month: i32) -> Option<NaiveDate> {
    let index = year * 12 + (month - 1);
    NaiveDate::from_ymd_opt(index.div_euclid(12), (index.rem_euclid(12) + 1) as u32, 1)
}

/// The bucket `day` falls in.
pub fn bucket_of(day: NaiveDate, interval: Interval, calendar: Calendar) -> Bucket {
    let whole = |start: NaiveDate, next: Option<NaiveDate>, label: String| Bucket {
        start,
        end: next.and_then(|n| n.pred_opt()).unwrap_or(start),
        label,
    };
    match (interval, calendar) {
        (Interval::Day, Calendar::Gregorian) => whole(day, day.succ_opt(), day.format("%Y-%m-%d").to_string()),
        (Interval::Day, Calendar::Persian) => {
            let (y, m, d) = persian(day);
            whole(day, day.succ_opt(), format!("{y:04}-{m:02}-{d:02}"))
        }
        (Interval::Week, Calendar::Gregorian) => {
            let start = day - Days::new(u64::from(day.weekday().num_days_from_monday()));
            let week = day.iso_week();
            whole(
                start,
                start.checked_add_days(Days::new(7)),
                format!("{:04}-W{:02}", week.year(), week.week()),
            )
        }
        (Interval::Week, Calendar::Persian) => {
            let back = (day.weekday().num_days_from_monday() + 7 - Weekday::Sat.num_days_from_monday()) % 7;
            let start = day - Days::new(u64::from(back));
            let (y, m, d) = persian(start);
            whole(
                start,
                start.checked_add_days(Days::new(7)),
                format!("{y:04}-{m:02}-{d:02}"),
            )
        }
        (Interval::Month | Interval::Quarter | Interval::Year, _) => {
            let (year, month) = match calendar {
                Calendar::Gregorian => (day.year(), day.month() as i32),
                Calendar::Persian => {
                    let (y, m, _) = persian(day);
                    (y, i32::from(m))
                }
            };
            let (first, span, label) = match interval {
                Interval::Month => (month, 1, format!("{year:04}-{month:02}")),
                Interval::Quarter => {
                    let q = (month - 1) / 3;
                    (q * 3 + 1, 3, format!("{year:04}-Q{}", q + 1))
                }
                _ => (1, 12, format!("{year:04}")),
            };
            let start_of = |m: i32| match calendar {
                Calendar::Gregorian => gregorian_month_start(year, m),
                Calendar::Persian => persian_month_start(year, m),
            };
            let start = start_of(first).unwrap_or(day);
            whole(start, start_of(first + span), label)
        }
    }
}

/// The buckets covering `from..=to`, in order, the first and last cut to the range.
pub fn buckets(from: NaiveDate, to: NaiveDate, interval: Interval, calendar: Calendar) -> Vec<Bucket> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let mut bucket = bucket_of(day, interval, calendar);
        bucket.start = bucket.start.max(from);
        bucket.end = bucket.end.min(to);
        let Some(next) = bucket.end.succ_opt() else {
            out.push(bucket);
            break;
        };
        out.push(bucket);
        day = next;
    }
    out
}

/// The first day of the bucket `count − 1` buckets before the one holding `to`: a default
/// start for a series of `count` buckets ending at `to`.
pub fn start_of_last(to: NaiveDate, count: u32, interval: Interval, calendar: Calendar) -> NaiveDate {
    let mut start = bucket_of(to, interval, calendar).start;
    for _ in 1..count {
        match start.pred_opt() {
            Some(before) => start = bucket_of(before, interval, calendar).start,
            None => break,
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn persian_months_and_years_turn_at_nowruz() {
        // 1 Farvardin 1405 is 21 March 2026.
        assert_eq!(persian(d("2026-03-21")), (1405, 1, 1));
        assert_eq!(persian(d("2026-03-20")), (1404, 12, 29));
        let year = bucket_of(d("2026-03-20"), Interval::Year, Calendar::Persian);
        assert_eq!(
            (year.start, year.end, year.label.as_str()),
            (d("2025-03-21"), d("2026-03-20"), "1404")
        );
        let month = bucket_of(d("2026-04-20"), Interval::Month, Calendar::Persian);
        assert_eq!(
            (month.start, month.end, month.label.as_str()),
            (d("2026-03-21"), d("2026-04-20"), "1405-01")
        );
        // Mehr has 30 days; Esfand 29 or 30.
        let mehr = bucket_of(d("2026-10-01"), Interval::Month, Calendar::Persian);
        assert_eq!((mehr.end - mehr.start).num_days() + 1, 30);
        let season = bucket_of(d("2026-07-01"), Interval::Quarter, Calendar::Persian);
        assert_eq!(
            (season.start, season.end, season.label.as_str()),
            (d("2026-06-22"), d("2026-09-22"), "1405-Q2")
        );
    }

    #[test]
    fn weeks_start_on_monday_or_saturday() {
        // Thursday 1 January 2026 is in ISO week 1 of 2026, which starts Monday 29 December.
        let iso = bucket_of(d("2026-01-01"), Interval::Week, Calendar::Gregorian);
        assert_eq!(
            (iso.start, iso.end, iso.label.as_str()),
            (d("2025-12-29"), d("2026-01-04"), "2026-W01")
        );
        // Monday 29 December 2025 belongs to week 2026-W01 too; Sunday 28 to 2025-W52.
        assert_eq!(
            bucket_of(d("2025-12-28"), Interval::Week, Calendar::Gregorian).label,
            "2025-W52"
        );
        let persian_week = bucket_of(d("2026-03-21"), Interval::Week, Calendar::Persian);
        assert_eq!(persian_week.start.weekday(), Weekday::Sat);
        assert_eq!(persian_week.start, d("2026-03-21"));
        let friday = bucket_of(d("2026-03-27"), Interval::Week, Calendar::Persian);
        assert_eq!(friday.start, d("2026-03-21"));
        assert_eq!(friday.label, "1405-01-01");
    }

    #[test]
    fn buckets_cover_a_range_exactly_cut_at_its_ends() {
        for calendar in [Calendar::Gregorian, Calendar::Persian] {
            for interval in [
                Interval::Day,
                Interval::Week,
                Interval::Month,
                Interval::Quarter,
                Interval::Year,
            ] {
                let (from, to) = (d("2024-02-10"), d("2026-05-03"));
                let all = buckets(from, to, interval, calendar);
                assert_eq!(all[0].start, from);
                assert_eq!(all.last().unwrap().end, to);
                for pair in all.windows(2) {
                    assert_eq!(pair[0].end.succ_opt(), Some(pair[1].start), "{interval:?} {calendar:?}");
                    assert!(pair[0].label < pair[1].label, "{:?}", pair);
                }
                for b in &all {
                    assert_eq!(bucket_of(b.start, interval, calendar).label, b.label);
                    assert_eq!(bucket_of(b.end, interval, calendar).label, b.label);
                }
            }
        }
        assert_eq!(
            buckets(d("2026-01-31"), d("2026-03-01"), Interval::Month, Calendar::Gregorian).len(),
            3
        );
        assert_eq!(
            start_of_last(d("2026-05-03"), 24, Interval::Month, Calendar::Gregorian),
            d("2024-06-01")
        );
        assert_eq!(
            start_of_last(d("2026-05-03"), 12, Interval::Month, Calendar::Persian),
            d("2025-05-22")
        );
    }
}
