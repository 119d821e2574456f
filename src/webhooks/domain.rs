//! Webhooks' rules, pure: the events and formats, which URLs an owner may enter, which addresses
//! a delivery may reach, the retry schedule, the signatures (Sextant's own, Feishu's, DingTalk's),
//! each format's body, and what answer counts as delivered.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::kernel::text::{self, TextRule};
use crate::web::lang::Lang;

type HmacSha256 = Hmac<Sha256>;

/// What happened, as a receiver subscribes to it. `Ping` is the settings page's test event: every
/// endpoint gets it when asked, none subscribes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ShortlistSent,
    ShortlistDecided,
    PostLate,
    RatingDue,
    TierChanged,
    SettlementFinalized,
    Ping,
}

impl EventKind {
    /// The events an endpoint may subscribe to, in the loop's order.
    pub const SUBSCRIBABLE: [EventKind; 6] = [
        EventKind::ShortlistSent,
        EventKind::ShortlistDecided,
        EventKind::PostLate,
        EventKind::RatingDue,
        EventKind::TierChanged,
        EventKind::SettlementFinalized,
    ];

    /// The event's `type` on the wire (and in the database).
    pub fn code(self) -> &'static str {
        match self {
            EventKind::ShortlistSent => "shortlist.sent",
            EventKind::ShortlistDecided => "shortlist.decided",
            EventKind::PostLate => "post.late",
            EventKind::RatingDue => "rating.due",
            EventKind::TierChanged => "tier.changed",
            EventKind::SettlementFinalized => "settlement.finalized",
            EventKind::Ping => "ping",
        }
    }

    pub fn parse(raw: &str) -> Option<EventKind> {
        [EventKind::Ping]
            .into_iter()
            .chain(EventKind::SUBSCRIBABLE)
            .find(|k| k.code() == raw.trim())
    }

    /// How the pages name it.
    pub fn label_key(self) -> &'static str {
        match self {
            EventKind::ShortlistSent => "webhooks.event.shortlist_sent",
            EventKind::ShortlistDecided => "webhooks.event.shortlist_decided",
            EventKind::PostLate => "webhooks.event.post_late",
            EventKind::RatingDue => "webhooks.event.rating_due",
            EventKind::TierChanged => "webhooks.event.tier_changed",
            EventKind::SettlementFinalized => "webhooks.event.settlement_finalized",
            EventKind::Ping => "webhooks.event.ping",
        }
    }

    /// The chat message's sentence (placeholders from the event's data).
    fn message_key(self) -> &'static str {
        match self {
            EventKind::ShortlistSent => "webhooks.message.shortlist_sent",
            EventKind::ShortlistDecided => "webhooks.message.shortlist_decided",
            EventKind::PostLate => "webhooks.message.post_late",
            EventKind::RatingDue => "webhooks.message.rating_due",
            EventKind::TierChanged => "webhooks.message.tier_changed",
            EventKind::SettlementFinalized => "webhooks.message.settlement_finalized",
            EventKind::Ping => "webhooks.message.ping",
        }
    }
}

/// How a delivery is written and signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Sextant's own JSON, signed with `Sextant-Signature`.
    Sextant,
    /// A Feishu (Lark) group's custom bot.
    Feishu,
    /// A DingTalk group's custom robot.
    Dingtalk,
    /// A WeCom (企业微信) group robot.
    Wecom,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Sextant,
        Format::Feishu,
        Format::Dingtalk,
        Format::Wecom,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Format::Sextant => "sextant",
            Format::Feishu => "feishu",
            Format::Dingtalk => "dingtalk",
            Format::Wecom => "wecom",
        }
    }

    pub fn parse(raw: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.code() == raw.trim())
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Format::Sextant => "webhooks.format.sextant",
            Format::Feishu => "webhooks.format.feishu",
            Format::Dingtalk => "webhooks.format.dingtalk",
            Format::Wecom => "webhooks.format.wecom",
        }
    }

    /// Whether the owner may enter the bot's own signing secret (Feishu and DingTalk sign; a
    /// WeCom robot's key is in its URL).
    pub fn takes_bot_secret(self) -> bool {
        matches!(self, Format::Feishu | Format::Dingtalk)
    }
}

