//! Hostile form input (issue 12, item 5): every POST route a seller owner, an account manager and
//! an admin can reach (and the public ones), each field set in turn to a NUL byte, 100 KB of text,
//! control characters, a right-to-left mark, emoji, and negative, huge and unreadable numbers;
//! then all fields at once. Never a 5xx; whatever answers 4xx stored nothing (every table but the
//! login throttle compared before and after).
//!
//! The route list is checked against the routers in `src/` (read like `architecture.rs` reads the
//! source), so a new POST route fails this test until it is listed here with its fields.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::support::{ACCOUNT_MANAGER, ADMIN, FINANCE, OWNER_LUMI, TestApp, shown_link_path};

const SLUG: &str = "lumi";

/// The values every field gets in turn: (label, value).
fn hostile_values() -> Vec<(&'static str, String)> {
    vec![
        ("NUL", "a\0b".to_string()),
        ("100 KB", "长x".repeat(100 * 1024 / 4)),
        ("SOH", "\u{1}".to_string()),
        ("ESC", "\u{1b}[2J".to_string()),
        ("RTL mark", "\u{202e}olleh".to_string()),
        ("emoji", "🦊 👩‍👩‍👧".to_string()),
        ("-1", "-1".to_string()),
        ("i64 overflow", "99999999999999999999".to_string()),
        ("1e400", "1e400".to_string()),
        ("NaN", "NaN".to_string()),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    AccountManager,
    Admin,
    Finance,
    Anonymous,
}

const EVERYONE: [Who; 5] = [
    Who::Owner,
    Who::AccountManager,
    Who::Admin,
    Who::Finance,
    Who::Anonymous,
];

/// How a route is posted: its path with real ids, its fields with a plausible value each, the role
/// that may use it (each field is tried alone as that role), and the body's kind.
struct Spec {
    path: String,
    fields: Vec<(&'static str, String)>,
    who: Who,
    /// A file upload: only its plain fields are tried (all at once), beside a tiny file.
    multipart: bool,
    /// Logging out ends the session: each post uses a fresh login.
    fresh_login: bool,
}

impl Spec {
    fn new(path: String, who: Who, fields: &[(&'static str, &str)]) -> Spec {
        Spec {
            path,
            fields: fields.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
            who,
            multipart: false,
            fresh_login: false,
        }
    }
}

/// Ids from the demo data the routes need.
struct Ids {
    draft: Uuid,
    submitted: Uuid,
    matching: Uuid,
    shortlist_sent: Uuid,
    contracting: Uuid,
    entry: Uuid,
    contracting_entry: Uuid,
    accepted: Uuid,
    post: Uuid,
    creator: Uuid,
    shop: Uuid,
    order_import: Uuid,
    fulfilment_record: Uuid,
    viewer: Uuid,
    finance: Uuid,
    am: Uuid,
    pending_tenant: Uuid,
    token: String,
    /// A creator working with the tenant, with a proposed blacklist entry.
    tier_creator: Uuid,
    blacklist_entry: Uuid,
    /// A deliverable version of `accepted`, added for the test (the demo has none).
    deliverable: Uuid,
}

const RATING_FIELDS: &[(&str, &str)] = &[
    ("level_content_quality", "4"),
    ("level_audience_match", "3"),
    ("level_communication", "5"),
    ("level_compliance", "4"),
    ("justification", ""),
    ("comment", "Clear demo of the product"),
];

const CAMPAIGN_FIELDS: &[(&str, &str)] = &[
    ("action", "draft"),
    ("title", "Hostile input check"),
    ("product_name", "Lumi 5L Air Fryer"),
    ("sku", "LUMI-AF-5L"),
    ("product_url", "https://shop.lumi-home.invalid/us/af5"),
    ("category", "home_kitchen"),
    ("unit_price", "59.90"),
    ("unit_currency", "USD"),
    ("markets", "US"),
    ("languages", "en"),
    ("format", "short_video"),
    ("creators_wanted", "5"),
    ("followers_min", "10000"),
    ("followers_max", "500000"),
    ("budget_min", "1000"),
    ("budget_max", "5000"),
    ("budget_currency", "USD"),
    ("fee_cap", "800"),
    ("fee_cap_currency", "USD"),
    ("commission_rate", "10"),
    ("age_buckets", "25-34"),
    ("gender", "female"),
    ("interests", "home_kitchen"),
    ("styles", "unboxing"),
    ("script_source", "agency"),
    ("creative_freedom", "1"),
    ("publish_from", "2030-01-10"),
    ("publish_to", "2030-02-10"),
    ("sample_needed", "1"),
    ("ship_from", "Shenzhen"),
    ("roi_target", "2"),
    ("gmv_target", "20000"),
    ("views_target", "100000"),
    ("ctr_target", "2"),
    ("known_pitfalls", "No price claims."),
];

const TERMS_FIELDS: &[(&str, &str)] = &[
    ("fee_model", "fixed_plus_commission"),
    ("fixed_fee", "300"),
    ("fixed_fee_currency", "USD"),
    ("commission_rate", "10"),
    ("service_fee_rate", "12"),
    ("videos", "1"),
    ("live_sessions", "0"),
    ("publish_deadline", "2030-03-01"),
    ("min_days_live", "30"),
    ("revisions_included", "1"),
    ("usage_rights", "organic_only"),
    ("paid_ads_until", ""),
    ("sample_sku", "LUMI-AF-5L"),
    ("sample_qty", "1"),
    ("sample_cost", "20"),
    ("sample_cost_currency", "USD"),
    ("sample_shipping", "8"),
    ("sample_paid_by", "agency"),
    ("other_costs", "15"),
    ("other_costs_currency", "USD"),
    ("other_costs_label", "Studio props"),
    ("discount_code", "HOSTILE10"),
];

/// Two field lists as one.
fn with<'a>(
    base: &[(&'static str, &'a str)],
    more: &[(&'static str, &'a str)],
) -> Vec<(&'static str, &'a str)> {
    base.iter().chain(more).copied().collect()
}

/// The spec of every POST route pattern this test knows; None for one it does not.
fn spec(pattern: &str, ids: &Ids) -> Option<Spec> {
    use Who::*;
    let t = format!("/t/{SLUG}");
    Some(match pattern {
        "/login" => Spec::new(
            "/login".into(),
            Anonymous,
            &[
                ("email", "owner@lumi-home.example"),
                ("password", "not-the-password"),
                ("next", "/t/lumi/"),
            ],
        ),
        "/forgot-password" => Spec::new(
            "/forgot-password".into(),
            Anonymous,
            &[("email", "owner@lumi-home.example")],
        ),
        "/logout" => Spec {
            fresh_login: true,
            ..Spec::new("/logout".into(), Owner, &[])
        },
        "/set-password/{token}" => Spec::new(
            format!("/set-password/{}", ids.token),
            Anonymous,
            &[
                ("password", "a-long-new-password"),
                ("password_confirm", "a-long-new-password"),
            ],
        ),
        "/account/password" => Spec::new(
            "/account/password".into(),
            Owner,
            &[
                ("current_password", "not-the-password"),
                ("password", "a-long-new-password"),
                ("password_confirm", "a-long-new-password"),
            ],
        ),
        "/lang" => Spec::new(
            "/lang".into(),
            Owner,
            &[("lang", "en"), ("next", "/t/lumi/")],
        ),
        "/signup" => Spec::new(
            "/signup".into(),
            Anonymous,
            &[
                ("company", "Hostile Test Co"),
                ("slug", "hostile-test"),
                ("name", "Hana Test"),
                ("email", "hana@hostile-test.example"),
                ("password", "a-long-new-password"),
                ("password_confirm", "a-long-new-password"),
            ],
        ),
        "/t/{tenant_slug}/settings/scorecard/new" => Spec {
            path: format!("{t}/settings/scorecard/new"),
            // The form's keys are numbered by row (`d3_weight`): made once for this test.
            fields: crate::scorecard::form(&crate::scorecard::with_new_dimension(), 1, "save")
                .into_iter()
                .map(|(k, v)| (&*Box::leak(k.into_boxed_str()), v))
                .collect(),
            who: Owner,
            multipart: false,
            fresh_login: false,
        },
        "/t/{tenant_slug}/settings/deductions" => Spec {
            path: format!("{t}/settings/deductions"),
            fields: crate::deductions::form(1, &crate::deductions::a_change())
                .into_iter()
                .map(|(k, v)| (&*Box::leak(k.into_boxed_str()), v))
                .collect(),
            who: Owner,
            multipart: false,
            fresh_login: false,
        },
        "/t/{tenant_slug}/settings/profile" => Spec::new(
            format!("{t}/settings/profile"),
            Owner,
            &[
                ("legal_name", "深圳市露米家居科技有限公司"),
                ("licence", "91440300MA5G8K2X7Q"),
                ("categories", "home_kitchen"),
                ("markets", "US"),
                ("fee_model", "fixed_plus_commission"),
                ("service_fee", "12"),
                ("settlement_currency", "CNY"),
                ("time_zone", "Asia/Shanghai"),
                ("action", "save"),
                ("shop-0-id", &ids.shop.to_string()),
                ("shop-0-name", "Lumi Home US · TikTok Shop"),
                ("shop-0-platform", "tiktok_shop"),
                ("shop-0-url", "https://shop.lumi-home.invalid/us"),
                ("shop-0-time_zone", "America/Los_Angeles"),
                ("shop-0-date_order", "MDY"),
                ("shop-0-currency", "USD"),
            ],
        ),
        "/t/{tenant_slug}/members" => Spec::new(
            format!("{t}/members"),
            Owner,
            &[
                ("name", "Nina Neu"),
                ("email", "nina@lumi-home.example"),
                ("role", "operator"),
            ],
        ),
        "/t/{tenant_slug}/members/{user_id}/role" => Spec::new(
            format!("{t}/members/{}/role", ids.viewer),
            Owner,
            &[("role", "viewer")],
        ),
        "/t/{tenant_slug}/members/{user_id}/reset-link" => {
            Spec::new(format!("{t}/members/{}/reset-link", ids.viewer), Owner, &[])
        }
        "/t/{tenant_slug}/members/{user_id}/remove" => {
            Spec::new(format!("{t}/members/{}/remove", ids.viewer), Owner, &[])
        }
        "/t/{tenant_slug}/campaigns" => Spec::new(format!("{t}/campaigns"), Owner, CAMPAIGN_FIELDS),
        "/t/{tenant_slug}/campaigns/{id}" => Spec::new(
            format!("{t}/campaigns/{}", ids.draft),
            Owner,
            CAMPAIGN_FIELDS,
        ),
        "/t/{tenant_slug}/campaigns/{id}/transition" => Spec::new(
            format!("{t}/campaigns/{}/transition", ids.submitted),
            Owner,
            &[("transition", "cancel"), ("reason", "Plans changed")],
        ),
        "/t/{tenant_slug}/campaigns/{id}/shortlist/{entry}" => Spec::new(
            format!(
                "{t}/campaigns/{}/shortlist/{}",
                ids.shortlist_sent, ids.entry
            ),
            Owner,
            &[("decision", "reject"), ("reason", "Not our audience")],
        ),
        "/t/{tenant_slug}/campaigns/{id}/shortlist/another-round" => Spec::new(
            format!(
                "{t}/campaigns/{}/shortlist/another-round",
                ids.shortlist_sent
            ),
            Owner,
            &[],
        ),
        "/t/{tenant_slug}/campaigns/{id}/shortlist/proceed" => Spec::new(
            format!("{t}/campaigns/{}/shortlist/proceed", ids.shortlist_sent),
            Owner,
            &[],
        ),
        "/t/{tenant_slug}/campaigns/{id}/matching" => {
            let note = format!("note-{}", ids.creator);
            let note: &'static str = Box::leak(note.into_boxed_str());
            Spec::new(
                format!("{t}/campaigns/{}/matching", ids.matching),
                AccountManager,
                &[
                    ("pick", &ids.creator.to_string()),
                    (note, "Strong kitchen audience"),
                ],
            )
        }
        "/t/{tenant_slug}/campaigns/{id}/collaborations" => Spec::new(
            format!("{t}/campaigns/{}/collaborations", ids.contracting),
            AccountManager,
            &with(
                &[("entry", &ids.contracting_entry.to_string())],
                TERMS_FIELDS,
            ),
        ),
        "/t/{tenant_slug}/collaborations/{id}/terms" => Spec::new(
            format!("{t}/collaborations/{}/terms", ids.accepted),
            AccountManager,
            &with(&[("reason", "Second video added")], TERMS_FIELDS),
        ),
        "/t/{tenant_slug}/collaborations/{id}/event" => Spec::new(
            format!("{t}/collaborations/{}/event", ids.accepted),
            AccountManager,
            &[
                ("event", "sample_shipped"),
                ("carrier", "SF Express"),
                ("tracking_number", "SF1234567890"),
                ("reason", ""),
            ],
        ),
        "/t/{tenant_slug}/collaborations/{id}/rating/open" => Spec::new(
            format!("{t}/collaborations/{}/rating/open", ids.accepted),
            Owner,
            &[("override_reason", "The creator's post went viral early")],
        ),
        "/t/{tenant_slug}/collaborations/{id}/rating/raters" => Spec::new(
            format!("{t}/collaborations/{}/rating/raters", ids.accepted),
            Owner,
            &[("rater", &ids.viewer.to_string())],
        ),
        "/t/{tenant_slug}/collaborations/{id}/rating/submit" => Spec::new(
            format!("{t}/collaborations/{}/rating/submit", ids.accepted),
            Owner,
            RATING_FIELDS,
        ),
        "/t/{tenant_slug}/collaborations/{id}/rating/correct" => Spec::new(
            format!("{t}/collaborations/{}/rating/correct", ids.accepted),
            Owner,
            &with(&[("reason", "Misread the comments")], RATING_FIELDS),
        ),
        "/t/{tenant_slug}/collaborations/{id}/rating/close" => Spec::new(
            format!("{t}/collaborations/{}/rating/close", ids.accepted),
            Owner,
            &[("reason", "The second rater left")],
        ),
        "/t/{tenant_slug}/collaborations/{id}/posts" => Spec::new(
            format!("{t}/collaborations/{}/posts", ids.accepted),
            Owner,
            &[
                (
                    "url",
                    "https://www.tiktok.com/@lumi.fan/video/7301234567890123999",
                ),
                ("video_id", ""),
                ("published_at", "2026-05-01T10:00"),
            ],
        ),
        "/t/{tenant_slug}/posts/{id}/snapshots" => Spec::new(
            format!("{t}/posts/{}/snapshots", ids.post),
            Owner,
            &[
                ("captured_at", "2026-05-03T10:00"),
                ("views", "12000"),
                ("likes", "800"),
                ("comments", "40"),
                ("shares", "12"),
                ("avg_watch_seconds", "9.5"),
            ],
        ),
        "/t/{tenant_slug}/campaigns/{id}/snapshots/import" => Spec {
            multipart: true,
            ..Spec::new(
                format!("{t}/campaigns/{}/snapshots/import", ids.contracting),
                Owner,
                &[],
            )
        },
        "/t/{tenant_slug}/snapshot-imports/{id}/confirm" => Spec::new(
            format!("{t}/snapshot-imports/{}/confirm", Uuid::now_v7()),
            Owner,
            &[],
        ),
        "/t/{tenant_slug}/snapshot-imports/{id}/cancel" => Spec::new(
            format!("{t}/snapshot-imports/{}/cancel", Uuid::now_v7()),
            Owner,
            &[],
        ),
        "/t/{tenant_slug}/orders/imports" => Spec {
            multipart: true,
            ..Spec::new(
                format!("{t}/orders/imports"),
                Owner,
                &[("shop_id", "none"), ("exported_at", "none")],
            )
        },
        "/t/{tenant_slug}/collaborations/{id}/fulfilment" => Spec {
            multipart: true,
            ..Spec::new(
                format!("{t}/collaborations/{}/fulfilment", ids.accepted),
                Owner,
                &[
                    ("kind", "slow_response"),
                    ("severity", "minor"),
                    ("note", "Answered after four days"),
                    ("occurred_on", ""),
                ],
            )
        },
        "/t/{tenant_slug}/collaborations/{id}/deliverables" => Spec {
            multipart: true,
            ..Spec::new(
                format!("{t}/collaborations/{}/deliverables", ids.accepted),
                Owner,
                &[
                    ("kind", "script"),
                    ("lang", "en"),
                    ("link", ""),
                    ("note", "The creator's first script"),
                ],
            )
        },
        "/t/{tenant_slug}/campaigns/{id}/report/lessons" => Spec::new(
            format!("{t}/campaigns/{}/report/lessons", ids.contracting),
            Owner,
            &[("lessons", "Hooks in the first 3 seconds converted best.")],
        ),
        "/t/{tenant_slug}/deliverables/{id}/self-check" => Spec::new(
            format!("{t}/deliverables/{}/self-check", ids.deliverable),
            Owner,
            &[
                ("item", "01900000-0000-7000-8000-000000000002"),
                ("comment", "Checked"),
            ],
        ),
        "/t/{tenant_slug}/deliverables/{id}/review" => Spec::new(
            format!("{t}/deliverables/{}/review", ids.deliverable),
            AccountManager,
            &[("outcome", "request_changes"), ("comment", "Shorter hook")],
        ),
        // Only a Bearer token opens it: every form post here is refused, storing nothing.
        "/api/v1/posts" => Spec::new(
            "/api/v1/posts".into(),
            Owner,
            &[
                ("collaboration_id", "x"),
                ("url", "https://www.tiktok.com/@a/video/1"),
            ],
        ),
        "/api/v1/snapshots" => Spec::new(
            "/api/v1/snapshots".into(),
            Owner,
            &[("snapshots", "x"), ("views", "-1")],
        ),
        "/api/v1/orders" => Spec::new(
            "/api/v1/orders".into(),
            Owner,
            &[("shop_id", "x"), ("as_of", "yesterday")],
        ),
        "/t/{tenant_slug}/settings/api-tokens" => Spec::new(
            format!("{t}/settings/api-tokens"),
            Owner,
            &[("name", "ERP sync"), ("scope", "read")],
        ),
        "/t/{tenant_slug}/settings/api-tokens/{id}/revoke" => Spec::new(
            format!("{t}/settings/api-tokens/{}/revoke", Uuid::nil()),
            Owner,
            &[],
        ),
        "/account/api-tokens" => Spec::new(
            "/account/api-tokens".into(),
            AccountManager,
            &[("name", "Agency BI"), ("scope", "read")],
        ),
        "/account/api-tokens/{id}/revoke" => Spec::new(
            format!("/account/api-tokens/{}/revoke", Uuid::nil()),
            AccountManager,
            &[],
        ),
        "/t/{tenant_slug}/settings/webhooks" => Spec::new(
            format!("{t}/settings/webhooks"),
            Owner,
            &[
                ("url", "http://127.0.0.1:9/hostile-hook"),
                ("format", "feishu"),
                ("events", "shortlist.sent"),
                ("secret", "bot-secret"),
                ("lang", "zh-CN"),
            ],
        ),
        "/t/{tenant_slug}/settings/webhooks/{id}/active" => Spec::new(
            format!("{t}/settings/webhooks/{}/active", Uuid::nil()),
            Owner,
            &[("active", "false")],
        ),
        "/t/{tenant_slug}/settings/webhooks/{id}/delete" => Spec::new(
            format!("{t}/settings/webhooks/{}/delete", Uuid::nil()),
            Owner,
            &[],
        ),
        "/t/{tenant_slug}/settings/webhooks/{id}/test" => Spec::new(
            format!("{t}/settings/webhooks/{}/test", Uuid::nil()),
            Owner,
            &[],
        ),
        "/t/{tenant_slug}/settings/content-review" => Spec::new(
            format!("{t}/settings/content-review"),
            Owner,
            &[("content_review", "on"), ("back", "")],
        ),
        "/admin/checklists" => Spec::new(
            "/admin/checklists".into(),
            Admin,
            &[
                ("platform", ""),
                ("markets", "US"),
                ("text_zh", "价格一致"),
                ("text_en", "Price matches"),
                ("position", "5"),
            ],
        ),
        "/admin/checklists/{id}/active" => Spec::new(
            "/admin/checklists/01900000-0000-7000-8000-000000000008/active".into(),
            Admin,
            &[("active", "off")],
        ),
        "/t/{tenant_slug}/fulfilment/{id}/correct" => Spec::new(
            format!("{t}/fulfilment/{}/correct", ids.fulfilment_record),
            Owner,
            &[
                ("action", "withdraw"),
                ("note", ""),
                ("reason", "Agreed with the creator"),
            ],
        ),
        "/t/{tenant_slug}/orders/imports/{id}/{action}" => Spec::new(
            format!("{t}/orders/imports/{}/cancel", ids.order_import),
            Owner,
            &[],
        ),
        "/t/{tenant_slug}/orders/attribute" => Spec::new(
            format!("{t}/orders/attribute"),
            Owner,
            &[
                ("shop_id", &ids.shop.to_string()),
                ("order_key", "5770000000000000001"),
                ("line_key", "1"),
                ("collaboration_id", &ids.accepted.to_string()),
            ],
        ),
        "/t/{tenant_slug}/orders/attribute-many" => Spec::new(
            format!("{t}/orders/attribute-many"),
            Owner,
            &[
                ("line", &format!("{}:5770000000000000001:1", ids.shop)),
                ("collaboration_id", &ids.accepted.to_string()),
            ],
        ),
        "/admin/matching-weights" => Spec::new(
            "/admin/matching-weights".into(),
            Admin,
            &[
                ("audience", "30"),
                ("engagement", "20"),
                ("category", "20"),
                ("style", "10"),
                ("price", "10"),
                ("track_record", "10"),
            ],
        ),
        "/admin/tenants/{id}/status" => Spec::new(
            format!("/admin/tenants/{}/status", ids.pending_tenant),
            Admin,
            &[
                ("action", "suspend"),
                ("reason", "Licence could not be checked"),
            ],
        ),
        "/admin/tenants/{id}/assignments" => Spec::new(
            format!("/admin/tenants/{}/assignments", ids.pending_tenant),
            Admin,
            &[("am", &ids.am.to_string())],
        ),
        "/admin/staff" => Spec::new(
            "/admin/staff".into(),
            Admin,
            &[
                ("name", "Sam Staff"),
                ("email", "sam@sextant.example"),
                ("role", "finance"),
            ],
        ),
        "/admin/staff/{id}" => Spec::new(
            format!("/admin/staff/{}", ids.finance),
            Admin,
            &[("name", "Fay Finance"), ("role", "finance")],
        ),
        "/admin/staff/{id}/active" => Spec::new(
            format!("/admin/staff/{}/active", ids.finance),
            Admin,
            &[("action", "deactivate")],
        ),
        "/admin/staff/{id}/reset-link" => Spec::new(
            format!("/admin/staff/{}/reset-link", ids.finance),
            Admin,
            &[],
        ),
        "/admin/creators/import" => Spec {
            multipart: true,
            ..Spec::new("/admin/creators/import".into(), Admin, &[])
        },
        "/admin/creators/import/{id}/confirm" => Spec::new(
            format!("/admin/creators/import/{}/confirm", Uuid::now_v7()),
            Admin,
            &[],
        ),
        "/admin/creators/import/{id}/cancel" => Spec::new(
            format!("/admin/creators/import/{}/cancel", Uuid::now_v7()),
            Admin,
            &[],
        ),
        "/t/{tenant_slug}/creators/{id}/tier" => Spec::new(
            format!("{t}/creators/{}/tier", ids.tier_creator),
            Owner,
            &[("tier", "A"), ("reason", "Strong repeat results")],
        ),
        "/t/{tenant_slug}/blacklist/{id}" => Spec::new(
            format!("{t}/blacklist/{}", ids.blacklist_entry),
            Owner,
            &[
                ("decision", "dismiss"),
                ("reason", "Was a misunderstanding"),
            ],
        ),
        "/admin/creators/{id}/platform-blacklist" => Spec::new(
            format!("/admin/creators/{}/platform-blacklist", ids.creator),
            Admin,
            &[("action", "add"), ("reason", "Fake followers")],
        ),
        "/admin/creators/{id}/edit" => Spec::new(
            format!("/admin/creators/{}/edit", ids.creator),
            Admin,
            &[
                ("display_name", "Renamed"),
                ("followers", "12000"),
                ("country", "US"),
                ("contact", "a@b.invalid"),
            ],
        ),
        "/admin/creators/{id}/status" => Spec::new(
            format!("/admin/creators/{}/status", ids.creator),
            Admin,
            &[("action", "deactivate"), ("reason", "Stopped posting")],
        ),
        "/finance/rates" => Spec::new(
            "/finance/rates".into(),
            Finance,
            &[
                ("period", "2026-11"),
                ("rate.USD.CNY", "7.1234"),
                ("rate.GBP.USD", "1.27"),
            ],
        ),
        "/finance/t/{slug}/periods/{period}/{command}" => Spec::new(
            format!("/finance/t/{SLUG}/periods/2026-11/review"),
            Finance,
            &[],
        ),
        "/finance/t/{slug}/periods/{period}/adjustments" => Spec::new(
            format!("/finance/t/{SLUG}/periods/2026-11/adjustments"),
            Finance,
            &[
                ("collaboration", &ids.accepted.to_string()),
                ("currency", "USD"),
                ("amount", "-25.50"),
                ("reason", "Goodwill credit for a late sample"),
            ],
        ),
        "/finance/t/{slug}/periods/{period}/adjustments/{id}/remove" => Spec::new(
            format!(
                "/finance/t/{SLUG}/periods/2026-11/adjustments/{}/remove",
                Uuid::nil()
            ),
            Finance,
            &[],
        ),
        "/finance/t/{slug}/periods/{period}/payments" => Spec::new(
            format!("/finance/t/{SLUG}/periods/2026-10/payments"),
            Finance,
            &[
                ("paid_on", "2026-11-05"),
                ("amount", "100"),
                ("reference", "CMB-202610"),
            ],
        ),
        "/t/{tenant_slug}/settlements/{id}/verify" => Spec::new(
            format!("{t}/settlements/{}/verify", Uuid::nil()),
            Owner,
            &[],
        ),
        "/admin/rates" => Spec::new(
            "/admin/rates".into(),
            Admin,
            &[
                ("date", "2026-05-01"),
                ("from", "USD"),
                ("to", "CNY"),
                ("rate", "7.1"),
            ],
        ),
        // Every other write of /api/v1: only a Bearer token opens it, so a form post with the
        // session cookie is refused and stores nothing, whatever it names.
        api if api.starts_with("/api/v1/") => Spec::new(
            api.split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        Uuid::nil().to_string()
                    } else {
                        part.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/"),
            Owner,
            &[("title", "x"), ("reason", "y")],
        ),
        _ => return None,
    })
}

/// The order the routes are posted in: forms that change things before the moves that would close
/// them (a campaign's shortlist before "another round", a member's role before removing them),
/// logging out last.
const ORDER: &[&str] = &[
    "/login",
    "/forgot-password",
    "/signup",
    "/set-password/{token}",
    "/account/password",
    "/lang",
    "/t/{tenant_slug}/settings/profile",
    "/t/{tenant_slug}/settings/scorecard/new",
    "/t/{tenant_slug}/settings/deductions",
    "/t/{tenant_slug}/members",
    "/t/{tenant_slug}/members/{user_id}/role",
    "/t/{tenant_slug}/members/{user_id}/reset-link",
    "/t/{tenant_slug}/campaigns",
    "/t/{tenant_slug}/campaigns/{id}",
    "/t/{tenant_slug}/campaigns/{id}/transition",
    "/t/{tenant_slug}/campaigns/{id}/shortlist/{entry}",
    "/t/{tenant_slug}/campaigns/{id}/matching",
    "/t/{tenant_slug}/campaigns/{id}/collaborations",
    "/t/{tenant_slug}/collaborations/{id}/terms",
    "/t/{tenant_slug}/collaborations/{id}/event",
    "/t/{tenant_slug}/collaborations/{id}/posts",
    "/t/{tenant_slug}/collaborations/{id}/rating/open",
    "/t/{tenant_slug}/collaborations/{id}/rating/raters",
    "/t/{tenant_slug}/collaborations/{id}/rating/submit",
    "/t/{tenant_slug}/collaborations/{id}/rating/correct",
    "/t/{tenant_slug}/collaborations/{id}/rating/close",
    "/t/{tenant_slug}/posts/{id}/snapshots",
    "/t/{tenant_slug}/campaigns/{id}/snapshots/import",
    "/t/{tenant_slug}/snapshot-imports/{id}/confirm",
    "/t/{tenant_slug}/snapshot-imports/{id}/cancel",
    "/t/{tenant_slug}/orders/imports",
    "/t/{tenant_slug}/orders/attribute",
    "/t/{tenant_slug}/orders/attribute-many",
    "/t/{tenant_slug}/orders/imports/{id}/{action}",
    "/t/{tenant_slug}/collaborations/{id}/fulfilment",
    "/t/{tenant_slug}/fulfilment/{id}/correct",
    "/t/{tenant_slug}/collaborations/{id}/deliverables",
    "/t/{tenant_slug}/deliverables/{id}/self-check",
    "/t/{tenant_slug}/campaigns/{id}/report/lessons",
    "/t/{tenant_slug}/deliverables/{id}/review",
    "/t/{tenant_slug}/settings/content-review",
    "/t/{tenant_slug}/settings/api-tokens",
    "/t/{tenant_slug}/settings/webhooks",
    "/t/{tenant_slug}/settings/webhooks/{id}/active",
    "/t/{tenant_slug}/settings/webhooks/{id}/test",
    "/t/{tenant_slug}/settings/webhooks/{id}/delete",
    "/api/v1/posts",
    "/api/v1/snapshots",
    "/api/v1/orders",
    "/api/v1/collaborations",
    "/api/v1/collaborations/{id}/terms",
    "/api/v1/collaborations/{id}/events",
    "/api/v1/collaborations/{id}/fulfilment-records",
    "/api/v1/fulfilment-records/{id}/correct",
    "/api/v1/campaigns",
    "/api/v1/campaigns/{id}/submit",
    "/api/v1/campaigns/{id}/transitions",
    "/api/v1/campaigns/{id}/shortlist",
    "/api/v1/campaigns/{id}/shortlist/entries/{entry_id}/decision",
    "/api/v1/campaigns/{id}/shortlist/another-round",
    "/api/v1/campaigns/{id}/shortlist/approve",
    "/api/v1/creators/batch",
    "/api/v1/collaborations/{id}/rating",
    "/api/v1/ratings/{id}/raters",
    "/api/v1/ratings/{id}/scorecards",
    "/api/v1/ratings/{id}/close",
    "/api/v1/creators/{id}/blacklist",
    "/api/v1/blacklist/{entry_id}/decision",
    "/api/v1/creators/{id}/tier-override",
    "/t/{tenant_slug}/settings/api-tokens/{id}/revoke",
    "/account/api-tokens",
    "/account/api-tokens/{id}/revoke",
    "/admin/matching-weights",
    "/admin/tenants/{id}/status",
    "/admin/tenants/{id}/assignments",
    "/admin/staff",
    "/admin/staff/{id}",
    "/admin/staff/{id}/reset-link",
    "/admin/staff/{id}/active",
    "/admin/creators/import",
    "/admin/creators/import/{id}/confirm",
    "/admin/creators/import/{id}/cancel",
    "/admin/rates",
    "/admin/checklists",
    "/admin/checklists/{id}/active",
    "/finance/rates",
    "/finance/t/{slug}/periods/{period}/{command}",
    "/finance/t/{slug}/periods/{period}/adjustments",
    "/finance/t/{slug}/periods/{period}/adjustments/{id}/remove",
    "/finance/t/{slug}/periods/{period}/payments",
    "/t/{tenant_slug}/settlements/{id}/verify",
    "/admin/creators/{id}/platform-blacklist",
    "/admin/creators/{id}/edit",
    "/admin/creators/{id}/status",
    "/t/{tenant_slug}/creators/{id}/tier",
    "/t/{tenant_slug}/blacklist/{id}",
    "/t/{tenant_slug}/campaigns/{id}/shortlist/another-round",
    "/t/{tenant_slug}/campaigns/{id}/shortlist/proceed",
    "/t/{tenant_slug}/members/{user_id}/remove",
    "/logout",
];

// ---------------------------------------------------------------------------------------------
// The routes in the source
// ---------------------------------------------------------------------------------------------

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every path routed with a POST handler in `src/`: each `.route("path", …)` call read up to its
/// closing parenthesis.
fn post_routes_in_source() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut routes = BTreeSet::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read source");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            let call = &rest[at + ".route(".len()..];
            let (mut depth, mut in_string, mut end) = (1, false, call.len());
            for (i, c) in call.char_indices() {
                match c {
                    '"' => in_string = !in_string,
                    '(' if !in_string => depth += 1,
                    ')' if !in_string => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let body = &call[..end];
            if body.contains("post(")
                && let Some(path) = body.split('"').nth(1)
            {
                routes.insert(path.to_string());
            }
            rest = &call[end..];
        }
    }
    routes
}

#[test]
fn every_post_route_in_the_source_is_in_the_hostile_input_list() {
    let in_source = post_routes_in_source();
    assert!(
        in_source.contains("/login") && in_source.len() > 30,
        "{in_source:?}"
    );
    let listed: BTreeSet<String> = ORDER.iter().map(|s| s.to_string()).collect();
    let missing: Vec<_> = in_source.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&in_source).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "POST routes not in tests/it/hostile_input.rs: {missing:?}; listed but no longer routed: {gone:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The posting
// ---------------------------------------------------------------------------------------------

/// A digest of every table a form could write (the login throttle counts failures by design, the
/// import staging belongs to the worker, the tier job's bookkeeping to the job, and an audited
/// access is no stored input): per table its row count and the sum of its rows' `xmin` — an insert changes the count, an update writes a
/// new row version with a new `xmin`, a delete changes the count (and a delete with an insert in
/// one transaction changes the sum). Cheap enough for every post (hashing every row's text took
/// seconds once the demo had its clicks).
async fn fingerprint(conn: &mut PgConnection, tables: &[String]) -> Vec<(String, String)> {
    let parts: Vec<String> = tables
        .iter()
        .map(|t| {
            // Opening a staff cross-tenant scope is audited as an access, whatever the answer.
            let only = if t == "audit_log" {
                " WHERE x.action <> 'scope.open'"
            } else {
                ""
            };
            format!(
                "(SELECT count(*)::text || ':' || coalesce(sum(x.xmin::text::bigint), 0)::text FROM {t} x{only})"
            )
        })
        .collect();
    // dynamic: the table list is read from the catalogue.
    let sql = format!("SELECT ARRAY[{}]", parts.join(", "));
    let digests: Vec<String> = sqlx::query_scalar(&sql)
        .fetch_one(&mut *conn)
        .await
        .expect("fingerprint");
    tables.iter().cloned().zip(digests).collect()
}

async fn tables(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' \
         AND tablename NOT IN ('login_throttle', 'order_import_staging', 'platform_tier_dirty', \
           'tier_job_runs') ORDER BY tablename",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("tables")
}

async fn ids(app: &TestApp, admin: &reqwest::Client) -> Ids {
    let mut conn = app.owner_conn().await;
    let tenant = app.tenant_id(SLUG).await;
    async fn uuid(conn: &mut PgConnection, sql: &str, tenant: Uuid) -> Uuid {
        sqlx::query_scalar(sql)
            .bind(tenant)
            .fetch_one(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    let campaign = |state: &'static str| app.campaign_in(SLUG, state);
    let shortlist_sent = campaign("shortlist_sent").await;
    let contracting = campaign("contracting").await;
    let entry: Uuid = sqlx::query_scalar(
        "SELECT id FROM shortlist_entries WHERE campaign_id = $1 AND decision IS NULL \
         ORDER BY id LIMIT 1",
    )
    .bind(shortlist_sent)
    .fetch_one(&mut conn)
    .await
    .expect("an undecided entry");
    let contracting_entry: Uuid = sqlx::query_scalar(
        "SELECT id FROM shortlist_entries WHERE campaign_id = $1 ORDER BY decision NULLS LAST, id \
         LIMIT 1",
    )
    .bind(contracting)
    .fetch_one(&mut conn)
    .await
    .expect("an entry");
    // The staff member the admin's staff forms edit (and deactivate): the second finance person,
    // so the first stays signed in for the finance routes.
    let finance = app.user_id(crate::settlement::FINANCE2.0).await;
    let am = app.user_id(ACCOUNT_MANAGER.0).await;
    let tier_creator = uuid(
        &mut conn,
        "SELECT l.creator_id FROM collaborations l WHERE l.tenant_id = $1 AND NOT EXISTS \
           (SELECT 1 FROM blacklist_entries b WHERE b.tenant_id = l.tenant_id \
             AND b.creator_id = l.creator_id) ORDER BY l.id LIMIT 1",
        tenant,
    )
    .await;
    let blacklist_entry: Uuid = sqlx::query_scalar(
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, \
         proposed_by_label) VALUES ($1, gen_random_uuid(), $2, 'proposed', 'Severe record', \
         'hostile input test') RETURNING id",
    )
    .bind(tenant)
    .bind(tier_creator)
    .fetch_one(&mut conn)
    .await
    .expect("a blacklist entry");
    // A real one-time link, so set-password reaches its checks.
    let res = app
        .post_form(admin, &format!("/admin/staff/{finance}/reset-link"), &[])
        .await;
    let token = shown_link_path(&res.text().await.unwrap())
        .trim_start_matches("/set-password/")
        .to_string();
    let accepted = uuid(
        &mut conn,
        "SELECT c.id FROM collaborations c JOIN campaigns k ON k.tenant_id = c.tenant_id \
         AND k.id = c.campaign_id WHERE c.tenant_id = $1 AND k.state = 'running' \
         AND c.state = 'accepted' ORDER BY c.id LIMIT 1",
        tenant,
    )
    .await;
    let deliverable: Uuid = sqlx::query_scalar(
        "INSERT INTO deliverables (tenant_id, id, collaboration_id, kind, lang, version, name, \
         link, created_by_label) VALUES ($1, gen_random_uuid(), $2, 'draft_video', 'en', 1, \
         'HOSTILE_draft_video_EN_v1', 'https://drive.example.invalid/v/1', 'hostile input test') \
         RETURNING id",
    )
    .bind(tenant)
    .bind(accepted)
    .fetch_one(&mut conn)
    .await
    .expect("a deliverable");
    Ids {
        draft: campaign("draft").await,
        submitted: campaign("submitted").await,
        matching: campaign("matching").await,
        shortlist_sent,
        contracting,
        entry,
        contracting_entry,
        accepted,
        post: uuid(
            &mut conn,
            "SELECT id FROM posts WHERE tenant_id = $1 ORDER BY id LIMIT 1",
            tenant,
        )
        .await,
        creator: sqlx::query_scalar("SELECT id FROM creators ORDER BY id LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .expect("a creator"),
        shop: uuid(
            &mut conn,
            "SELECT id FROM shops WHERE tenant_id = $1 AND name LIKE '%US · TikTok%'",
            tenant,
        )
        .await,
        order_import: sqlx::query_scalar(
            "SELECT id FROM order_imports WHERE tenant_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(tenant)
        .fetch_optional(&mut conn)
        .await
        .expect("order imports")
        .unwrap_or_else(Uuid::now_v7),
        // A record that counts (the demo records some).
        fulfilment_record: sqlx::query_scalar(
            "SELECT id FROM counting_fulfilment_records WHERE tenant_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(tenant)
        .fetch_optional(&mut conn)
        .await
        .expect("fulfilment records")
        .unwrap_or_else(Uuid::now_v7),
        viewer: app.user_id(crate::support::VIEWER_LUMI.0).await,
        finance,
        am,
        pending_tenant: app.tenant_id("dawnlight").await,
        token,
        tier_creator,
        blacklist_entry,
        deliverable,
    }
}

struct Run<'a> {
    app: &'a TestApp,
    conn: PgConnection,
    tables: Vec<String>,
    /// Logged-in clients by role (the anonymous one has no session).
    clients: Vec<(Who, reqwest::Client)>,
    failures: Vec<String>,
    posts: usize,
}

impl Run<'_> {
    async fn client_for(&self, who: Who, fresh_login: bool) -> reqwest::Client {
        if fresh_login {
            let (email, password) = match who {
                Who::Owner => OWNER_LUMI,
                Who::AccountManager => ACCOUNT_MANAGER,
                Who::Admin => ADMIN,
                Who::Finance => FINANCE,
                Who::Anonymous => return self.app.client(),
            };
            return self.app.login(email, password).await;
        }
        self.clients
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, c)| c.clone())
            .expect("client")
    }

    /// Posts one body and checks the answer: never a 5xx, and nothing stored on a 4xx.
    async fn post(&mut self, spec: &Spec, who: Who, fields: &[(&str, String)], what: &str) {
        let client = self.client_for(who, spec.fresh_login).await;
        let before = fingerprint(&mut self.conn, &self.tables).await;
        let url = self.app.url(&spec.path);
        let res = if spec.multipart {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in fields {
                form = form.text(k.to_string(), v.clone());
            }
            let file = reqwest::multipart::Part::bytes(b"a,b\n1,2\n".to_vec())
                .file_name("hostile.csv")
                .mime_str("text/csv")
                .unwrap();
            client
                .post(url)
                .multipart(form.part("file", file))
                .send()
                .await
        } else {
            client.post(url).form(fields).send().await
        };
        self.posts += 1;
        let status = match res {
            Ok(res) => res.status(),
            Err(e) => {
                self.failures
                    .push(format!("POST {} as {who:?} ({what}): {e}", spec.path));
                return;
            }
        };
        if status.is_server_error() {
            self.failures
                .push(format!("POST {} as {who:?} ({what}): {status}", spec.path));
        } else if status.is_client_error() {
            let after = fingerprint(&mut self.conn, &self.tables).await;
            let changed: Vec<&str> = before
                .iter()
                .zip(&after)
                .filter(|(b, a)| b.1 != a.1)
                .map(|(b, _)| b.0.as_str())
                .collect();
            if !changed.is_empty() {
                self.failures.push(format!(
                    "POST {} as {who:?} ({what}) answered {status} but changed {changed:?}",
                    spec.path
                ));
            }
        }
    }
}

#[tokio::test]
async fn hostile_form_input_never_answers_5xx_and_a_refusal_stores_nothing() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let finance = app.login(FINANCE.0, FINANCE.1).await;
    let ids = ids(&app, &admin).await;
    let mut conn = PgConnection::connect(&app.database_url).await.unwrap();
    let tables = tables(&mut conn).await;
    let mut run = Run {
        app: &app,
        conn,
        tables,
        clients: vec![
            (Who::Owner, owner),
            (Who::AccountManager, am),
            (Who::Admin, admin),
            (Who::Finance, finance),
            // Hostile logins come from their own address, so the throttle they trip locks no
            // one else out.
            (Who::Anonymous, app.client_from_ip("127.0.0.9")),
        ],
        failures: Vec::new(),
        posts: 0,
    };
    let values = hostile_values();
    for pattern in ORDER {
        let spec = spec(pattern, &ids).unwrap_or_else(|| panic!("no spec for {pattern}"));
        // Each field alone, the others as a person would fill them, as the role the form is for.
        if !spec.multipart {
            for (i, (field, _)) in spec.fields.iter().enumerate() {
                for (label, value) in &values {
                    let mut fields = spec.fields.clone();
                    fields[i].1 = value.clone();
                    run.post(&spec, spec.who, &fields, &format!("{field} = {label}"))
                        .await;
                }
            }
        }
        // Every field at once (a junk field when the form has none), as everyone.
        for who in EVERYONE {
            if spec.fresh_login && who == Who::Anonymous {
                continue;
            }
            for (label, value) in &values {
                let fields: Vec<(&str, String)> = if spec.fields.is_empty() {
                    vec![("x", value.clone())]
                } else {
                    spec.fields
                        .iter()
                        .map(|(k, _)| (*k, value.clone()))
                        .collect()
                };
                run.post(&spec, who, &fields, &format!("every field = {label}"))
                    .await;
            }
        }
    }
    assert!(run.posts > 1000, "only {} posts", run.posts);
    assert!(
        run.failures.is_empty(),
        "{} of {} hostile posts went wrong:\n{}",
        run.failures.len(),
        run.posts,
        run.failures.join("\n")
    );
}
