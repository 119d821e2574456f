//! What other pages show of tiers, rendered here as HTML partials (our own escaped templates):
//! the seller's tier section of a creator (badge, score, reason in words, recommendation,
//! warning, history, blacklist entries with the owner's forms, the override form), the badges of
//! a list of creators, the tier distribution chart, and the staff's platform section.

use std::collections::HashMap;

use askama::Template;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{self, Reason, Recommendation};
use super::repo::{self, HistoryRow};
use crate::error::AppResult;
use crate::kernel::FieldErrors;
use crate::kernel::tier::{Tier, TierBadge};
use crate::web::fmt;
use crate::web::lang::Lang;

/// A tier change in words.
pub struct HistoryView {
    pub at: String,
    pub from: String,
    pub to: String,
    pub score: String,
    pub reason: String,
    pub cause: String,
    pub by: String,
}

pub struct EntryView {
    pub id: Uuid,
    pub status: String,
    pub status_label: String,
    pub reason: String,
    pub proposed: String,
    pub decision_reason: String,
}

/// What the owner typed in a form that failed, to show again with the messages.
#[derive(Default)]
pub struct FormState {
    /// "override" or an entry's id.
    pub form: String,
    pub tier: String,
    pub reason: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "tiers/_seller.html")]
struct SellerSection {
    /// Named `layout` so the shared badge partial reads it.
    layout: Lang,
    slug: String,
    creator: Uuid,
    badge: TierBadge,
    computed: String,
    score: String,
    reason: String,
    recommendation: String,
    warning: bool,
    override_note: Option<String>,
    history: Vec<HistoryView>,
    entries: Vec<EntryView>,
    is_owner: bool,
    state: FormState,
}

impl SellerSection {
    fn error(&self, form: &str, field: &str) -> Option<String> {
        (self.state.form == form)
            .then(|| self.state.errors.get(field).map(|k| self.layout.t(k)))
            .flatten()
    }

    fn typed(&self, form: &str, field: &str) -> String {
        if self.state.form != form {
            return String::new();
        }
        match field {
            "tier" => self.state.tier.clone(),
            _ => self.state.reason.clone(),
        }
    }
}

/// The reason in words in `lang`.
pub fn reason_words(lang: Lang, reason: &serde_json::Value) -> String {
    match serde_json::from_value::<Reason>(reason.clone()) {
        Ok(r) => domain::reason_text(&r, &|k| lang.t(k), &|k, a| lang.t_with(k, a)),
        Err(_) => String::new(),
    }
}

fn history_views(lang: Lang, rows: Vec<HistoryRow>, tz: &str) -> Vec<HistoryView> {
    let letter = |t: &Option<String>| t.clone().unwrap_or_else(|| "–".into());
    rows.into_iter()
        .map(|h| HistoryView {
            at: fmt::datetime(h.at, tz),
            from: letter(&h.from_tier),
            to: letter(&h.to_tier),
            score: h.score.map_or_else(|| "—".into(), |s| format!("{s:.1}")),
            reason: reason_words(lang, &h.reason),
            cause: lang.t(&format!("tiers.cause.{}", h.cause)),
            by: h.actor_label,
        })
        .collect()
}

/// The seller's tier section of a creator's page, in the page's tenant transaction.
#[allow(clippy::too_many_arguments)]
pub async fn seller_section(
    conn: &mut PgConnection,
    tenant: Uuid,
    slug: &str,
    tz: &str,
    creator: Uuid,
    lang: Lang,
    is_owner: bool,
    state: FormState,
) -> AppResult<String> {
    let row = repo::tenant_rows(conn, tenant, Some(&[creator]))
        .await?
        .into_iter()
        .next();
    let history = repo::tenant_history(conn, tenant, creator).await?;
    let entries = repo::entries_of(conn, tenant, creator).await?;
    let blocked = entries.iter().any(|e| e.status == "confirmed");
    let tier = row.as_ref().and_then(|r| r.tier.as_deref()).and_then(Tier::parse);
    let section = SellerSection {
        layout: lang,
        slug: slug.to_string(),
        creator,
        badge: TierBadge::new(tier, blocked),
        computed: row
            .as_ref()
            .and_then(|r| r.computed_tier.clone())
            .unwrap_or_else(|| "–".into()),
        score: row
            .as_ref()
            .and_then(|r| r.score)
            .map_or_else(|| "—".into(), |s| format!("{s:.1}")),
        reason: row
            .as_ref()
            .map_or_else(|| lang.t("tiers.reason.no_ratings"), |r| reason_words(lang, &r.reason)),
        recommendation: row
            .as_ref()
            .and_then(super::actions::recommendation_of)
            .map_or_else(
                || lang.t("tiers.recommendation.none"),
                |r: Recommendation| lang.t(r.label_key()),
            ),
        warning: row.as_ref().is_some_and(|r| r.low_score_warning),
        override_note: row.as_ref().and_then(|r| {
            r.override_tier.as_ref().map(|t| {
                lang.t_with(
                    "tiers.override.current",
                    &[("tier", t), ("reason", r.override_reason.as_deref().unwrap_or(""))],
                )
            })
        }),
        history: history_views(lang, history, tz),
        entries: entries
            .into_iter()
            .map(|e| EntryView {
                id: e.id,
                status_label: lang.t(&format!("tiers.blacklist.status.{}", e.status)),
                status: e.status,
                reason: e.reason,
                proposed: lang.t_with(
                    "tiers.blacklist.proposed_by",
                    &[
                        ("by", &e.proposed_by_label),
                        ("at", &fmt::datetime(e.proposed_at, tz)),
                    ],
                ),
                decision_reason: e.decision_reason.unwrap_or_default(),
            })
            .collect(),
        is_owner,
        state,
    };
    Ok(section.render().map_err(anyhow::Error::from)?)
}