/// A delivery's state's label key (`pending`, `delivered`, `failed`).
pub fn state_label_key(state: &str) -> &'static str {
    match state {
        "delivered" => "webhooks.state.delivered",
        "failed" => "webhooks.state.failed",
        _ => "webhooks.state.pending",
    }
}

/// The waits after each failed try: the first retry a minute after the first failure, the last
/// six hours after the fifth; a sixth failure is final.
pub const RETRY_SCHEDULE: [Duration; 5] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 60 * 60),
    Duration::from_secs(6 * 60 * 60),
];

/// How long to wait after the `tries`-th failed try (1-based) before the next one; None when
/// that was the last try and the delivery has failed.
pub fn retry_after(tries: i32) -> Option<Duration> {
    let i = usize::try_from(tries).ok()?.checked_sub(1)?;
    RETRY_SCHEDULE.get(i).copied()
}

/// The most tries a delivery gets.
pub const MAX_TRIES: i32 = RETRY_SCHEDULE.len() as i32 + 1;

/// The owner's URL, checked: http or https, a host, no user name or password in it, at most
/// 2,048 characters, nothing but printable text. The message key names the fault.
pub fn check_url(raw: &str) -> Result<url::Url, &'static str> {
    let raw = text::required(raw, TextRule::URL, "webhooks.error.url_required")?;
    let url = url::Url::parse(raw).map_err(|_| "webhooks.error.url_invalid")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("webhooks.error.url_scheme");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("webhooks.error.url_credentials");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("webhooks.error.url_invalid");
    }
    Ok(url)
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique local),
/// link-local, shared (CGNAT), unspecified, multicast, broadcast, documentation or benchmarking
/// space — where a URL entered by a tenant could reach this server's own neighbours (SSRF).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// The events ticked on the form: at least one, each one Sextant sends.
pub fn check_events(raw: &[String]) -> Result<Vec<EventKind>, &'static str> {
    let mut kinds = Vec::new();
    for code in raw {
        let kind = EventKind::parse(code)
            .filter(|k| *k != EventKind::Ping)
            .ok_or("webhooks.error.events_unknown")?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        return Err("webhooks.error.events_required");
    }
    kinds.sort_by_key(|k| EventKind::SUBSCRIBABLE.iter().position(|s| s == k));
    Ok(kinds)
}

/// A group bot's signing secret as entered: optional, one line, at most 200 characters; only
/// Feishu and DingTalk take one.
pub fn check_bot_secret(format: Format, raw: &str) -> Result<Option<String>, &'static str> {
    let secret = text::check(raw, TextRule::LINE)?;
    if secret.is_empty() {
        return Ok(None);
    }
    if !format.takes_bot_secret() {
        return Err("webhooks.error.secret_not_used");
    }
    Ok(Some(secret.to_string()))
}

/// A new signing secret for a Sextant endpoint (`whsec_` and 48 hex digits).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("whsec_{hex}")
}

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// `Sextant-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. A receiver
/// computes the same over the raw body and compares, and refuses an old `t` (replays).
pub fn sextant_signature(secret: &str, unix: i64, body: &[u8]) -> String {
    let mut message = format!("{unix}.").into_bytes();
    message.extend_from_slice(body);
    let hex: String = mac(secret.as_bytes(), &message)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={unix},v1={hex}")
}

/// Feishu's custom bot signature: base64(HMAC-SHA256 keyed with "<timestamp>\n<secret>" over
/// nothing), sent as `sign` beside `timestamp` (seconds) in the body.
pub fn feishu_sign(secret: &str, unix: i64) -> String {
    BASE64.encode(mac(format!("{unix}\n{secret}").as_bytes(), b""))
}

/// DingTalk's robot signature: base64(HMAC-SHA256(secret, "<timestamp ms>\n<secret>")), sent
/// URL-encoded as `&timestamp=<ms>&sign=…` on the URL.
pub fn dingtalk_sign(secret: &str, unix_ms: i64) -> String {
    BASE64.encode(mac(
        secret.as_bytes(),
        format!("{unix_ms}\n{secret}").as_bytes(),
    ))
}

