//! Recursive-descent parser over the tokens: OR < AND < NOT < primary.

use super::lexer::{Tok, Token};
use super::{CompareOp, Expr, FilterError, Literal, TextMatch, MAX_CONDITIONS, MAX_DEPTH};

const OPERATORS: &str = "=, !=, >, >=, <, <=, IN, NOT IN, LIKE, CONTAINS, STARTS WITH, ENDS WITH, IS NULL, BETWEEN";

const VALUE_KINDS: &str = "a 'quoted string', a number, true, false or null";

pub(crate) struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    conditions: usize,
}

fn err(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into() }
}

impl Parser {
    pub(crate) fn new(tokens: Vec<Token>) -> Self {
        Parser { tokens, at: 0, depth: 0, conditions: 0 }
    }

    fn peek(&self) -> &Token {
        // The lexer always ends the list with `End`, and `advance` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn is_keyword(&self, kw: &str) -> bool {
        is_word(&self.peek().tok, kw)
    }

    /// Parses the whole input; the caller has checked it is not empty.
    pub(crate) fn parse_filter(&mut self) -> Result<Expr, FilterError> {
        let expr = self.parse_or()?;
        let t = self.peek();
        match &t.tok {
            Tok::End => Ok(expr),
            Tok::RParen => Err(err(t.pos, "unexpected ')' with no matching '('")),
            other => Err(err(
                t.pos,
                format!(
                    "expected AND, OR or the end of the filter, found {}; join conditions with \
                     AND or OR",
                    other.describe()
                ),
            )),
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                pos,
                format!(
                    "filter is nested too deeply (more than {MAX_DEPTH} levels of parentheses \
                     and NOT); simplify it"
                ),
            ));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.parse_and()?;
        while self.is_keyword("OR") || self.peek().tok == Tok::OrOr {
            self.advance();
            let right = self.parse_and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.parse_unary()?;
        while self.is_keyword("AND") || self.peek().tok == Tok::AndAnd {
            self.advance();
            let right = self.parse_unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Expr, FilterError> {
        let t = self.peek().clone();
        if is_word(&t.tok, "NOT") || t.tok == Tok::Bang {
            self.advance();
            self.enter(t.pos)?;
            let inner = self.parse_unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Expr, FilterError> {
        let t = self.advance();
        match t.tok {
            Tok::LParen => {
                self.enter(t.pos)?;
                if self.peek().tok == Tok::RParen {
                    return Err(err(self.peek().pos, "empty parentheses: expected a condition inside '(' ')'"));
                }
                let inner = self.parse_or()?;
                self.depth -= 1;
                let close = self.peek().clone();
                if close.tok != Tok::RParen {
                    let hint = match close.tok {
                        Tok::End => String::new(),
                        _ => " (or AND / OR to add a condition)".to_string(),
                    };
                    return Err(err(
                        close.pos,
                        format!(
                            "expected ')' to close '(' at position {}{hint}, found {}",
                            t.pos,
                            close.tok.describe()
                        ),
                    ));
                }
                self.advance();
                Ok(inner)
            }
            Tok::Word(ref w) if is_reserved(w) => Err(err(
                t.pos,
                format!(
                    "expected a condition (column operator value), found keyword {}; a column \
                     with this name must be quoted: \"{w}\"",
                    w.to_ascii_uppercase()
                ),
            )),
            Tok::Word(w) => self.parse_condition(w, t.pos),
            Tok::QuotedIdent { name, .. } => self.parse_condition(name, t.pos),
            Tok::RParen => Err(err(t.pos, "unexpected ')': expected a condition")),
            Tok::End => Err(err(t.pos, "expected a condition (column operator value), found end of input")),
            Tok::Str(s) => Err(err(
                t.pos,
                format!(
                    "expected a column name, found string '{}'; a condition starts with the \
                     column (e.g. name = 'x'); quote column names with double quotes, not \
                     single quotes",
                    s.replace('\'', "''")
                ),
            )),
            other => {
                Err(err(t.pos, format!("expected a condition starting with a column name, found {}", other.describe())))
            }
        }
    }

    fn parse_condition(&mut self, column: String, column_pos: usize) -> Result<Expr, FilterError> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(err(
                column_pos,
                format!(
                    "filter has too many conditions (more than {MAX_CONDITIONS}); use IN lists or \
                     split the request"
                ),
            ));
        }
        let t = self.advance();
        let op = match &t.tok {
            Tok::Eq => Some(CompareOp::Eq),
            Tok::Ne => Some(CompareOp::Ne),
            Tok::Gt => Some(CompareOp::Gt),
            Tok::Gte => Some(CompareOp::Gte),
            Tok::Lt => Some(CompareOp::Lt),
            Tok::Lte => Some(CompareOp::Lte),
            Tok::Word(w) => match w.to_ascii_uppercase().as_str() {
                "EQ" => Some(CompareOp::Eq),
                "NE" | "NEQ" => Some(CompareOp::Ne),
                "GT" => Some(CompareOp::Gt),
                "GTE" | "GE" => Some(CompareOp::Gte),
                "LT" => Some(CompareOp::Lt),
                "LTE" | "LE" => Some(CompareOp::Lte),
                _ => None,
            },
            _ => None,
        };
        if let Some(op) = op {
            let op_text = op_text(&t.tok);
            let value = self.parse_value(&op_text, t.pos)?;
            if let Literal::Null = value.1 {
                let suggestion = match op {
                    CompareOp::Eq => "use IS NULL instead".to_string(),
                    CompareOp::Ne => "use IS NOT NULL instead".to_string(),
                    _ => "null cannot be ordered; use IS NULL or IS NOT NULL".to_string(),
                };
                return Err(err(
                    value.0,
                    format!("cannot compare column \"{column}\" with null using {op_text}; {suggestion}"),
                ));
            }
            return Ok(Expr::Compare { column, op, value: value.1 });
        }
        let Tok::Word(word) = &t.tok else {
            return Err(self.expected_operator(&column, &t));
        };
        match word.to_ascii_uppercase().as_str() {
            "IN" => self.parse_in(column, false, &t),
            "LIKE" => self.parse_like(column, false, &t),
            "BETWEEN" => self.parse_between(column, false, &t),
            "CONTAINS" => self.parse_text(column, TextMatch::Contains, &t, "CONTAINS"),
            "STARTS" => {
                self.expect_with("STARTS", &t)?;
                self.parse_text(column, TextMatch::StartsWith, &t, "STARTS WITH")
            }
            "ENDS" => {
                self.expect_with("ENDS", &t)?;
                self.parse_text(column, TextMatch::EndsWith, &t, "ENDS WITH")
            }
            "IS" => {
                let negated = if self.is_keyword("NOT") {
                    self.advance();
                    true
                } else {
                    false
                };
                let n = self.advance();
                if is_word(&n.tok, "NULL") {
                    Ok(Expr::IsNull { column, negated })
                } else {
                    let written = if negated { "IS NOT" } else { "IS" };
                    Err(err(
                        n.pos,
                        format!("expected NULL after {written} (column \"{column}\"), found {}", n.tok.describe()),
                    ))
                }
            }
            "NOT" => {
                let n = self.advance();
                let Tok::Word(w) = &n.tok else {
                    return Err(self.expected_after_not(&column, &n));
                };
                match w.to_ascii_uppercase().as_str() {
                    "IN" => self.parse_in(column, true, &n),
                    "LIKE" => self.parse_like(column, true, &n),
                    "BETWEEN" => self.parse_between(column, true, &n),
                    "CONTAINS" => {
                        self.parse_text(column, TextMatch::Contains, &n, "NOT CONTAINS").map(|e| Expr::Not(Box::new(e)))
                    }
                    "STARTS" => {
                        self.expect_with("STARTS", &n)?;
                        self.parse_text(column, TextMatch::StartsWith, &n, "NOT STARTS WITH")
                            .map(|e| Expr::Not(Box::new(e)))
                    }
                    "ENDS" => {
                        self.expect_with("ENDS", &n)?;
                        self.parse_text(column, TextMatch::EndsWith, &n, "NOT ENDS WITH")
                            .map(|e| Expr::Not(Box::new(e)))
                    }
                    _ => Err(self.expected_after_not(&column, &n)),
                }
            }
            _ => Err(self.expected_operator(&column, &t)),
        }
    }

    fn expected_operator(&self, column: &str, found: &Token) -> FilterError {
        let mut message =
            format!("expected an operator ({OPERATORS}) after column \"{column}\", found {}", found.tok.describe());
        if let Tok::Str(_) | Tok::Number(_) = found.tok {
            message.push_str("; a condition is column operator value, e.g. name = 'x'");
        }
        err(found.pos, message)
    }

    fn expected_after_not(&self, column: &str, found: &Token) -> FilterError {
        err(
            found.pos,
            format!(
                "expected IN, LIKE, BETWEEN, CONTAINS, STARTS WITH or ENDS WITH after NOT \
                 (column \"{column}\"), found {}",
                found.tok.describe()
            ),
        )
    }

    fn expect_with(&mut self, first: &str, first_tok: &Token) -> Result<(), FilterError> {
        let n = self.advance();
        if is_word(&n.tok, "WITH") {
            Ok(())
        } else {
            Err(err(
                n.pos,
                format!("expected WITH after {first} (at position {}), found {}", first_tok.pos, n.tok.describe()),
            ))
        }
    }

    /// Parses one literal value; returns its position and value.
    fn parse_value(&mut self, after: &str, after_pos: usize) -> Result<(usize, Literal), FilterError> {
        let t = self.advance();
        let value = match t.tok {
            Tok::Str(s) => Literal::Text(s),
            Tok::Number(n) => number_literal(&n),
            Tok::Word(ref w) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => {
                    return Err(err(
                        t.pos,
                        format!(
                            "expected a value after {after} (at position {after_pos}): {VALUE_KINDS}; \
                             found '{w}'. Text values go in single quotes: '{w}' (comparing two \
                             columns is not supported)"
                        ),
                    ))
                }
            },
            Tok::QuotedIdent { ref name, quote: '"' } => {
                return Err(err(
                    t.pos,
                    format!(
                        "expected a value after {after} (at position {after_pos}), found \"{name}\"; \
                         double quotes are for column names, write text values in single quotes: \
                         '{}'",
                        name.replace('\'', "''")
                    ),
                ))
            }
            Tok::End => {
                return Err(err(
                    t.pos,
                    format!(
                        "expected a value after {after} (at position {after_pos}): {VALUE_KINDS}; \
                         found end of input"
                    ),
                ))
            }
            ref other => {
                return Err(err(
                    t.pos,
                    format!(
                        "expected a value after {after} (at position {after_pos}): {VALUE_KINDS}; \
                         found {}",
                        other.describe()
                    ),
                ))
            }
        };
        Ok((t.pos, value))
    }

    fn parse_string(&mut self, after: &str, after_pos: usize) -> Result<String, FilterError> {
        let t = self.advance();
        match t.tok {
            Tok::Str(s) => Ok(s),
            Tok::QuotedIdent { name, quote: '"' } => Err(err(
                t.pos,
                format!(
                    "expected a 'quoted string' after {after} (at position {after_pos}), found \
                     \"{name}\"; double quotes are for column names, use single quotes: '{}'",
                    name.replace('\'', "''")
                ),
            )),
            other => Err(err(
                t.pos,
                format!(
                    "expected a 'quoted string' after {after} (at position {after_pos}), found {}",
                    other.describe()
                ),
            )),
        }
    }

    fn parse_in(&mut self, column: String, negated: bool, kw: &Token) -> Result<Expr, FilterError> {
        let name = if negated { "NOT IN" } else { "IN" };
        let open = self.advance();
        if open.tok != Tok::LParen {
            return Err(err(
                open.pos,
                format!(
                    "expected '(' after {name} (at position {}), found {}; write {name} (1, 2, 3)",
                    kw.pos,
                    open.tok.describe()
                ),
            ));
        }
        if self.peek().tok == Tok::RParen {
            return Err(err(self.peek().pos, format!("the {name} list is empty; give at least one value")));
        }
        let mut values = Vec::new();
        loop {
            let (pos, value) = self.parse_value(&format!("'(' of {name}"), open.pos)?;
            if value == Literal::Null {
                return Err(err(
                    pos,
                    format!(
                        "null is not allowed in an {name} list (it never matches); combine with \
                         \"{column}\" IS NULL instead"
                    ),
                ));
            }
            values.push(value);
            let t = self.advance();
            match t.tok {
                Tok::Comma => continue,
                Tok::RParen => break,
                other => {
                    return Err(err(
                        t.pos,
                        format!(
                            "expected ',' or ')' in the {name} list opened at position {}, found {}",
                            open.pos,
                            other.describe()
                        ),
                    ))
                }
            }
        }
        Ok(Expr::In { column, values, negated })
    }

    fn parse_like(&mut self, column: String, negated: bool, kw: &Token) -> Result<Expr, FilterError> {
        let name = if negated { "NOT LIKE" } else { "LIKE" };
        let pattern = self.parse_string(name, kw.pos)?;
        Ok(Expr::Like { column, pattern, negated })
    }

    fn parse_text(&mut self, column: String, mode: TextMatch, kw: &Token, name: &str) -> Result<Expr, FilterError> {
        let text = self.parse_string(name, kw.pos)?;
        Ok(Expr::Text { column, mode, text })
    }

    fn parse_between(&mut self, column: String, negated: bool, kw: &Token) -> Result<Expr, FilterError> {
        let name = if negated { "NOT BETWEEN" } else { "BETWEEN" };
        let (low_pos, low) = self.parse_value(name, kw.pos)?;
        let and = self.advance();
        if !(is_word(&and.tok, "AND") || and.tok == Tok::AndAnd) {
            return Err(err(
                and.pos,
                format!(
                    "expected AND in {name} (at position {}), found {}; write {name} low AND high",
                    kw.pos,
                    and.tok.describe()
                ),
            ));
        }
        let (high_pos, high) = self.parse_value(&format!("AND of {name}"), and.pos)?;
        for (pos, v) in [(low_pos, &low), (high_pos, &high)] {
            if *v == Literal::Null {
                return Err(err(pos, format!("null is not allowed in {name}; use IS NULL")));
            }
        }
        Ok(Expr::Between { column, low, high, negated })
    }
}

fn is_word(tok: &Tok, kw: &str) -> bool {
    matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
}

/// Words that cannot be bare column names because they would be ambiguous.
fn is_reserved(word: &str) -> bool {
    ["AND", "OR", "NOT"].iter().any(|k| word.eq_ignore_ascii_case(k))
}

fn op_text(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => w.to_ascii_uppercase(),
        other => other.describe(),
    }
}