/// The badge of each of these creators in the tenant (absent: not tiered, not blocked).
pub async fn badges(
    conn: &mut PgConnection,
    tenant: Uuid,
    creators: &[Uuid],
) -> AppResult<HashMap<Uuid, TierBadge>> {
    Ok(repo::badges(conn, tenant, creators)
        .await?
        .into_iter()
        .map(|(id, tier, blocked)| {
            (
                id,
                TierBadge::new(tier.as_deref().and_then(Tier::parse), blocked),
            )
        })
        .collect())
}

#[derive(Template)]
#[template(path = "tiers/_distribution.html")]
struct Distribution {
    layout: Lang,
    svg: String,
    rows: Vec<(String, i64)>,
}

/// The tier distribution of the tenant's creators: a bar chart with a title and its data table.
pub async fn distribution(conn: &mut PgConnection, tenant: Uuid, lang: Lang) -> AppResult<String> {
    let counts = repo::distribution(conn, tenant).await?;
    let rows: Vec<(String, i64)> = Tier::ALL
        .iter()
        .map(|t| {
            let n = counts
                .iter()
                .find(|(c, _)| c.as_deref() == Some(t.code()))
                .map_or(0, |c| c.1);
            (lang.t(t.label_key()), n)
        })
        .collect();
    let bars: Vec<(&str, i64)> = Tier::ALL
        .iter()
        .zip(&rows)
        .map(|(t, r)| (t.code(), r.1))
        .collect();
    let svg = super::chart::bars(
        "tiers",
        &lang.t("tiers.chart.title"),
        &lang.t("tiers.chart.description"),
        &bars,
    );
    Ok(Distribution {
        layout: lang,
        svg,
        rows,
    }
    .render()
    .map_err(anyhow::Error::from)?)
}

#[derive(Template)]
#[template(path = "tiers/_platform.html")]
struct PlatformSection {
    layout: Lang,
    creator: Uuid,
    tier: String,
    score: String,
    reason: String,
    history: Vec<HistoryView>,
    entries: Vec<repo::PlatformEntry>,
    blacklisted: bool,
    error: Option<String>,
}

/// The staff's platform section of a creator (system scope).
pub async fn platform_section(
    conn: &mut PgConnection,
    creator: Uuid,
    lang: Lang,
    error: Option<&'static str>,
) -> AppResult<String> {
    let row = repo::platform_rows(conn, Some(&[creator]))
        .await?
        .into_iter()
        .next();
    let history = repo::platform_history(conn, creator).await?;
    let entries = repo::platform_entries(conn, creator).await?;
    let tz = crate::kernel::STAFF_TIME_ZONE;
    Ok(PlatformSection {
        layout: lang,
        creator,
        tier: row
            .as_ref()
            .and_then(|r| r.tier.clone())
            .unwrap_or_else(|| "–".into()),
        score: row
            .as_ref()
            .and_then(|r| r.score)
            .map_or_else(|| "—".into(), |s| format!("{s:.1}")),
        reason: row
            .as_ref()
            .map_or_else(|| lang.t("tiers.platform.none"), |r| reason_words(lang, &r.reason)),
        history: history_views(lang, history, tz),
        blacklisted: entries.iter().any(|e| e.status == "active"),
        entries,
        error: error.map(|k| lang.t(k)),
    }
    .render()
    .map_err(anyhow::Error::from)?)
}
