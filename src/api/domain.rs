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

/// An `Idempotency-Key` as sent: 1–255 visible ASCII characters (a UUID, say).
pub fn idempotency_key(raw: &[u8]) -> Result<&str, &'static str> {
    match std::str::from_utf8(raw) {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(key)
        }
        _ => Err("api.error.idempotency_key"),
    }
}

/// What makes two requests "the same" for an idempotency key: method, path with query, and body.
pub fn request_fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path_and_query.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().to_vec()
}

/// The rate limiter's counter key of a token (its id: only tokens let in are counted).
pub fn rate_key(token: uuid::Uuid) -> String {
    format!("api:{token}")
}

/// Seconds a caller told to wait is told: whole seconds, rounded up, at least one.
pub fn retry_after(seconds_left: f64) -> u64 {
    (seconds_left.ceil() as u64).max(1)
}

/// Default and largest page size of the list reads.
pub const PAGE_DEFAULT: i64 = 100;
pub const PAGE_MAX: i64 = 500;

/// A list read's `limit` as asked: absent → the default; 1..=500, else the field's message.
pub fn page_limit(raw: Option<i64>) -> Result<i64, &'static str> {
    match raw {
        None => Ok(PAGE_DEFAULT),
        Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        Some(_) => Err("api.error.limit"),
    }
}

/// A cursor names the last item of the page before: its id (ids are UUIDv7, so they sort in
/// the order items were made). Opaque to callers; anything else is refused by name.
pub fn cursor(raw: Option<&str>) -> Result<Option<uuid::Uuid>, &'static str> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => uuid::Uuid::parse_str(text)
            .map(Some)
            .map_err(|_| "api.error.cursor"),
    }
}

/// Where a sync pull (`updated_since`) starts: a time (the first pull: what changed after it), or
/// the `next_updated_since` of the pull before — the database snapshot that pull read in, so the
/// next one answers exactly what that one could not see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    Time(time::OffsetDateTime),
    Snapshot(String),
}

/// Whether `text` is a PostgreSQL snapshot as `pg_current_snapshot()::text` writes it:
/// `xmin:xmax:xip,…` (xmin ≤ xmax, each in-progress id between them).
fn snapshot(text: &str) -> Option<&str> {
    let mut parts = text.split(':');
    let (xmin, xmax, xip) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let num = |t: &str| {
        (!t.is_empty() && t.len() <= 20 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u64>().ok())
            .flatten()
    };
    let (xmin, xmax) = (num(xmin)?, num(xmax)?);
    if xmin > xmax {
        return None;
    }
    if !xip.is_empty() {
        for x in xip.split(',') {
            let x = num(x)?;
            if x < xmin || x >= xmax {
                return None;
            }
        }
    }
    Some(text)
}

impl Since {
    /// `updated_since` as sent: an RFC 3339 time or a `next_updated_since`; else the field's
    /// message.
    pub fn parse(raw: &str) -> Result<Since, &'static str> {
        let raw = raw.trim();
        if let Ok(at) =
            time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        {
            return Ok(Since::Time(at));
        }
        snapshot(raw)
            .map(|s| Since::Snapshot(s.to_string()))
            .ok_or("api.error.updated_since")
    }

    fn encode(&self) -> String {
        match self {
            Since::Time(at) => format!(
                "t{}",
                at.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
            Since::Snapshot(s) => format!("s{s}"),
        }
    }

    fn decode(text: &str) -> Option<Since> {
        match text.split_at_checked(1)? {
            ("t", at) => {
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .ok()
                    .map(Since::Time)
            }
            ("s", s) => snapshot(s).map(|s| Since::Snapshot(s.to_string())),
            _ => None,
        }
    }
}

/// A page of a sync pull after the first: where the pull started, the snapshot its first page
/// read in (later pages answer only what that snapshot saw, so nothing committed meanwhile is
/// answered twice), and the last change answered (its transaction id and the row's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCursor {
    pub since: Since,
    pub first: String,
    pub after: (i64, uuid::Uuid),
}

