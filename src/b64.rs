//! Base64 through `base64ct`, the crate jwt-compact already links (a second Base64 crate cost
//! about 3 KiB of the gzip bundle). Same names and behaviour as `base64`'s general-purpose
//! engines: `URL_SAFE_NO_PAD` refuses padding, `STANDARD` requires it, both refuse
//! non-canonical trailing bits.

use std::marker::PhantomData;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};

pub struct Engine<E>(PhantomData<E>);

/// URL-safe alphabet, no padding (JWTs, PKCE, cookies, handles).
pub const URL_SAFE_NO_PAD: Engine<Base64UrlUnpadded> = Engine(PhantomData);
/// Standard alphabet with padding (HTTP Basic credentials, seeds pasted from other tools).
pub const STANDARD: Engine<Base64> = Engine(PhantomData);

/// Not Base64 of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError;

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid base64")
    }
}

impl<E: Encoding> Engine<E> {
    pub fn encode(&self, input: impl AsRef<[u8]>) -> String {
        E::encode_string(input.as_ref())
    }

    pub fn decode(&self, input: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
        let text = std::str::from_utf8(input.as_ref()).map_err(|_| DecodeError)?;
        E::decode_vec(text).map_err(|_| DecodeError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_the_general_purpose_engines() {
        assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
        assert_eq!(URL_SAFE_NO_PAD.decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(URL_SAFE_NO_PAD.decode("-_8="), Err(DecodeError), "padding refused");
        assert_eq!(URL_SAFE_NO_PAD.decode("-_9"), Err(DecodeError), "non-canonical trailing bits refused");
        assert_eq!(URL_SAFE_NO_PAD.decode("+/8"), Err(DecodeError), "standard alphabet refused");
        assert_eq!(STANDARD.encode("c%201:s%3Ax"), "YyUyMDE6cyUzQXg=");
        assert_eq!(STANDARD.decode("YyUyMDE6cyUzQXg=").unwrap(), b"c%201:s%3Ax");
        assert_eq!(STANDARD.decode("YyUyMDE6cyUzQXg"), Err(DecodeError), "missing padding refused");
        assert_eq!(URL_SAFE_NO_PAD.decode([0xff, 0xfe]), Err(DecodeError), "not text");
        assert_eq!(URL_SAFE_NO_PAD.encode(""), "");
        assert_eq!(URL_SAFE_NO_PAD.decode("").unwrap(), Vec::<u8>::new());
    }
}
