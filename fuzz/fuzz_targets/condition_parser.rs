//! The condition parser on arbitrary bytes: it never panics, and whatever it accepts prints
//! to a canonical text that parses back to the same tree and prints the same again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nazar::logic::expr::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = parse(text) {
        let canonical = expr.to_string();
        let again = parse(&canonical).expect("a canonical text parses");
        assert_eq!(again, expr, "{text:?} → {canonical:?}");
        assert_eq!(again.to_string(), canonical);
    }
});
