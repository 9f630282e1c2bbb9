//! Keeps hidden names out of error messages. A database error may name any relation or constraint
//! it touched (`Key (customer_id)=(9) is not present in table "customers"`), so every tool error
//! passes through [`scrub_hidden_names`] before a client sees it.

/// What a hidden name is replaced with.
pub const NEUTRAL: &str = "[hidden]";

/// SQLite reads every non-ASCII character as part of an unquoted name (`kund€n`), so they join
/// tokens here too.
fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

/// Case folding as the engines fold names: ASCII only (SQLite compares names ignoring ASCII case;
/// PostgreSQL lower-cases only ASCII letters of unquoted names in UTF-8 databases), so a name that
/// differs from a hidden one in a non-ASCII letter is another name to them. One-to-one, so
/// positions in the folded text are positions in the original.
fn fold(c: char) -> char {
    c.to_ascii_lowercase()
}

/// The forms of a hidden name an engine may print, unquoted (tokens are compared without their
/// quotes): the name itself and, for `schema.table`, the bare table (PostgreSQL often names a
/// relation without its schema).
fn needles(hidden: &[String]) -> Vec<Vec<char>> {
    let mut out: Vec<Vec<char>> = Vec::new();
    for name in hidden {
        let forms = match crate::schema::split_qualified_name(name) {
            Some((schema, bare)) => vec![format!("{schema}.{bare}"), bare],
            None => vec![crate::schema::object_name(name)],
        };
        for form in forms {
            let folded: Vec<char> = form.chars().map(fold).collect();
            if !folded.is_empty() && !out.contains(&folded) {
                out.push(folded);
            }
        }
    }
    // Longest first, so `reporting.secret` goes as a whole before `secret` is looked for.
    crate::sort::sort_by_key(&mut out, |n| std::cmp::Reverse(n.len()));
    out
}

/// Replaces every identifier token of `text` that contains a hidden name (between word
/// boundaries, where `_` counts as one so constraint names like `customers_email_key` go too)
/// with [`NEUTRAL`]. A token is a double-quoted identifier (quotes included), or a run of
/// identifier characters and dots (`public.customers`).
pub fn scrub_hidden_names(text: &str, hidden: &[String]) -> String {
    let needles = needles(hidden);
    if needles.is_empty() {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().copied().map(fold).collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let (start, end) = token_at(&chars, i);
        if token_mentions(&folded[start..end], &needles) {
            out.push_str(NEUTRAL);
        } else {
            out.extend(&chars[start..end]);
        }
        i = end;
    }
    out
}

/// The token starting at `i`: a quoted identifier, a run of identifier characters and dots
/// (quoted parts joined by dots included), or the single character at `i`.
fn token_at(chars: &[char], i: usize) -> (usize, usize) {
    let mut end = i;
    loop {
        let part_start = end;
        if chars.get(end) == Some(&'"') {
            end += 1;
            while end < chars.len() {
                if chars[end] == '"' {
                    if chars.get(end + 1) == Some(&'"') {
                        end += 2;
                        continue;
                    }
                    end += 1;
                    break;
                }
                end += 1;
            }
        } else {
            while end < chars.len() && is_ident_char(chars[end]) {
                end += 1;
            }
        }
        // Join `a.b`, `"a"."b"`, `a."b"` into one token.
        if end > part_start && chars.get(end) == Some(&'.') {
            match chars.get(end + 1) {
                Some(&c) if c == '"' || is_ident_char(c) => {
                    end += 1;
                    continue;
                }
                _ => {}
            }
        }
        return (i, end.max(i + 1).min(chars.len()));
    }
}