impl SyncCursor {
    /// Opaque to callers: URL-safe base64 of the parts.
    pub fn encode(&self) -> String {
        use base64::Engine;
        let text = format!(
            "v1|{}|{}|{}|{}",
            self.since.encode(),
            self.first,
            self.after.0,
            self.after.1
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(raw: &str) -> Option<SyncCursor> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('|');
        if parts.next()? != "v1" {
            return None;
        }
        let since = Since::decode(parts.next()?)?;
        let first = snapshot(parts.next()?)?.to_string();
        let xid = parts.next()?.parse::<i64>().ok().filter(|x| *x >= 0)?;
        let id = uuid::Uuid::parse_str(parts.next()?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(SyncCursor {
            since,
            first,
            after: (xid, id),
        })
    }
}

/// A list's position: the first page, the page after an id (a plain list), or a sync pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    List(Option<uuid::Uuid>),
    Sync {
        since: Since,
        first: Option<String>,
        after: Option<(i64, uuid::Uuid)>,
    },
}

/// The `cursor` and `updated_since` of a list read, together: a sync cursor carries its own
/// start (an `updated_since` beside it changes nothing); a plain cursor cannot go with
/// `updated_since`. Errors name the parameter.
pub fn position(
    cursor: Option<&str>,
    updated_since: Option<&str>,
) -> Result<Position, (&'static str, &'static str)> {
    let cursor = cursor.map(str::trim).filter(|c| !c.is_empty());
    let since = match updated_since.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(Since::parse(raw).map_err(|k| ("updated_since", k))?),
    };
    if let Some(raw) = cursor
        && let Some(c) = SyncCursor::decode(raw)
    {
        return Ok(Position::Sync {
            since: c.since,
            first: Some(c.first),
            after: Some(c.after),
        });
    }
    let plain = self::cursor(cursor).map_err(|k| ("cursor", k))?;
    match (plain, since) {
        (Some(_), Some(_)) => Err(("cursor", "api.error.cursor")),
        (plain, None) => Ok(Position::List(plain)),
        (None, Some(since)) => Ok(Position::Sync {
            since,
            first: None,
            after: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_fingerprints_and_waits() {
        assert_eq!(idempotency_key(b"a1-b2"), Ok("a1-b2"));
        for bad in [
            &b""[..],
            &b"has space"[..],
            &[b'x'; 256][..],
            &b"\xff\xfe"[..],
            "é".as_bytes(),
        ] {
            assert_eq!(
                idempotency_key(bad),
                Err("api.error.idempotency_key"),
                "{bad:?}"
            );
        }
        let a = request_fingerprint("POST", "/api/v1/posts", b"{}");
        assert_eq!(a, request_fingerprint("POST", "/api/v1/posts", b"{}"));
        assert_ne!(a, request_fingerprint("POST", "/api/v1/posts", b"{ }"));
        assert_ne!(a, request_fingerprint("POST", "/api/v1/snapshots", b"{}"));
        assert_eq!(retry_after(0.2), 1);
        assert_eq!(retry_after(59.01), 60);
        assert_eq!(
            rate_key(uuid::Uuid::nil()),
            format!("api:{}", uuid::Uuid::nil())
        );
    }

    #[test]
    fn page_limits_and_cursors() {
        assert_eq!(page_limit(None), Ok(100));
        assert_eq!(page_limit(Some(500)), Ok(500));
        assert_eq!(page_limit(Some(0)), Err("api.error.limit"));
        assert_eq!(page_limit(Some(501)), Err("api.error.limit"));
        assert_eq!(cursor(None), Ok(None));
        assert_eq!(cursor(Some("")), Ok(None));
        let id = uuid::Uuid::now_v7();
        assert_eq!(cursor(Some(&id.to_string())), Ok(Some(id)));
        assert_eq!(cursor(Some("abc")), Err("api.error.cursor"));
    }

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

    #[test]
    fn updated_since_takes_a_time_or_the_snapshot_a_pull_handed_out() {
        let t = Since::parse("2026-12-01T08:00:00+08:00").unwrap();
        assert_eq!(t, Since::Time(time::macros::datetime!(2026-12-01 0:00 UTC)));
        assert_eq!(
            Since::parse(" 1080:1085:1081,1083 "),
            Ok(Since::Snapshot("1080:1085:1081,1083".into()))
        );
        assert_eq!(Since::parse("7:7:"), Ok(Since::Snapshot("7:7:".into())));
        for bad in [
            "",
            "yesterday",
            "2026-12-01",
            "9:8:",
            "1:5:7",
            "1:5:0",
            "1:5",
            "1:5::",
            "a:b:",
            "1:5:2,",
            "1:99999999999999999999999:",
        ] {
            assert_eq!(Since::parse(bad), Err("api.error.updated_since"), "{bad:?}");
        }
    }

    #[test]
    fn a_sync_cursor_round_trips_and_anything_else_is_refused_by_name() {
        let id = uuid::Uuid::now_v7();
        for since in [
            Since::Snapshot("10:12:11".into()),
            Since::Time(time::macros::datetime!(2026-12-01 0:00 UTC)),
        ] {
            let c = SyncCursor {
                since: since.clone(),
                first: "20:25:21,24".into(),
                after: (22, id),
            };
            let raw = c.encode();
            assert!(
                raw.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(SyncCursor::decode(&raw), Some(c.clone()));
            // A sync cursor carries its start; `updated_since` beside it changes nothing.
            assert_eq!(
                position(Some(&raw), Some("2020-01-01T00:00:00Z")),
                Ok(Position::Sync {
                    since,
                    first: Some("20:25:21,24".into()),
                    after: Some((22, id)),
                })
            );
        }
        assert_eq!(position(None, None), Ok(Position::List(None)));
        assert_eq!(
            position(Some(&id.to_string()), None),
            Ok(Position::List(Some(id)))
        );
        assert_eq!(
            position(Some(&id.to_string()), Some("1:2:")),
            Err(("cursor", "api.error.cursor"))
        );
        assert_eq!(
            position(None, Some("soon")),
            Err(("updated_since", "api.error.updated_since"))
        );
        assert_eq!(
            position(Some("bm90IGEgY3Vyc29y"), None),
            Err(("cursor", "api.error.cursor"))
        );
        assert_eq!(
            position(None, Some("1:2:")),
            Ok(Position::Sync {
                since: Since::Snapshot("1:2:".into()),
                first: None,
                after: None
            })
        );
    }
}
