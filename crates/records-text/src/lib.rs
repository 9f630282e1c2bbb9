//! The records text of a D1 result, written in one pass over D1's rows as JSON text.
//!
//! Its own crate so that the release build compiles it at full speed (`opt-level = 3` in the root
//! `Cargo.toml`) while the rest of the worker stays optimised for size: at 1,000 rows this loop
//! is most of a `get_table_data` call's time in the worker. No dependencies, no unsafe code; the
//! tests are dbmcp's (`src/raw_records.rs`), which compare its output with serde_json's.

/// The records written from the rows.
#[derive(Debug)]
pub struct Written {
    /// `[{"column":cell,...},...]`, cells as they are in the input.
    pub text: String,
    /// `text` as the inside of a JSON string, as serde_json escapes it.
    pub escaped: String,
    /// Rows written (at most `max_rows`).
    pub rows: usize,
    /// Whether the input held more rows than were written.
    pub more: bool,
}

/// The header row of `[[names...], [cells...], ...]`: the text of each name (a JSON value, not
/// yet decoded) and where the rows after it start. `None` for `[]`, which has no header.
pub fn header(text: &str) -> Result<Option<(Vec<&str>, usize)>, &'static str> {
    let mut scan = Scanner { bytes: text.as_bytes(), at: 0 };
    scan.open(b'[')?;
    if scan.empty(b']') {
        scan.end()?;
        return Ok(None);
    }
    scan.open(b'[')?;
    let mut names = Vec::new();
    if !scan.empty(b']') {
        loop {
            scan.whitespace();
            let start = scan.at;
            scan.value()?;
            names.push(&text[start..scan.at]);
            if scan.close(b']')? {
                break;
            }
        }
    }
    Ok(Some((names, scan.at)))
}

/// Writes the rows that follow the header (from `from`, as [`header`] gave it) as records:
/// `keys[i]` goes before the i-th cell of each row (`"name":`, with a leading comma after the
/// first column), `escaped_keys[i]` before it in the escaped text. Keeps at most `max_rows` rows
/// and still checks the rest. Anything but rows of JSON values, as many as there are keys, is
/// refused.
pub fn write_records(
    text: &str,
    from: usize,
    keys: &[String],
    escaped_keys: &[String],
    max_rows: usize,
) -> Result<Written, &'static str> {
    const MISMATCH: &str = "a row's cells do not match its columns";
    let mut scan = Scanner { bytes: text.as_bytes(), at: from };
    // Sized after the first row (below).
    let mut out = String::with_capacity(256);
    let mut escaped = String::with_capacity(256);
    out.push('[');
    escaped.push('[');
    let mut rows = 0;
    while !scan.close(b']')? {
        let row_start = scan.at;
        scan.open(b'[')?;
        let keep = rows < max_rows;
        if keep {
            let open = if rows == 0 { "{" } else { ",{" };
            out.push_str(open);
            escaped.push_str(open);
        }
        rows += 1;
        let mut cells = 0;
        if !scan.empty(b']') {
            loop {
                scan.whitespace();
                let start = scan.at;
                scan.value()?;
                let (Some(key), Some(escaped_key)) = (keys.get(cells), escaped_keys.get(cells)) else {
                    return Err(MISMATCH);
                };
                cells += 1;
                if keep {
                    let cell = &text[start..scan.at];
                    out.push_str(key);
                    out.push_str(cell);
                    escaped.push_str(escaped_key);
                    // Numbers, `true`, `false` and `null` have nothing to escape.
                    if matches!(cell.as_bytes().first(), Some(b'"' | b'[' | b'{')) {
                        push_escaped(&mut escaped, cell);
                    } else {
                        escaped.push_str(cell);
                    }
                }
                if scan.close(b']')? {
                    break;
                }
            }
        }
        if cells != keys.len() {
            return Err(MISMATCH);
        }
        if keep {
            out.push('}');
            escaped.push('}');
        }
        if keep && rows == 1 {
            // The first record shows how much longer than its array a row becomes (its keys):
            // room for as many more as the rest of the text seems to hold, at most the rows still
            // kept, so that the texts are not grown and copied as they fill.
            let read = (scan.at - row_start).max(1);
            let more_rows = (text.len() - scan.at).div_ceil(read).min(max_rows - 1) + 1;
            out.reserve(more_rows.saturating_mul(out.len()));
            escaped.reserve(more_rows.saturating_mul(escaped.len()));
        }
    }
    scan.end()?;
    out.push(']');
    escaped.push(']');
    Ok(Written { text: out, escaped, rows: rows.min(max_rows), more: rows > max_rows })
}

/// Appends `text` escaped as the inside of a JSON string, exactly as serde_json escapes it.
pub fn push_escaped(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut run = 0;
    for (at, byte) in text.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[run..at]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(short);
        }
        run = at + 1;
    }
    out.push_str(&text[run..]);
}

/// A cursor over JSON arrays; it checks their shape, not the inside of strings.
struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn whitespace(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn open(&mut self, byte: u8) -> Result<(), &'static str> {
        self.whitespace();
        if self.bytes.get(self.at) != Some(&byte) {
            return Err("not an array of arrays");
        }
        self.at += 1;
        Ok(())
    }

    /// Right after an opening bracket: whether the array is empty (its closing byte consumed).
    fn empty(&mut self, byte: u8) -> bool {
        self.whitespace();
        let empty = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(empty);
        empty
    }

    /// After an element: `true` at the closing byte, `false` at a comma (both consumed).
    fn close(&mut self, byte: u8) -> Result<bool, &'static str> {
        self.whitespace();
        match self.bytes.get(self.at) {
            Some(&b) if b == byte => {
                self.at += 1;
                Ok(true)
            }
            Some(b',') => {
                self.at += 1;
                Ok(false)
            }
            _ => Err("malformed array"),
        }
    }

    fn end(&mut self) -> Result<(), &'static str> {
        self.whitespace();
        if self.at != self.bytes.len() {
            return Err("text after the rows");
        }
        Ok(())
    }

    /// Moves past one JSON value.
    fn value(&mut self) -> Result<(), &'static str> {
        match self.bytes.get(self.at) {
            Some(b'"') => self.string(),
            Some(b'[' | b'{') => {
                let mut depth = 0usize;
                loop {
                    match self.bytes.get(self.at) {
                        None => return Err("unclosed array or object"),
                        Some(b'"') => self.string()?,
                        Some(b'[' | b'{') => {
                            depth += 1;
                            self.at += 1;
                        }
                        Some(b']' | b'}') => {
                            depth -= 1;
                            self.at += 1;
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        Some(_) => self.at += 1,
                    }
                }
            }
            _ => {
                let start = self.at;
                while self.bytes.get(self.at).is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b)) {
                    self.at += 1;
                }
                let token = &self.bytes[start..self.at];
                let number = token.first().is_some_and(|b| b.is_ascii_digit() || *b == b'-')
                    && token.iter().all(|b| b.is_ascii_digit() || b"+-.eE".contains(b));
                if number || matches!(token, b"null" | b"true" | b"false") {
                    Ok(())
                } else {
                    Err("a cell is not a JSON value")
                }
            }
        }
    }

    fn string(&mut self) -> Result<(), &'static str> {
        self.at += 1;
        loop {
            match self.bytes.get(self.at) {
                None => return Err("unclosed string"),
                Some(b'\\') => self.at += 2,
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(_) => self.at += 1,
            }
        }
    }
}
