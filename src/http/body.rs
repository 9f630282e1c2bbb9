//! Request bodies, read with a cap on the bytes actually received.
//!
//! `Content-Length` is only a claim: a chunked body has none, so the cap must count what arrives
//! and stop reading as soon as it is passed, before the rest of an oversized body is buffered.

use super::HttpResponse;

/// Largest request body accepted on any route (413 beyond).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The body was larger than the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge;

/// Collects a body chunk by chunk and refuses the chunk that would pass the cap.
#[derive(Debug)]
pub struct CappedBody {
    limit: usize,
    bytes: Vec<u8>,
}

impl CappedBody {
    pub fn new(limit: usize) -> Self {
        CappedBody { limit, bytes: Vec::new() }
    }

    /// Refuses at once a declared `Content-Length` over the cap, so nothing is read at all.
    pub fn check_declared(&self, content_length: Option<&str>) -> Result<(), BodyTooLarge> {
        let Some(declared) = content_length.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(()) };
        match declared.parse::<u64>() {
            Ok(n) if n > self.limit as u64 => Err(BodyTooLarge),
            // All digits yet beyond u64: certainly over the cap.
            Err(_) if declared.bytes().all(|b| b.is_ascii_digit()) => Err(BodyTooLarge),
            // Anything else is not a length; the bytes read decide.
            _ => Ok(()),
        }
    }

    /// Appends a chunk; after an error the caller must stop reading.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), BodyTooLarge> {
        if self.bytes.len().saturating_add(chunk.len()) > self.limit {
            return Err(BodyTooLarge);
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

pub fn too_large() -> HttpResponse {
    HttpResponse::error(413, "payload_too_large", format!("request bodies are limited to {MAX_BODY_BYTES} bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_chunks_up_to_the_cap_exactly() {
        let mut body = CappedBody::new(10);
        assert_eq!(body.push(b"12345"), Ok(()));
        assert_eq!(body.push(b"67890"), Ok(()));
        assert_eq!(body.into_bytes(), b"1234567890");
    }

    #[test]
    fn refuses_the_chunk_that_passes_the_cap() {
        let mut body = CappedBody::new(10);
        body.push(b"123456").unwrap();
        assert_eq!(body.push(b"12345"), Err(BodyTooLarge));
        // Nothing of the refused chunk was kept.
        assert_eq!(body.into_bytes().len(), 6);
    }

    #[test]
    fn one_huge_chunk_is_refused_without_copying() {
        let mut body = CappedBody::new(MAX_BODY_BYTES);
        let huge = vec![b'x'; MAX_BODY_BYTES + 1];
        assert_eq!(body.push(&huge), Err(BodyTooLarge));
        assert!(body.into_bytes().is_empty());
    }

    #[test]
    fn many_small_chunks_add_up() {
        let mut body = CappedBody::new(MAX_BODY_BYTES);
        let chunk = [b'a'; 4096];
        let mut accepted = 0;
        while body.push(&chunk).is_ok() {
            accepted += 1;
            assert!(accepted <= MAX_BODY_BYTES / 4096, "the cap must stop the loop");
        }
        assert_eq!(accepted, MAX_BODY_BYTES / 4096);
    }

    #[test]
    fn declared_length_over_the_cap_is_refused_before_reading() {
        let body = CappedBody::new(100);
        assert_eq!(body.check_declared(Some("101")), Err(BodyTooLarge));
        assert_eq!(body.check_declared(Some(" 100 ")), Ok(()));
        assert_eq!(body.check_declared(Some("99999999999999999999999")), Err(BodyTooLarge));
        assert_eq!(body.check_declared(Some("abc")), Ok(()), "not a length: the bytes read decide");
        assert_eq!(body.check_declared(None), Ok(()));
    }

    #[test]
    fn the_answer_is_413_naming_the_cap() {
        let response = too_large();
        assert_eq!(response.status, 413);
        assert!(String::from_utf8(response.body).unwrap().contains("1048576 bytes"));
    }
}