/// The URL a delivery posts to: DingTalk's with its timestamp and signature when it has a secret.
pub fn target_url(format: Format, url: &str, secret: Option<&str>, unix_ms: i64) -> String {
    match (format, secret) {
        (Format::Dingtalk, Some(secret)) => {
            let sign: String =
                form_urlencoded::byte_serialize(dingtalk_sign(secret, unix_ms).as_bytes())
                    .collect();
            let joiner = if url.contains('?') { '&' } else { '?' };
            format!("{url}{joiner}timestamp={unix_ms}&sign={sign}")
        }
        _ => url.to_string(),
    }
}

/// The event as Sextant sends it: `{id, type, created_at, tenant: {slug}, data}`.
pub fn payload(
    event_id: uuid::Uuid,
    kind: EventKind,
    created_at: time::OffsetDateTime,
    slug: &str,
    data: Value,
) -> Value {
    let created = created_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({
        "id": event_id,
        "type": kind.code(),
        "created_at": created,
        "tenant": { "slug": slug },
        "data": data,
    })
}

/// The page a person opens about the event, as a path under the tenant.
pub fn page_path(kind: EventKind, slug: &str, data: &Value) -> String {
    let id = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
    match kind {
        EventKind::ShortlistSent | EventKind::ShortlistDecided => {
            format!("/t/{slug}/campaigns/{}/shortlist", id("campaign_id"))
        }
        EventKind::PostLate => format!("/t/{slug}/collaborations/{}", id("collaboration_id")),
        EventKind::RatingDue => {
            format!("/t/{slug}/collaborations/{}/rating", id("collaboration_id"))
        }
        EventKind::TierChanged => format!("/t/{slug}/creators/{}", id("creator_id")),
        EventKind::SettlementFinalized => {
            format!("/t/{slug}/settlements/{}", id("settlement_id"))
        }
        EventKind::Ping => format!("/t/{slug}/settings/webhooks"),
    }
}

/// The chat sentence for a group bot, in `lang`: what happened, about what, and the link.
pub fn message(lang: Lang, kind: EventKind, data: &Value, link: &str) -> String {
    let s = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
    let decision = match s("decision") {
        "" => String::new(),
        code => lang.t(&format!("webhooks.decision.{code}")),
    };
    let tier = |k: &str| match s(k) {
        "" => lang.t("webhooks.tier_none"),
        t => t.to_string(),
    };
    let kind_of_record = match s("kind") {
        "no_publish" => lang.t("webhooks.late.no_publish"),
        _ => lang.t("webhooks.late.late_publish"),
    };
    let creator = match s("creator_handle") {
        "" => String::new(),
        h => format!("@{h}"),
    };
    let text = lang.t_with(
        kind.message_key(),
        &[
            ("campaign", s("campaign_title")),
            ("creator", &creator),
            ("decision", &decision),
            ("record", &kind_of_record),
            ("from", &tier("from")),
            ("to", &tier("to")),
            ("period", s("period")),
            ("total", s("total_seller")),
            ("currency", s("currency")),
            (
                "round",
                &data.get("round").map(Value::to_string).unwrap_or_default(),
            ),
        ],
    );
    format!("{} — {link}", text.trim_end())
}

/// The body a delivery sends: the payload itself for Sextant's format, a bot's text message for
/// the others (Feishu's with `timestamp` and `sign` when it has a secret).
pub fn body(format: Format, payload: &Value, text: &str, secret: Option<&str>, unix: i64) -> Value {
    match format {
        Format::Sextant => payload.clone(),
        Format::Feishu => {
            let mut body = json!({ "msg_type": "text", "content": { "text": text } });
            if let Some(secret) = secret {
                body["timestamp"] = json!(unix.to_string());
                body["sign"] = json!(feishu_sign(secret, unix));
            }
            body
        }
        Format::Dingtalk | Format::Wecom => {
            json!({ "msgtype": "text", "text": { "content": text } })
        }
    }
}

