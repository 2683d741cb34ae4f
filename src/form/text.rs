//! Text normalisation for search (Data rules, "Persian input"): Arabic ي and ك read as Persian
//! ی and ک, the zero-width non-joiner is ignored, Persian and Arabic-Indic digits read as ASCII
//! digits, case is folded and runs of white space count as one space.

/// A Persian or Arabic-Indic digit as its ASCII digit; any other character as it is.
pub fn ascii_digit(c: char) -> char {
    match c {
        '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10).unwrap_or(c),
        '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10).unwrap_or(c),
        c => c,
    }
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
