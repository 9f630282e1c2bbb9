//! Postgres array literals (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`) into a tree.

use serde_json::Value as Json;

/// Nesting beyond this is refused (Postgres itself allows at most 6 dimensions).
const MAX_DEPTH: usize = 8;

#[derive(Debug, PartialEq)]
pub enum ArrayTree {
    Null,
    Item(String),
    List(Vec<ArrayTree>),
}

impl ArrayTree {
    pub fn into_json(self, convert: &dyn Fn(&str) -> Json) -> Json {
        match self {
            ArrayTree::Null => Json::Null,
            ArrayTree::Item(text) => convert(&text),
            ArrayTree::List(items) => Json::Array(items.into_iter().map(|i| i.into_json(convert)).collect()),
        }
    }
}

/// `None` when the text is not a well-formed array literal.
pub fn parse_array(text: &str) -> Option<ArrayTree> {
    // Arrays with non-default bounds print as `[0:1]={...}`.
    let body = match text.find("={") {
        Some(at) if text.starts_with('[') => &text[at + 1..],
        _ => text,
    };
    let chars: Vec<char> = body.chars().collect();
    let mut pos = 0;
    let tree = list(&chars, &mut pos, 0)?;
    (pos == chars.len()).then_some(tree)
}

fn list(chars: &[char], pos: &mut usize, depth: usize) -> Option<ArrayTree> {
    if depth >= MAX_DEPTH || chars.get(*pos) != Some(&'{') {
        return None;
    }
    *pos += 1;
    let mut items = Vec::new();
    if chars.get(*pos) == Some(&'}') {
        *pos += 1;
        return Some(ArrayTree::List(items));
    }
    loop {
        let item = match chars.get(*pos)? {
            '{' => list(chars, pos, depth + 1)?,
            '"' => quoted(chars, pos)?,
            _ => unquoted(chars, pos)?,
        };
        items.push(item);
        match chars.get(*pos)? {
            ',' => *pos += 1,
            '}' => {
                *pos += 1;
                return Some(ArrayTree::List(items));
            }
            _ => return None,
        }
    }
}

fn quoted(chars: &[char], pos: &mut usize) -> Option<ArrayTree> {
    *pos += 1;
    let mut text = String::new();
    loop {
        match chars.get(*pos)? {
            '"' => {
                *pos += 1;
                return Some(ArrayTree::Item(text));
            }
            '\\' => {
                text.push(*chars.get(*pos + 1)?);
                *pos += 2;
            }
            c => {
                text.push(*c);
                *pos += 1;
            }
        }
    }
}

fn unquoted(chars: &[char], pos: &mut usize) -> Option<ArrayTree> {
    let start = *pos;
    while let Some(c) = chars.get(*pos) {
        if *c == ',' || *c == '}' {
            break;
        }
        *pos += 1;
    }
    let text: String = chars[start..*pos].iter().collect::<String>().trim().to_string();
    if text.is_empty() {
        return None;
    }
    Some(if text.eq_ignore_ascii_case("NULL") { ArrayTree::Null } else { ArrayTree::Item(text) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse_array("{a,NULL}"), Some(ArrayTree::List(vec![ArrayTree::Item("a".into()), ArrayTree::Null])));
        assert_eq!(
            parse_array("[0:1]={1,2}").map(|t| t.into_json(&|s| Json::String(s.into()))),
            Some(serde_json::json!(["1", "2"]))
        );
        assert_eq!(parse_array("{1,}"), None);
        assert_eq!(parse_array("{1}x"), None);
        assert_eq!(parse_array("{\"open"), None);
        assert_eq!(parse_array(&"{".repeat(100)), None);
    }
}
