//! Turns filter text into tokens. Positions are 0-based character (not byte) offsets.

use super::FilterError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: a column name or a keyword (keywords are recognised by the parser).
    Word(String),
    /// A quoted identifier; `quote` is the opening character (`"`, `` ` `` or `[`).
    QuotedIdent {
        name: String,
        quote: char,
    },
    /// A single-quoted string, unescaped.
    Str(String),
    /// A number as written (sign, digits, fraction, exponent).
    Number(String),
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    AndAnd,
    OrOr,
    Bang,
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// 0-based character offset of the token's first character.
    pub pos: usize,
}

impl Tok {
    /// How the token reads in an error message ("found ...").
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::QuotedIdent { name, quote } => {
                let close = closing_quote(*quote);
                format!("quoted name {quote}{name}{close}")
            }
            Tok::Str(s) => format!("string '{}'", s.replace('\'', "''")),
            Tok::Number(n) => format!("number {n}"),
            Tok::Eq => "'='".into(),
            Tok::Ne => "'!='".into(),
            Tok::Gt => "'>'".into(),
            Tok::Gte => "'>='".into(),
            Tok::Lt => "'<'".into(),
            Tok::Lte => "'<='".into(),
            Tok::AndAnd => "'&&'".into(),
            Tok::OrOr => "'||'".into(),
            Tok::Bang => "'!'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::End => "end of input".into(),
        }
    }
}

pub(crate) fn closing_quote(open: char) -> char {
    match open {
        '[' => ']',
        other => other,
    }
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphanumeric()
}

fn err(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into() }
}

pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let next = chars.get(i + 1).copied();
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '=' if next == Some('=') => (Tok::Eq, 2),
            '=' => (Tok::Eq, 1),
            '!' if next == Some('=') => (Tok::Ne, 2),
            '!' => (Tok::Bang, 1),
            '<' if next == Some('>') => (Tok::Ne, 2),
            '<' if next == Some('=') => (Tok::Lte, 2),
            '<' => (Tok::Lt, 1),
            '>' if next == Some('=') => (Tok::Gte, 2),
            '>' => (Tok::Gt, 1),
            '&' if next == Some('&') => (Tok::AndAnd, 2),
            '|' if next == Some('|') => (Tok::OrOr, 2),
            '&' => return Err(err(start, "unexpected character '&'; use AND or &&")),
            '|' => return Err(err(start, "unexpected character '|'; use OR or ||")),
            '\'' => {
                let (s, end) = string(&chars, start)?;
                tokens.push(Token { tok: Tok::Str(s), pos: start });
                i = end;
                continue;
            }
            '"' | '`' | '[' => {
                let (name, end) = quoted_ident(&chars, start)?;
                tokens.push(Token { tok: Tok::QuotedIdent { name, quote: c }, pos: start });
                i = end;
                continue;
            }
            c if c.is_ascii_digit() || ((c == '-' || c == '+' || c == '.') && starts_number(&chars, i)) => {
                let (n, end) = number(&chars, start)?;
                tokens.push(Token { tok: Tok::Number(n), pos: start });
                i = end;
                continue;
            }
            c if is_ident_start(c) => {
                let mut end = i + 1;
                while end < chars.len() && is_ident_continue(chars[end]) {
                    end += 1;
                }
                let word: String = chars[start..end].iter().collect();
                tokens.push(Token { tok: Tok::Word(word), pos: start });
                i = end;
                continue;
            }
            ';' => return Err(err(start, "unexpected character ';'; a filter is one condition, not SQL statements")),
            other => return Err(err(start, format!("unexpected character '{}'", other.escape_debug()))),
        };
        tokens.push(Token { tok, pos: start });
        i += len;
    }
    tokens.push(Token { tok: Tok::End, pos: chars.len() });
    Ok(tokens)
}

/// Whether a sign or dot at `i` begins a number (`-5`, `+.5`, `.5`).
fn starts_number(chars: &[char], i: usize) -> bool {
    let mut j = i;
    if matches!(chars.get(j), Some('-') | Some('+')) {
        j += 1;
    }
    match chars.get(j) {
        Some(c) if c.is_ascii_digit() => true,
        Some('.') => chars.get(j + 1).is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

fn digits(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Scans `[+-]? digits? (. digits?)? ([eE] [+-]? digits)?` starting at `start`.
fn number(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let mut i = start;
    if matches!(chars.get(i), Some('-') | Some('+')) {
        i += 1;
    }
    let int_end = digits(chars, i);
    let mut any_digits = int_end > i;
    i = int_end;
    if chars.get(i) == Some(&'.') {
        let frac_end = digits(chars, i + 1);
        any_digits |= frac_end > i + 1;
        i = frac_end;
    }
    if any_digits && matches!(chars.get(i), Some('e') | Some('E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('-') | Some('+')) {
            j += 1;
        }
        let exp_end = digits(chars, j);
        if exp_end > j {
            i = exp_end;
        } else {
            let text: String = chars[start..exp_end.max(i + 1)].iter().collect();
            return Err(err(start, format!("invalid number '{text}': the exponent has no digits")));
        }
    }
    // A number glued to letters ("5abc", "1.2.3") is a typo, not two tokens.
    if chars.get(i).is_some_and(|&c| is_ident_continue(c) || c == '.') {
        let mut end = i;
        while end < chars.len() && (is_ident_continue(chars[end]) || chars[end] == '.') {
            end += 1;
        }
        let text: String = chars[start..end].iter().collect();
        return Err(err(start, format!("invalid number '{text}'; quote text values in single quotes, e.g. '{text}'")));
    }
    Ok((chars[start..i].iter().collect(), i))
}

/// Scans a single-quoted string starting at `start` (the opening quote). `''` is a quote.
fn string(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(err(
                    start,
                    format!(
                        "unterminated string starting at position {start}; close it with ' \
                         (write '' for a quote inside a string)"
                    ),
                ))
            }
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                out.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((out, i + 1)),
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Scans a quoted identifier ("a", `a`, [a]); a doubled closing quote is a literal one.
fn quoted_ident(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let close = closing_quote(chars[start]);
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(err(
                    start,
                    format!(
                        "unterminated quoted column name starting at position {start}; \
                         close it with {close}"
                    ),
                ))
            }
            Some(&c) if c == close && chars.get(i + 1) == Some(&close) => {
                out.push(close);
                i += 2;
            }
            Some(&c) if c == close => break,
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
    if out.is_empty() {
        return Err(err(start, "empty quoted column name"));
    }
    Ok((out, i + 1))
}
