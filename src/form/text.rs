//! Text normalisation (Data rules, "Persian input"). Search: Arabic ي and ك read as Persian
//! ی and ک, the zero-width non-joiner is ignored, Persian and Arabic-Indic digits read as ASCII
//! digits, case is folded and runs of white space count as one space. Numbers, phones and
//! dates typed with Persian or Arabic-Indic digits read as the same numbers, phones and dates.
use chrono::NaiveDate;

/// A Persian or Arabic-Indic digit as its ASCII digit; any other character as it is.
pub fn ascii_digit(c: char) -> char {
    match c {
        '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10).unwrap_or(c),
        '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10).unwrap_or(c),
        c => c,
    }
}

/// A phone number as stored: Persian and Arabic-Indic digits read as digits, spaces, dashes,
/// dots and parentheses dropped, an optional leading `+`, then 7 to 15 digits.
pub fn phone(value: &str) -> Option<String> {
    let mut out = String::new();
    for (i, c) in value.trim().chars().map(ascii_digit).enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let digits = out.trim_start_matches('+').len();
    (7..=15).contains(&digits).then_some(out)
}

/// An email address, trimmed and lower-cased; `None` when it is not one. Deliberately simple:
/// one `@`, a dot in the domain, no spaces, at most 254 characters.
pub fn email(value: &str) -> Option<String> {
    let email = value.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    valid.then_some(email)
}

/// A number typed by a person: ASCII, Persian or Arabic-Indic digits, an optional sign, `.` or
/// the Arabic decimal separator `٫`, and Arabic thousands separators `٬`. No exponents, no
/// infinities.
pub fn number(value: &str) -> Option<f64> {
    let mut out = String::new();
    for (i, c) in value.trim().chars().map(ascii_digit).enumerate() {
        match c {
            '0'..='9' => out.push(c),
            '.' | '\u{066b}' => out.push('.'),
            '\u{066c}' => {}
            '-' | '\u{2212}' if i == 0 => out.push('-'),
            '+' if i == 0 => {}
            _ => return None,
        }
    }
    if !out.bytes().any(|b| b.is_ascii_digit()) || out.matches('.').count() > 1 {
        return None;
    }
    out.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A Gregorian date typed as `YYYY-MM-DD` or `YYYY/MM/DD`, with any of the three digit sets.
pub fn date(value: &str) -> Option<NaiveDate> {
    let ascii: String = value.trim().chars().map(ascii_digit).collect();
    let parts: Vec<&str> = ascii.split(['-', '/']).collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    if year.len() != 4 || !(1..=2).contains(&month.len()) || !(1..=2).contains(&day.len()) {
        return None;
    }
    let digits = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    NaiveDate::from_ymd_opt(i32::try_from(digits(year)?).ok()?, digits(month)?, digits(day)?)
}

/// The form of `text` that searches compare.
pub fn normalize_for_search(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.chars() {
        let c = match c {
            'ي' | 'ى' => 'ی',
            'ك' => 'ک',
            '\u{200c}' | '\u{200d}' | '\u{200e}' | '\u{200f}' | '\u{feff}' => continue,
            c => ascii_digit(c),
        };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        out.extend(c.to_lowercase());
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_read_every_digit_set() {
        assert_eq!(number("۱۲٫۵"), Some(12.5));
        assert_eq!(number(" ٤٥ "), Some(45.0));
        assert_eq!(number("-3.25"), Some(-3.25));
        assert_eq!(number("۱٬۲۰۰"), Some(1200.0));
        for bad in ["", "-", "1.2.3", "1e5", "inf", "NaN", "12a", "1 2"] {
            assert_eq!(number(bad), None, "{bad}");
        }
        let day = NaiveDate::from_ymd_opt(2026, 3, 1);
        assert_eq!(date("۲۰۲۶-۰۳-۰۱"), day);
        assert_eq!(date("٢٠٢٦/٣/١"), day);
        assert_eq!(date("2026-03-01"), day);
        for bad in ["2026-02-30", "26-03-01", "2026-03", "2026-03-01T00:00", "abcd-01-01"] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn phones_read_persian_digits_and_separators() {
        assert_eq!(phone("۰۹۱۲ ۳۴۵ ۶۷۸۹").as_deref(), Some("09123456789"));
        assert_eq!(phone("+98 (912) 345-6789").as_deref(), Some("+989123456789"));
        assert_eq!(phone("٠٩١٢٣٤٥٦٧٨٩").as_deref(), Some("09123456789"));
        for bad in ["12345", "0912-abc-6789", "++989123456789", "1234567890123456"] {
            assert_eq!(phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn arabic_letters_and_zwnj_match_their_persian_forms() {
        assert_eq!(normalize_for_search("مشتري"), normalize_for_search("مشتری"));
        assert_eq!(normalize_for_search("كيفيت"), normalize_for_search("کیفیت"));
        assert_eq!(normalize_for_search("نظرسنجی‌ها"), normalize_for_search("نظرسنجیها"));
        assert_eq!(normalize_for_search("  NPS   Survey "), "nps survey");
        assert_eq!(normalize_for_search("سفارش ۱۲۳ و ٤٥"), "سفارش 123 و 45");
    }

    #[test]
    fn normalisation_is_idempotent() {
        for text in ["Hello Wörld", "كيك‌ها ۱", "", "   "] {
            let once = normalize_for_search(text);
            assert_eq!(normalize_for_search(&once), once);
        }
    }
}
