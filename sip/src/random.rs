//! Random identifiers: Call-IDs, tags, placeholder branches.

use rand::Rng;

/// `len` random characters from the URI-safe alphabet (lower-case letters and digits).
pub(crate) fn random_token(rng: &mut impl Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| {
            char::from(
                ALPHABET
                    .get(rng.random_range(0..ALPHABET.len()))
                    .copied()
                    .unwrap_or(b'x'),
            )
        })
        .collect()
}
