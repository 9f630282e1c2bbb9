//! Ed25519 behind a trait: the access tokens' signatures, their verification and the public keys,
//! from a key's 32-byte seed. Natively ed25519-compact does it ([`CompactSigner`]); at the edge the
//! runtime's WebCrypto does (`edge::oauth_support::WebCryptoSigner`), which keeps every Ed25519
//! line out of the wasm. The token format (JOSE header, claims, expiry) stays in Rust.
//!
//! Both are RFC 8032 Ed25519, which is deterministic: the same seed and message give the same
//! signature bytes whichever side signs.

use async_trait::async_trait;

#[async_trait(?Send)]
pub trait Ed25519Signer {
    /// The public key of the seed's key pair.
    async fn public_key(&self, seed: &[u8; 32]) -> Result<[u8; 32], String>;
    /// The signature of `message` under the seed's key pair.
    async fn sign(&self, seed: &[u8; 32], message: &[u8]) -> Result<[u8; 64], String>;
    /// Whether `signature` is `public_key`'s signature of `message`; `Err` only when the check
    /// itself could not run (a fault of the runtime, not of the signature).
    async fn verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String>;
}

/// Ed25519 in Rust (ed25519-compact). Not built into the wasm: it would bring that code back.
#[cfg(not(target_arch = "wasm32"))]
pub struct CompactSigner;

#[cfg(not(target_arch = "wasm32"))]
impl CompactSigner {
    fn key_pair(seed: &[u8; 32]) -> Result<ed25519_compact::KeyPair, String> {
        ed25519_compact::KeyPair::try_from_seed(ed25519_compact::Seed::new(*seed))
            .map_err(|_| "an all-zero seed is not a key".to_string())
    }

    /// Synchronous, for native callers that cannot wait.
    pub fn public_key_now(seed: &[u8; 32]) -> Result<[u8; 32], String> {
        Ok(*Self::key_pair(seed)?.pk)
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[async_trait(?Send)]
impl Ed25519Signer for CompactSigner {
    async fn public_key(&self, seed: &[u8; 32]) -> Result<[u8; 32], String> {
        Self::public_key_now(seed)
    }

    async fn sign(&self, seed: &[u8; 32], message: &[u8]) -> Result<[u8; 64], String> {
        // No noise: plain RFC 8032, byte for byte what WebCrypto produces.
        Ok(*Self::key_pair(seed)?.sk.sign(message, None))
    }

    async fn verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String> {
        let public_key = ed25519_compact::PublicKey::new(*public_key);
        Ok(public_key.verify(message, &ed25519_compact::Signature::new(*signature)).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn compact_signer_matches_rfc_8032_test_vector_2() {
        // RFC 8032 section 7.1, TEST 2 (one-byte message 0x72).
        let seed: [u8; 32] =
            hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb").try_into().unwrap();
        let public = block_on(CompactSigner.public_key(&seed)).unwrap();
        assert_eq!(public.to_vec(), hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"));
        let signature = block_on(CompactSigner.sign(&seed, &[0x72])).unwrap();
        assert_eq!(
            signature.to_vec(),
            hex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                 085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
        );
        // Deterministic: signing again gives the same bytes.
        assert_eq!(block_on(CompactSigner.sign(&seed, &[0x72])).unwrap(), signature);
        assert!(block_on(CompactSigner.verify(&public, &[0x72], &signature)).unwrap());
        assert!(!block_on(CompactSigner.verify(&public, &[0x73], &signature)).unwrap());
        let mut flipped = signature;
        flipped[0] ^= 1;
        assert!(!block_on(CompactSigner.verify(&public, &[0x72], &flipped)).unwrap());
    }

    #[test]
    fn an_all_zero_seed_is_an_error_not_a_panic() {
        assert!(block_on(CompactSigner.public_key(&[0; 32])).unwrap_err().contains("all-zero"));
        assert!(block_on(CompactSigner.sign(&[0; 32], b"x")).is_err());
    }
}
