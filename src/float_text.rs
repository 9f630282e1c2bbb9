//! Decimal text to `f64`, as `str::parse::<f64>` reads it (same grammar, same correctly rounded
//! value), without linking core's decimal-to-float tables into the wasm.
//!
//! Those tables (powers of five as 128-bit integers, 31 KB, about 20 KiB of the gzip bundle) are
//! the largest single piece of data the bundle would carry. In the Worker the conversion is done
//! by the JavaScript engine's own `parseFloat`, which rounds correctly too; the text is checked
//! here first, so what `parseFloat` would forgive (`1.5abc`, `0x10`, spaces) is refused exactly as
//! Rust refuses it. Natively (`cargo test`) the standard library does the conversion.

/// `text.parse::<f64>().ok()`, as Rust defines it: an optional sign, then `inf`, `infinity` or
/// `nan` (any case), or digits with an optional `.` and fraction (at least one digit in all) and an
/// optional exponent (`e`/`E`, optional sign, digits).
pub fn parse_f64(text: &str) -> Option<f64> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if unsigned.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    is_decimal(unsigned).then(|| convert(text))
}

/// Digits, an optional `.` and digits (at least one digit in all), an optional exponent.
fn is_decimal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let integer = digits(0);
    let mut at = integer;
    let mut fraction = 0;
    if bytes.get(at) == Some(&b'.') {
        fraction = digits(at + 1);
        at += 1 + fraction;
    }
    if integer + fraction == 0 {
        return false;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

#[cfg(target_arch = "wasm32")]
fn convert(checked: &str) -> f64 {
    js_sys::Number::parse_float(checked)
}

#[cfg(not(target_arch = "wasm32"))]
fn convert(checked: &str) -> f64 {
    checked.parse().expect("checked by is_decimal")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grammar is Rust's own: every case agrees with `str::parse`, accepted or not.
    #[test]
    fn accepts_and_refuses_exactly_what_str_parse_does() {
        let cases = [
            "0", "-0", "+0", "1", "1.", ".5", "-.5", "+.5e3", "1e5", "1E5", "1e+5", "1e-5", "007.250", "1.5e308",
            "1e400", "-1e400", "1e-400", "4.9e-324", "0.30000000000000004", "123456789012345678901234567890",
            "2.2250738585072011e-308", "inf", "-INF", "+Infinity", "infinity", "NaN", "nan", "-nan", "", "-", "+",
            ".", "-.", "e5", ".e5", "1e", "1e+", "1e-", "1.5abc", "0x10", " 1", "1 ", "1_000", "1..2", "1.2.3",
            "1e5.5", "++1", "--1", "in", "infinit", "nana", "١", "1\u{0}",
        ];
        for case in cases {
            let ours = parse_f64(case);
            let std = case.parse::<f64>().ok();
            match (ours, std) {
                (Some(a), Some(b)) if a.is_nan() && b.is_nan() => {}
                (Some(a), Some(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{case:?}"),
                (a, b) => assert_eq!(a, b, "{case:?}"),
            }
        }
    }
}