/// Classifies a number token: i64, an f64 that keeps every written digit, or the text as written.
pub(crate) fn number_literal(text: &str) -> Literal {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let is_integer = !unsigned.contains(['.', 'e', 'E']);
    if is_integer {
        return match unsigned.parse::<i64>() {
            Ok(i) => Literal::Integer(i),
            Err(_) => Literal::BigNumber(unsigned.to_string()),
        };
    }
    match crate::float_text::parse(unsigned) {
        Some(f) if f.is_finite() && same_decimal(unsigned, f) => Literal::Number(f),
        _ => Literal::BigNumber(unsigned.to_string()),
    }
}

/// Significant digits and decimal exponent of a decimal string: value = 0.DIGITS × 10^exp.
/// `None` when the exponent is absurdly large. Zero has no digits.
fn decimal_parts(text: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    if exp.unsigned_abs() > 100_000 {
        return None;
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = int.chars().chain(frac.chars()).collect();
    let mut point = int.len() as i64 + exp;
    let trimmed_start = all.trim_start_matches('0');
    point -= (all.len() - trimmed_start.len()) as i64;
    let digits = trimmed_start.trim_end_matches('0').to_string();
    if digits.is_empty() {
        return Some((negative, String::new(), 0));
    }
    Some((negative, digits, point))
}

/// Whether `f` (parsed from `text`) has exactly the decimal value written.
fn same_decimal(text: &str, f: f64) -> bool {
    let shortest = format!("{f:e}");
    match (decimal_parts(text), decimal_parts(&shortest)) {
        (Some((n1, d1, p1)), Some((n2, d2, p2))) => d1 == d2 && p1 == p2 && (n1 == n2 || d1.is_empty()),
        _ => false,
    }
}
