//! Content digests (`sha256:<hex>`), as the OCI distribution API names manifests and blobs.

use sha2::{Digest as _, Sha256};

/// The `sha256:<64 hex>` digest of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Whether `s` is a well-formed digest this crate can name a manifest by:
/// `sha256:` followed by 64 lowercase hex digits.
pub fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// A digest shortened for human output: `sha256:` and the first 12 hex digits.
pub fn short_digest(digest: &str) -> &str {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() > 12 => &digest[..7 + 12],
        _ => digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_sha256_digest(&sha256_digest(b"x")));
    }

    #[test]
    fn malformed_digests() {
        assert!(!is_sha256_digest("sha256:abc"));
        assert!(!is_sha256_digest(
            "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ));
        assert!(!is_sha256_digest(
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        ));
        assert_eq!(
            short_digest("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            "sha256:e3b0c44298fc"
        );
        assert_eq!(short_digest("weird"), "weird");
    }
}