/// Whether an answer means delivered: a 2xx, and for a bot no error code in its JSON answer
/// (`errcode` for DingTalk and WeCom, `code` for Feishu; 0 is success). Else the error to log.
pub fn accepted(format: Format, status: u16, answer: &str) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}"));
    }
    if format == Format::Sextant {
        return Ok(());
    }
    let Ok(json) = serde_json::from_str::<Value>(answer) else {
        return Ok(());
    };
    let code = json
        .get("errcode")
        .or_else(|| json.get("code"))
        .or_else(|| json.get("StatusCode"));
    match code.and_then(Value::as_i64) {
        None | Some(0) => Ok(()),
        Some(code) => {
            let msg = json
                .get("errmsg")
                .or_else(|| json.get("msg"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            Err(format!("bot error {code}: {msg}")
                .chars()
                .take(500)
                .collect())
        }
    }
}

/// The decisions a `shortlist.decided` event reports.
pub const DECISIONS: [&str; 4] = ["approve", "reject", "another_round", "proceed"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::lang::in_both_catalogues;

    // The vectors below were computed apart from this code, with Python's hmac module:
    // hmac.new(b"whsec_test_secret", b"1765000000." + body, hashlib.sha256).hexdigest(), and
    // base64 of the Feishu and DingTalk constructions.
    #[test]
    fn the_sextant_signature_matches_an_independent_vector() {
        let body = br#"{"id":"0192f3c4-1111-7abc-8def-000000000001","type":"ping"}"#;
        assert_eq!(
            sextant_signature("whsec_test_secret", 1_765_000_000, body),
            "t=1765000000,v1=81ca0a4c4e9371249b584f450c9fc19f3657b10e814b0fab62cc06d4b5e7d44e"
        );
    }

    #[test]
    fn the_feishu_and_dingtalk_signs_match_independent_vectors() {
        assert_eq!(
            feishu_sign("feishu-secret", 1_765_000_000),
            "wE5VzjAroOXxtCNPJS2SS2BjNhyx030COOu/dguPiyI="
        );
        assert_eq!(
            dingtalk_sign("SECdingtalk", 1_765_000_000_000),
            "lONm0NhwCX4cXY5euBi8A1j57ykykWpeUDPLQkr67BU="
        );
        assert_eq!(
            target_url(
                Format::Dingtalk,
                "https://oapi.dingtalk.com/robot/send?access_token=abc",
                Some("SECdingtalk"),
                1_765_000_000_000
            ),
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1765000000000\
             &sign=lONm0NhwCX4cXY5euBi8A1j57ykykWpeUDPLQkr67BU%3D"
        );
        assert_eq!(
            target_url(Format::Dingtalk, "https://x.example/r", None, 1),
            "https://x.example/r"
        );
        let body = body(
            Format::Feishu,
            &json!({}),
            "hi",
            Some("feishu-secret"),
            1_765_000_000,
        );
        assert_eq!(body["timestamp"], "1765000000");
        assert_eq!(body["sign"], "wE5VzjAroOXxtCNPJS2SS2BjNhyx030COOu/dguPiyI=");
        assert_eq!(body["content"]["text"], "hi");
    }

    #[test]
    fn retries_wait_longer_each_time_and_stop_after_the_sixth_try() {
        let mins = |n: i32| retry_after(n).map(|d| d.as_secs() / 60);
        assert_eq!(mins(1), Some(1));
        assert_eq!(mins(2), Some(5));
        assert_eq!(mins(3), Some(30));
        assert_eq!(mins(4), Some(120));
        assert_eq!(mins(5), Some(360));
        assert_eq!(retry_after(6), None);
        assert_eq!(retry_after(0), None);
        assert_eq!(retry_after(-1), None);
        assert_eq!(MAX_TRIES, 6);
    }

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        assert!(check_url("https://hooks.example.com/sextant?x=1").is_ok());
        assert!(
            check_url(" http://10.0.0.1:8080/h ").is_ok(),
            "resolved later"
        );
        assert_eq!(check_url("").unwrap_err(), "webhooks.error.url_required");
        assert_eq!(
            check_url("ftp://x.example/").unwrap_err(),
            "webhooks.error.url_scheme"
        );
        assert_eq!(
            check_url("file:///etc/passwd").unwrap_err(),
            "webhooks.error.url_scheme"
        );
        assert_eq!(
            check_url("https://user:pw@x.example/").unwrap_err(),
            "webhooks.error.url_credentials"
        );
        assert_eq!(
            check_url("https://user@x.example/").unwrap_err(),
            "webhooks.error.url_credentials"
        );
        assert_eq!(
            check_url("not a url").unwrap_err(),
            "webhooks.error.url_invalid"
        );
        assert_eq!(check_url("a\0b").unwrap_err(), "error.text.control");
    }

    #[test]
    fn only_public_addresses_are_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn events_and_secrets_are_checked() {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_events(&v(&["tier.changed", "shortlist.sent", "tier.changed"])).unwrap(),
            vec![EventKind::ShortlistSent, EventKind::TierChanged]
        );
        assert_eq!(
            check_events(&[]).unwrap_err(),
            "webhooks.error.events_required"
        );
        assert_eq!(
            check_events(&v(&["ping"])).unwrap_err(),
            "webhooks.error.events_unknown"
        );
        assert_eq!(check_bot_secret(Format::Feishu, "  ").unwrap(), None);
        assert_eq!(
            check_bot_secret(Format::Dingtalk, " SECabc ").unwrap(),
            Some("SECabc".into())
        );
        assert_eq!(
            check_bot_secret(Format::Wecom, "x").unwrap_err(),
            "webhooks.error.secret_not_used"
        );
        assert!(generate_secret().starts_with("whsec_") && generate_secret().len() == 54);
    }

    #[test]
    fn a_bot_answer_with_an_error_code_is_not_delivered() {
        assert!(accepted(Format::Sextant, 204, "").is_ok());
        assert_eq!(accepted(Format::Sextant, 500, "").unwrap_err(), "HTTP 500");
        assert_eq!(accepted(Format::Wecom, 302, "").unwrap_err(), "HTTP 302");
        assert!(accepted(Format::Dingtalk, 200, r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert!(accepted(Format::Feishu, 200, r#"{"code":0,"msg":"success"}"#).is_ok());
        assert!(
            accepted(
                Format::Feishu,
                200,
                r#"{"code":19021,"msg":"sign match fail"}"#
            )
            .unwrap_err()
            .contains("19021")
        );
        assert!(accepted(Format::Wecom, 200, r#"{"errcode":93000}"#).is_err());
        assert!(accepted(Format::Wecom, 200, "ok").is_ok());
    }

    #[test]
    fn every_label_and_message_is_in_both_catalogues() {
        for kind in EventKind::SUBSCRIBABLE.into_iter().chain([EventKind::Ping]) {
            assert!(in_both_catalogues(kind.label_key()), "{kind:?}");
            assert!(in_both_catalogues(kind.message_key()), "{kind:?}");
            assert_eq!(EventKind::parse(kind.code()), Some(kind));
        }
        for format in Format::ALL {
            assert!(in_both_catalogues(format.label_key()), "{format:?}");
            assert_eq!(Format::parse(format.code()), Some(format));
        }
        for state in ["pending", "delivered", "failed"] {
            assert!(in_both_catalogues(state_label_key(state)));
        }
        for d in DECISIONS {
            assert!(in_both_catalogues(&format!("webhooks.decision.{d}")), "{d}");
        }
    }

    #[test]
    fn the_chat_sentence_names_what_happened_and_links_the_page() {
        let data = json!({
            "campaign_id": "c1", "campaign_title": "Q1 空气炸锅", "round": 2, "creators": 3,
        });
        let link = "https://sextant.example/t/lumi/campaigns/c1/shortlist";
        assert_eq!(
            page_path(EventKind::ShortlistSent, "lumi", &data),
            "/t/lumi/campaigns/c1/shortlist"
        );
        let zh = message(Lang::ZhCn, EventKind::ShortlistSent, &data, link);
        assert!(zh.contains("Q1 空气炸锅") && zh.ends_with(link), "{zh}");
        assert!(!zh.contains("%{"), "{zh}");
        let en = message(Lang::En, EventKind::ShortlistSent, &data, link);
        assert!(
            en.contains("Q1 空气炸锅") && en.contains("shortlist"),
            "{en}"
        );
        let tier = json!({ "creator_id": "x", "creator_handle": "mia", "from": null, "to": "A" });
        let zh = message(Lang::ZhCn, EventKind::TierChanged, &tier, "l");
        assert!(zh.contains("@mia") && zh.contains('A'), "{zh}");
    }
}
