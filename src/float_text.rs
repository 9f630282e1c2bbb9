//! Text to `f64` as `str::parse::<f64>` reads it, without core's parser in the worker: its tables
//! and slow path are 13.6 KiB of the gzip bundle. The syntax is checked here; in the worker,
//! JavaScript's `parseFloat` then converts the checked text (correctly rounded, as core's parser:
//! the same value for every input); natively, core's parser does.

/// `text.parse::<f64>().ok()`: `[+-]` then digits with at most one `.` (a digit on one side at
/// least) and an optional exponent (`e`/`E`, sign, digits), or `inf`, `infinity`, `nan` in any
/// case. No white space.
pub fn parse(text: &str) -> Option<f64> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let special = if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        Some(f64::INFINITY)
    } else if body.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        None
    };
    if let Some(value) = special {
        return Some(if negative { -value } else { value });
    }
    if !is_decimal(body) {
        return None;
    }
    #[cfg(target_arch = "wasm32")]
    return Some(js_sys::parse_float(text));
    #[cfg(not(target_arch = "wasm32"))]
    return text.parse().ok();
}

/// `digits[.digits][e[+-]digits]` with a digit before or after the point.
fn is_decimal(body: &str) -> bool {
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_core(text: &str) {
        let core = text.parse::<f64>().ok();
        let ours = parse(text);
        assert_eq!(ours.map(f64::to_bits), core.map(f64::to_bits), "{text:?}");
    }

    #[rustfmt::skip]
    const TEXTS: &[&str] = &[
        "0", "-0", "+0", "1", "1.", ".5", "-.5", "+1.5", "1e5", "1E5", "1e+5", "1e-5", "1.5e-7", "00012.3400",
        "1e400", "-1e400", "1e-400", "0.1", "24.99", "9007199254740993", "4.9406564584124654e-324",
        "2.2250738585072011e-308", "1.7976931348623157e308", "123456789012345678901234567890.5", "inf", "-inf",
        "+Infinity", "INF", "NaN", "nan", "-nan", "", "-", "+", ".", "-.", "e5", ".e5", "1e", "1e+", "1e-",
        "1.2.3", "1e5e5", "1 ", " 1", "1_000", "0x10", "1,5", "infinit", "infinityy", "nanx", "--1", "+-1",
        "1e5.5", "١", "1é",
    ];

    #[test]
    fn accepts_and_refuses_what_core_does() {
        for text in TEXTS {
            same_as_core(text);
        }
        assert!(parse("NaN").unwrap().is_nan());
    }

    #[test]
    fn agrees_with_core_on_generated_text() {
        // Every string of up to four characters over the characters that matter.
        let alphabet = ['0', '1', '9', '.', 'e', 'E', '+', '-', 'i', 'n', 'f', ' '];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> =
                texts.iter().flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}"))).collect();
            for text in &longer {
                same_as_core(text);
            }
            texts = longer;
        }
    }
}