/// Whether a token contains a hidden name with no letter or digit right before or after it.
/// Quotes around parts are ignored, so `"public"."customers"` mentions `public.customers`.
fn token_mentions(token: &[char], needles: &[Vec<char>]) -> bool {
    let plain: Vec<char> = token.iter().copied().filter(|&c| c != '"').collect();
    needles.iter().any(|needle| {
        plain.windows(needle.len()).enumerate().any(|(at, window)| {
            window == needle.as_slice()
                && (at == 0 || !plain[at - 1].is_alphanumeric())
                && plain.get(at + needle.len()).is_none_or(|c| !c.is_alphanumeric())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scrubs_quoted_bare_and_qualified_names() {
        let h = hidden(&["customers"]);
        assert_eq!(
            scrub_hidden_names(
                r#"insert or update on table "orders" violates foreign key constraint "orders_customer_id_fkey" (Key (customer_id)=(999) is not present in table "customers".) (code 23503)"#,
                &h
            ),
            r#"insert or update on table "orders" violates foreign key constraint "orders_customer_id_fkey" (Key (customer_id)=(999) is not present in table [hidden].) (code 23503)"#
        );
        assert_eq!(scrub_hidden_names("no such table: customers", &h), "no such table: [hidden]");
        assert_eq!(scrub_hidden_names("relation public.customers x", &h), "relation [hidden] x");
        assert_eq!(scrub_hidden_names(r#"relation "public"."customers" x"#, &h), "relation [hidden] x");
        assert_eq!(scrub_hidden_names("CUSTOMERS and Customers", &h), "[hidden] and [hidden]");
    }

    #[test]
    fn scrubs_constraint_and_index_names_that_contain_a_hidden_name() {
        let h = hidden(&["customers"]);
        assert_eq!(
            scrub_hidden_names(
                r#"duplicate key value violates unique constraint "customers_email_key". Hint: see fk_customers_1"#,
                &h
            ),
            "duplicate key value violates unique constraint [hidden]. Hint: see [hidden]"
        );
        // Words that merely share letters stay.
        assert_eq!(scrub_hidden_names("customer_id mycustomers customersx", &h), "customer_id mycustomers customersx");
    }

    #[test]
    fn scrubs_schema_qualified_hidden_names_in_every_form() {
        let h = hidden(&["reporting.secret_sales"]);
        assert_eq!(
            scrub_hidden_names(
                r#"relation "reporting.secret_sales" and "secret_sales" and reporting.secret_sales"#,
                &h
            ),
            "relation [hidden] and [hidden] and [hidden]"
        );
        assert_eq!(scrub_hidden_names("reporting.daily_sales", &h), "reporting.daily_sales");
    }

    #[test]
    fn scrubs_names_given_in_their_quoted_display_form() {
        let h = hidden(&["\"we.ird\".\"t.x\"", "\"pub.lic\""]);
        assert_eq!(
            scrub_hidden_names(r#"relation "we.ird.t.x" and "t.x" and "we.ird"."t.x""#, &h),
            "relation [hidden] and [hidden] and [hidden]"
        );
        assert_eq!(scrub_hidden_names(r#"table "pub.lic" stays hidden"#, &h), "table [hidden] stays hidden");
    }

    #[test]
    fn handles_unicode_names_spaces_and_odd_input() {
        let h = hidden(&["Kündigungen", "sp ace"]);
        assert_eq!(scrub_hidden_names(r#"table "KüNDIGUNGEN" ok"#, &h), "table [hidden] ok");
        // Another name to both engines (they fold ASCII only): no hidden name is printed here.
        assert_eq!(scrub_hidden_names(r#"table "KÜNDIGUNGEN" ok"#, &h), r#"table "KÜNDIGUNGEN" ok"#);
        assert_eq!(scrub_hidden_names(r#"table "sp ace" and sp ace"#, &h), "table [hidden] and sp ace");
        assert_eq!(scrub_hidden_names(r#"unterminated "sp ace"#, &h), "unterminated [hidden]");
        assert_eq!(scrub_hidden_names("", &h), "");
        assert_eq!(scrub_hidden_names("a.", &h), "a.");
        assert_eq!(scrub_hidden_names("ß ǅ İ", &h), "ß ǅ İ");
        let symbols = hidden(&["kund€n"]);
        assert_eq!(scrub_hidden_names("no such table: kund€n", &symbols), "no such table: [hidden]");
        assert_eq!(scrub_hidden_names("FOREIGN KEY on “kund€n”", &symbols), "FOREIGN KEY on [hidden]");
        assert_eq!(scrub_hidden_names("anything", &[]), "anything");
    }
}
