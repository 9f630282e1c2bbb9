use super::*;

fn cmp(column: &str, op: CompareOp, value: Literal) -> Expr {
    Expr::Compare { column: column.into(), op, value }
}

fn eq_int(column: &str, v: i64) -> Expr {
    cmp(column, CompareOp::Eq, Literal::Integer(v))
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}

fn not(a: Expr) -> Expr {
    Expr::Not(Box::new(a))
}

fn ok(input: &str) -> Expr {
    match parse(input) {
        Ok(e) => e,
        Err(e) => panic!("{input:?} failed: {e}"),
    }
}

fn fail(input: &str) -> FilterError {
    match parse(input) {
        Ok(e) => panic!("{input:?} parsed as {e:?}"),
        Err(e) => e,
    }
}

/// Asserts the error position and that the message contains `needle`.
fn fails_at(input: &str, position: usize, needle: &str) {
    let e = fail(input);
    assert_eq!(e.position, position, "{input:?}: {e}");
    assert!(e.message.contains(needle), "{input:?}: message {:?} lacks {needle:?}", e.message);
}

#[test]
fn comparison_operators_and_aliases() {
    let cases: &[(&str, CompareOp)] = &[
        ("=", CompareOp::Eq),
        ("==", CompareOp::Eq),
        ("EQ", CompareOp::Eq),
        ("eq", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<>", CompareOp::Ne),
        ("NE", CompareOp::Ne),
        ("ne", CompareOp::Ne),
        (">", CompareOp::Gt),
        ("GT", CompareOp::Gt),
        ("gt", CompareOp::Gt),
        (">=", CompareOp::Gte),
        ("GTE", CompareOp::Gte),
        ("Gte", CompareOp::Gte),
        ("<", CompareOp::Lt),
        ("LT", CompareOp::Lt),
        ("<=", CompareOp::Lte),
        ("LTE", CompareOp::Lte),
        ("lte", CompareOp::Lte),
    ];
    for (text, op) in cases {
        assert_eq!(ok(&format!("age {text} 5")), cmp("age", *op, Literal::Integer(5)), "{text}");
    }
    // Symbols need no surrounding spaces.
    assert_eq!(ok("age>=5"), cmp("age", CompareOp::Gte, Literal::Integer(5)));
    assert_eq!(ok("age<>5"), cmp("age", CompareOp::Ne, Literal::Integer(5)));
    assert_eq!(ok("age!=-5"), cmp("age", CompareOp::Ne, Literal::Integer(-5)));
}

#[test]
fn value_kinds() {
    assert_eq!(ok("name = 'Bob'"), cmp("name", CompareOp::Eq, Literal::Text("Bob".into())));
    assert_eq!(ok("name = ''"), cmp("name", CompareOp::Eq, Literal::Text(String::new())));
    assert_eq!(ok("name = 'O''Brien'"), cmp("name", CompareOp::Eq, Literal::Text("O'Brien".into())));
    assert_eq!(ok("name = 'Zoë'"), cmp("name", CompareOp::Eq, Literal::Text("Zoë".into())));
    assert_eq!(ok("name = '日本 語'"), cmp("name", CompareOp::Eq, Literal::Text("日本 語".into())));
    assert_eq!(ok("active = true"), cmp("active", CompareOp::Eq, Literal::Bool(true)));
    assert_eq!(ok("active = FALSE"), cmp("active", CompareOp::Eq, Literal::Bool(false)));
    assert_eq!(ok("active = True"), cmp("active", CompareOp::Eq, Literal::Bool(true)));
    // Text keeps everything between the quotes, keywords and operators included.
    assert_eq!(
        ok("note = 'a AND b OR (c) = ''d'''"),
        cmp("note", CompareOp::Eq, Literal::Text("a AND b OR (c) = 'd'".into()))
    );
}

#[test]
fn numbers() {
    let n = |t: &str| match ok(&format!("x = {t}")) {
        Expr::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(n("0"), Literal::Integer(0));
    assert_eq!(n("42"), Literal::Integer(42));
    assert_eq!(n("-42"), Literal::Integer(-42));
    assert_eq!(n("+42"), Literal::Integer(42));
    assert_eq!(n("9223372036854775807"), Literal::Integer(i64::MAX));
    assert_eq!(n("-9223372036854775808"), Literal::Integer(i64::MIN));
    assert_eq!(n("9223372036854775808"), Literal::BigNumber("9223372036854775808".into()));
    assert_eq!(n("-99999999999999999999"), Literal::BigNumber("-99999999999999999999".into()));
    assert_eq!(n("+99999999999999999999"), Literal::BigNumber("99999999999999999999".into()));
    assert_eq!(n("1.5"), Literal::Number(1.5));
    assert_eq!(n("-0.25"), Literal::Number(-0.25));
    assert_eq!(n(".5"), Literal::Number(0.5));
    assert_eq!(n("-.5"), Literal::Number(-0.5));
    assert_eq!(n("5."), Literal::Number(5.0));
    assert_eq!(n("0.1"), Literal::Number(0.1));
    assert_eq!(n("19.99"), Literal::Number(19.99));
    assert_eq!(n("1e3"), Literal::Number(1000.0));
    assert_eq!(n("1.5E-3"), Literal::Number(0.0015));
    assert_eq!(n("-2.5e+2"), Literal::Number(-250.0));
    assert_eq!(n("100.000"), Literal::Number(100.0));
    assert_eq!(n("0.0"), Literal::Number(0.0));
    // Decimals f64 would round keep their text.
    assert_eq!(n("0.12345678901234567890"), Literal::BigNumber("0.12345678901234567890".into()));
    assert_eq!(n("12345678901234567.5"), Literal::BigNumber("12345678901234567.5".into()));
    assert_eq!(n("1e400"), Literal::BigNumber("1e400".into()));
    assert_eq!(n("1e-400"), Literal::BigNumber("1e-400".into()));
    assert_eq!(n("1e99999999999999999999"), Literal::BigNumber("1e99999999999999999999".into()));
}

#[test]
fn in_lists() {
    assert_eq!(
        ok("id IN (1, 2, 3)"),
        Expr::In {
            column: "id".into(),
            values: vec![Literal::Integer(1), Literal::Integer(2), Literal::Integer(3)],
            negated: false
        }
    );
    assert_eq!(
        ok("status not in ('a','b')"),
        Expr::In {
            column: "status".into(),
            values: vec![Literal::Text("a".into()), Literal::Text("b".into())],
            negated: true
        }
    );
    assert_eq!(ok("x in (1)"), Expr::In { column: "x".into(), values: vec![Literal::Integer(1)], negated: false });
}

#[test]
fn like_and_text_matches() {
    assert_eq!(ok("name LIKE 'J%'"), Expr::Like { column: "name".into(), pattern: "J%".into(), negated: false });
    assert_eq!(ok("name not like '%_x'"), Expr::Like { column: "name".into(), pattern: "%_x".into(), negated: true });
    assert_eq!(
        ok("name CONTAINS '50%'"),
        Expr::Text { column: "name".into(), mode: TextMatch::Contains, text: "50%".into() }
    );
    assert_eq!(
        ok("name starts with 'Jo'"),
        Expr::Text { column: "name".into(), mode: TextMatch::StartsWith, text: "Jo".into() }
    );
    assert_eq!(
        ok("name ENDS   WITH 'son'"),
        Expr::Text { column: "name".into(), mode: TextMatch::EndsWith, text: "son".into() }
    );
    assert_eq!(
        ok("name NOT CONTAINS 'x'"),
        not(Expr::Text { column: "name".into(), mode: TextMatch::Contains, text: "x".into() })
    );
    assert_eq!(
        ok("name NOT STARTS WITH 'x'"),
        not(Expr::Text { column: "name".into(), mode: TextMatch::StartsWith, text: "x".into() })
    );
    assert_eq!(
        ok("name NOT ENDS WITH 'x'"),
        not(Expr::Text { column: "name".into(), mode: TextMatch::EndsWith, text: "x".into() })
    );
}

#[test]
fn null_checks() {
    assert_eq!(ok("email IS NULL"), Expr::IsNull { column: "email".into(), negated: false });
    assert_eq!(ok("email is not null"), Expr::IsNull { column: "email".into(), negated: true });
}

#[test]
fn between() {
    assert_eq!(
        ok("age BETWEEN 18 AND 65"),
        Expr::Between { column: "age".into(), low: Literal::Integer(18), high: Literal::Integer(65), negated: false }
    );
    assert_eq!(
        ok("d not between '2024-01-01' and '2024-12-31'"),
        Expr::Between {
            column: "d".into(),
            low: Literal::Text("2024-01-01".into()),
            high: Literal::Text("2024-12-31".into()),
            negated: true
        }
    );
    // BETWEEN's AND binds to BETWEEN, the next AND joins conditions.
    assert_eq!(
        ok("a BETWEEN 1 AND 2 AND b = 3"),
        and(
            Expr::Between { column: "a".into(), low: Literal::Integer(1), high: Literal::Integer(2), negated: false },
            eq_int("b", 3)
        )
    );
}

#[test]
fn logic_and_precedence() {
    assert_eq!(ok("a = 1 AND b = 2"), and(eq_int("a", 1), eq_int("b", 2)));
    assert_eq!(ok("a = 1 && b = 2"), and(eq_int("a", 1), eq_int("b", 2)));
    assert_eq!(ok("a = 1 and b = 2"), and(eq_int("a", 1), eq_int("b", 2)));
    assert_eq!(ok("a = 1 OR b = 2"), or(eq_int("a", 1), eq_int("b", 2)));
    assert_eq!(ok("a = 1 || b = 2"), or(eq_int("a", 1), eq_int("b", 2)));
    assert_eq!(ok("a=1||b=2"), or(eq_int("a", 1), eq_int("b", 2)));
    // AND binds tighter than OR.
    assert_eq!(ok("a = 1 OR b = 2 AND c = 3"), or(eq_int("a", 1), and(eq_int("b", 2), eq_int("c", 3))));
    assert_eq!(ok("a = 1 AND b = 2 OR c = 3"), or(and(eq_int("a", 1), eq_int("b", 2)), eq_int("c", 3)));
    // Left-associative.
    assert_eq!(ok("a = 1 AND b = 2 AND c = 3"), and(and(eq_int("a", 1), eq_int("b", 2)), eq_int("c", 3)));
    assert_eq!(ok("a = 1 OR b = 2 OR c = 3"), or(or(eq_int("a", 1), eq_int("b", 2)), eq_int("c", 3)));
    // Parentheses override.
    assert_eq!(ok("(a = 1 OR b = 2) AND c = 3"), and(or(eq_int("a", 1), eq_int("b", 2)), eq_int("c", 3)));
    assert_eq!(
        ok("(status = 'active') AND (total > 100)"),
        and(
            cmp("status", CompareOp::Eq, Literal::Text("active".into())),
            cmp("total", CompareOp::Gt, Literal::Integer(100))
        )
    );
    assert_eq!(ok("((a = 1))"), eq_int("a", 1));
}

#[test]
fn not_prefix() {
    assert_eq!(ok("NOT a = 1"), not(eq_int("a", 1)));
    assert_eq!(ok("!a = 1"), not(eq_int("a", 1)));
    assert_eq!(ok("not (a = 1 OR b = 2)"), not(or(eq_int("a", 1), eq_int("b", 2))));
    // NOT binds tighter than AND.
    assert_eq!(ok("NOT a = 1 AND b = 2"), and(not(eq_int("a", 1)), eq_int("b", 2)));
    assert_eq!(ok("NOT NOT a = 1"), not(not(eq_int("a", 1))));
    assert_eq!(ok("! (a = 1)"), not(eq_int("a", 1)));
}

#[test]
fn column_names() {
    assert_eq!(ok("\"order date\" = 1"), eq_int("order date", 1));
    assert_eq!(ok("`order date` = 1"), eq_int("order date", 1));
    assert_eq!(ok("[order date] = 1"), eq_int("order date", 1));
    assert_eq!(ok("\"a\"\"b\" = 1"), eq_int("a\"b", 1));
    assert_eq!(ok("`a``b` = 1"), eq_int("a`b", 1));
    assert_eq!(ok("[a]]b] = 1"), eq_int("a]b", 1));
    assert_eq!(ok("_x$1 = 1"), eq_int("_x$1", 1));
    assert_eq!(ok("Größe = 1"), eq_int("Größe", 1));
    assert_eq!(ok("\"NOT\" = 1"), eq_int("NOT", 1));
    // Keywords other than AND/OR/NOT work as bare column names.
    assert_eq!(ok("status = 1"), eq_int("status", 1));
    assert_eq!(ok("like LIKE 'x'").columns(), vec!["like"]);
    assert_eq!(ok("\"in\" IN (1)").columns(), vec!["in"]);
}

#[test]
fn columns_lists_every_column() {
    let e = ok("a = 1 AND (b IN (1) OR NOT c LIKE 'x') AND d IS NULL OR e BETWEEN 1 AND 2 \
                OR f CONTAINS 'y' OR a > 2");
    assert_eq!(e.columns(), vec!["a", "b", "c", "d", "e", "f", "a"]);
}

#[test]
fn error_empty() {
    fails_at("", 0, "filter is empty");
    fails_at("   \t\n", 0, "filter is empty");
    assert_eq!(fail("").to_string(), "filter error at position 0: filter is empty");
}

#[test]
fn error_missing_value() {
    let e = fail("name =");
    assert_eq!(e.position, 6);
    assert_eq!(
        e.to_string(),
        "filter error at position 6: expected a value after '=' (at position 5): a 'quoted \
         string', a number, true, false or null; found end of input"
    );
    fails_at("age > AND", 6, "expected a value after '>'");
}

#[test]
fn error_missing_operator() {
    let e = fail("name 'Bob'");
    assert_eq!(e.position, 5);
    assert!(e.message.starts_with(
        "expected an operator (=, !=, >, >=, <, <=, IN, NOT IN, LIKE, CONTAINS, STARTS WITH, \
         ENDS WITH, IS NULL, BETWEEN) after column \"name\", found string 'Bob'"
    ));
    fails_at("name", 4, "after column \"name\", found end of input");
    fails_at("name EQUALS 1", 5, "after column \"name\", found 'EQUALS'");
    fails_at("\"my col\" ~ 1", 9, "unexpected character '~'");
}

#[test]
fn error_null_comparison() {
    fails_at("email = null", 8, "use IS NULL instead");
    fails_at("email != NULL", 9, "use IS NOT NULL instead");
    fails_at("email > null", 8, "IS NULL or IS NOT NULL");
    fails_at("x IN (1, null)", 9, "null is not allowed in an IN list");
    fails_at("x BETWEEN null AND 2", 10, "null is not allowed in BETWEEN");
}

#[test]
fn error_unquoted_or_double_quoted_value() {
    fails_at("status = active", 9, "Text values go in single quotes: 'active'");
    fails_at("status = \"active\"", 9, "write text values in single quotes: 'active'");
    fails_at("name LIKE \"J%\"", 10, "use single quotes: 'J%'");
    fails_at("name LIKE 5", 10, "expected a 'quoted string' after LIKE");
    fails_at("name CONTAINS x", 14, "expected a 'quoted string' after CONTAINS");
}

#[test]
fn error_strings_and_identifiers() {
    fails_at("name = 'abc", 7, "unterminated string starting at position 7");
    fails_at("name = 'it''s", 7, "unterminated string starting at position 7");
    fails_at("\"name = 1", 0, "unterminated quoted column name starting at position 0");
    fails_at("[name = 1", 0, "close it with ]");
    fails_at("\"\" = 1", 0, "empty quoted column name");
    fails_at("'name' = 1", 0, "expected a column name, found string 'name'");
    // Positions count characters, not bytes.
    fails_at("name = 'Zoë' AND 'x", 17, "unterminated string starting at position 17");
    fails_at("'ë' = 1", 0, "expected a column name");
}

#[test]
fn error_parentheses() {
    fails_at("a = 1)", 5, "unexpected ')'");
    fails_at(")", 0, "unexpected ')'");
    fails_at("(a = 1", 6, "expected ')' to close '(' at position 0, found end of input");
    fails_at("a = 1 AND (b = 2", 16, "expected ')' to close '(' at position 10");
    fails_at("(a = 1 b = 2)", 7, "expected ')' to close '(' at position 0 (or AND / OR");
    fails_at("()", 1, "empty parentheses");
    fails_at("a = (1)", 4, "expected a value after '='");
}

#[test]
fn error_logic() {
    fails_at("a = 1 b = 2", 6, "expected AND, OR or the end of the filter, found 'b'");
    fails_at("a = 1 AND", 9, "found end of input");
    fails_at("a = 1 AND OR b = 2", 10, "found keyword OR");
    fails_at("AND = 1", 0, "must be quoted: \"AND\"");
    fails_at("a = 1 & b = 2", 6, "use AND or &&");
    fails_at("a = 1 | b = 2", 6, "use OR or ||");
    fails_at("NOT", 3, "found end of input");
    fails_at("a = 1; DROP TABLE x", 5, "unexpected character ';'");
}

#[test]
fn error_keyword_operators() {
    fails_at("x IN 1, 2", 5, "expected '(' after IN (at position 2)");
    fails_at("x IN ()", 6, "the IN list is empty");
    fails_at("x NOT IN ()", 10, "the NOT IN list is empty");
    fails_at("x IN (1 2)", 8, "expected ',' or ')' in the IN list opened at position 5");
    fails_at("x IN (1,", 8, "found end of input");
    fails_at("x IN (1, 2", 10, "expected ',' or ')'");
    fails_at("x IS 5", 5, "expected NULL after IS");
    fails_at("x IS NOT 5", 9, "expected NULL after IS NOT");
    fails_at("x NOT = 5", 6, "expected IN, LIKE, BETWEEN, CONTAINS, STARTS WITH or ENDS WITH after NOT");
    fails_at("x STARTS 'a'", 9, "expected WITH after STARTS");
    fails_at("x ENDS BY 'a'", 7, "expected WITH after ENDS");
    fails_at("x BETWEEN 1 OR 2", 12, "expected AND in BETWEEN");
    fails_at("x BETWEEN 1 AND", 15, "expected a value after AND of BETWEEN");
}

#[test]
fn error_numbers() {
    fails_at("x = 5abc", 4, "invalid number '5abc'");
    fails_at("x = 1.2.3", 4, "invalid number '1.2.3'");
    fails_at("x = 1e", 4, "the exponent has no digits");
    fails_at("x = 1e+", 4, "the exponent has no digits");
    fails_at("x = -", 4, "unexpected character '-'");
    fails_at("x = - 5", 4, "unexpected character '-'");
}

#[test]
fn depth_cap() {
    let deep = |n: usize| format!("{}a = 1{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(ok(&deep(MAX_DEPTH)), eq_int("a", 1));
    let e = fail(&deep(MAX_DEPTH + 1));
    assert_eq!(e.position, MAX_DEPTH);
    assert!(e.message.contains("nested too deeply"), "{e}");
    // Huge inputs fail cleanly, without exhausting the stack.
    assert!(fail(&deep(100_000)).message.contains("nested too deeply"));
    assert!(fail(&format!("{}a = 1", "NOT ".repeat(100_000))).message.contains("nested too deeply"));
    assert!(fail(&format!("{}a = 1", "!".repeat(100_000))).message.contains("nested too deeply"));
    assert!(ok(&format!("{}a = 1", "NOT ".repeat(MAX_DEPTH))).columns() == vec!["a"]);
}

#[test]
fn condition_cap() {
    let many = |n: usize| vec!["a = 1"; n].join(" AND ");
    assert_eq!(ok(&many(MAX_CONDITIONS)).columns().len(), MAX_CONDITIONS);
    let e = fail(&many(MAX_CONDITIONS + 1));
    assert!(e.message.contains("too many conditions"), "{e}");
    assert!(fail(&vec!["a = 1"; 100_000].join(" OR ")).message.contains("too many conditions"));
}

#[test]
fn never_panics_on_odd_input() {
    let inputs = [
        "\u{0}",
        "'",
        "\"",
        "`",
        "[",
        "]",
        "(",
        "((((",
        "))))",
        ",",
        "=",
        "!",
        "!=",
        "<>",
        "a",
        "a =",
        "a IN",
        "a IN (",
        "a NOT",
        "a IS",
        "a IS NOT",
        "a BETWEEN",
        "a BETWEEN 1",
        "a STARTS",
        "a ENDS WITH",
        "a CONTAINS",
        "a LIKE",
        "é",
        "a = 'é",
        "a = é",
        "🦀 = 1",
        "a = '🦀'",
        "a = 1 AND",
        "a = 1 OR (",
        "NOT NOT",
        "a = +",
        "a = .",
        "a = 1e5e5",
        "a = 0x10",
        "a IN (1,,2)",
        "a = 1 )(",
        "\"a\" \"b\"",
        "a = 'x' 'y'",
    ];
    for input in inputs {
        if let Err(e) = parse(input) {
            assert!(e.position <= input.chars().count(), "{input:?}: {e}");
            assert!(!e.message.is_empty());
        }
    }
    assert_eq!(ok("a = '🦀'"), cmp("a", CompareOp::Eq, Literal::Text("🦀".into())));
}

#[test]
fn error_trait() {
    let e: Box<dyn std::error::Error> = Box::new(fail("a ="));
    assert!(e.to_string().starts_with("filter error at position 3: "));
}
