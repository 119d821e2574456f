//! Password hashing with argon2id, always off the async threads. Checking an unknown email still
//! costs one hash check (against a dummy hash), so response times don't reveal who has an account.

use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

pub struct PasswordService {
    params: Params,
    dummy_hash: String,
    checks: AtomicU64,
}

impl PasswordService {
    /// argon2id with the crate's default (OWASP) parameters.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_params(Params::default())
    }

    /// Cheaper parameters, for tests and the demo seeder only.
    pub fn fast_for_tests() -> anyhow::Result<Self> {
        Self::with_params(
            Params::new(1024, 1, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?,
        )
    }

    fn with_params(params: Params) -> anyhow::Result<Self> {
        let dummy_hash = hash_with(&params, "sextant-dummy-password-for-unknown-emails")?;
        Ok(PasswordService {
            params,
            dummy_hash,
            checks: AtomicU64::new(0),
        })
    }

    /// How many password checks ran (the unknown-email path included).
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let params = self.params.clone();
        let password = password.to_string();
        tokio::task::spawn_blocking(move || hash_with(&params, &password)).await?
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account, so
    /// both paths cost the same.
    pub async fn verify(&self, stored: Option<String>, password: &str) -> bool {
        let has_account = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.to_string();
        self.checks.fetch_add(1, Ordering::Relaxed);
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        ok && has_account
    }
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

/// A readable random password (for create-admin and one-time setups).
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chunk = |rng: &mut rand::rngs::ThreadRng| -> String {
        (0..5)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    };
    format!(
        "{}-{}-{}-{}",
        chunk(&mut rng),
        chunk(&mut rng),
        chunk(&mut rng),
        chunk(&mut rng)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_unknown_accounts_still_cost_a_check() {
        let svc = PasswordService::fast_for_tests().unwrap();
        let hash = svc.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(svc.verify(Some(hash.clone()), "correct horse").await);
        assert!(!svc.verify(Some(hash), "wrong").await);
        assert!(
            !svc.verify(None, "sextant-dummy-password-for-unknown-emails")
                .await
        );
        assert_eq!(svc.checks(), 3);
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password();
        assert_eq!(a.len(), 23);
        assert_ne!(a, generate_password());
    }
}
