//! API tokens' rules: how a token looks (`sxt_` and 64 hex digits, 256 bits of randomness), how it is kept (SHA-256 only), how a request presents it (`Authorization: Bearer`),
//! and the scopes.

use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "sxt_";

/// What a token may do: read only, or read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn parse(raw: &str) -> Option<Scope> {
        match raw.trim() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Scope::Read => "api.scope.read",
            Scope::Write => "api.scope.write",
        }
    }

    /// Whether a token of this scope may do what `needed` asks.
    pub fn allows(self, needed: Scope) -> bool {
        self == Scope::Write || needed == Scope::Read
    }
}

/// A new token: what is shown once, and what is kept.
pub struct NewToken {
    pub token: String,
    pub hash: Vec<u8>,
    /// The first characters, shown on the page to tell tokens apart.
    pub prefix: String,
}

pub fn generate() -> NewToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("{PREFIX}{hex}");
    NewToken {
        hash: hash(&token),
        prefix: token.chars().take(PREFIX.len() + 6).collect(),
        token,
    }
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The token an `Authorization` header presents (`Bearer <token>`, the scheme in any case), when
/// it looks like one of ours.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer")
        && token.starts_with(PREFIX)
        && token.len() == PREFIX.len() + 64
        && token[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(token)
}

/// A token's name as typed: 1–80 characters on one line.
pub fn name(raw: &str) -> Result<&str, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        Err("api.error.name_required")
    } else if name.chars().count() > 80 || name.chars().any(char::is_control) {
        Err("api.error.name_long")
    } else {
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_random_presented_as_bearer_and_kept_only_as_its_hash() {
        let a = generate();
        let b = generate();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with("sxt_") && a.token.len() == 68);
        assert_eq!(a.hash, hash(&a.token));
        assert_eq!(a.hash.len(), 32);
        assert!(a.token.starts_with(&a.prefix) && a.prefix.len() == 10);
        let header = format!("Bearer {}", a.token);
        assert_eq!(bearer(Some(&header)), Some(a.token.as_str()));
        assert_eq!(
            bearer(Some(&format!("bearer  {}", a.token))),
            Some(a.token.as_str())
        );
        for bad in [
            None,
            Some("Basic dXNlcjpwYXNz"),
            Some("Bearer"),
            Some("Bearer sxt_short"),
            Some("Token sxt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            Some("Bearer sxt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaZ"),
        ] {
            assert_eq!(bearer(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn scopes_and_names() {
        assert!(Scope::Write.allows(Scope::Write) && Scope::Write.allows(Scope::Read));
        assert!(Scope::Read.allows(Scope::Read) && !Scope::Read.allows(Scope::Write));
        assert_eq!(Scope::parse("admin"), None);
        assert_eq!(name("  ERP sync "), Ok("ERP sync"));
        assert_eq!(name(" "), Err("api.error.name_required"));
        assert_eq!(name(&"x".repeat(81)), Err("api.error.name_long"));
    }
}
