//! The report pages: the seller's (`GET /t/{tenant_slug}/tiers/predict`, every member of the
//! tenant and its account manager: it changes nothing and shows only the tenant's own
//! collaborations, by its own tiers) and the staff's (`GET /admin/tiers/predict`, admins and
//! account managers: every tenant's collaborations by the platform tier, read in an audited
//! staff cross-tenant scope; only the totals per tier show, no tenant or creator).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use tower_sessions::Session;

use super::chart;
use super::domain::{self, MIN_REBOOKINGS, Reading, Rebooking, Report};
use super::repo::{self, RebookingRow};
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::SystemScope;
use crate::error::{AppError, AppResult};
use crate::kernel::tier::TierBadge;
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::render;

/// One tier's row as shown.
pub struct TierRow {
    pub badge: TierBadge,
    pub code: &'static str,
    pub count: usize,
    pub median: String,
    pub interval: String,
}

#[derive(Template)]
#[template(path = "tiers/predict.html")]
struct PredictPage {
    layout: Layout,
    /// "tenant" or "platform": which tier the rows are by.
    kind: &'static str,
    /// The seller's slug (for the link back to the creators list); none on the staff page.
    slug: Option<String>,
    shown: bool,
    empty: String,
    rows: Vec<TierRow>,
    /// Some tier with re-bookings has fewer than 6, so no 95 % interval.
    interval_note: bool,
    reading: String,
    svg: String,
}

/// A ROI ratio as shown: `2.35`.
fn roi(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "—".into()
    }
}

fn rebookings(rows: Vec<RebookingRow>) -> Vec<Rebooking> {
    rows.into_iter()
        .filter_map(|r| Rebooking::from_rating(&r.tier, r.net_gmv, r.cost))
        .collect()
}

fn reading_words(lang: Lang, reading: Reading) -> String {
    match reading {
        Reading::OneTier => lang.t("tiers.predict.reading.one_tier"),
        Reading::Flat => lang.t("tiers.predict.reading.flat"),
        Reading::Ordered { top } => {
            lang.t_with("tiers.predict.reading.ordered", &[("tier", top.code())])
        }
        Reading::NotOrdered {
            higher,
            higher_median,
            lower,
            lower_median,
        } => lang.t_with(
            "tiers.predict.reading.not_ordered",
            &[
                ("higher", higher.code()),
                ("higher_median", &roi(higher_median)),
                ("lower", lower.code()),
                ("lower_median", &roi(lower_median)),
            ],
        ),
    }
}

fn page(layout: Layout, kind: &'static str, slug: Option<String>, report: &Report) -> PredictPage {
    let lang = layout.lang;
    let rows: Vec<TierRow> = report
        .tiers
        .iter()
        .map(|t| TierRow {
            badge: TierBadge::new(Some(t.tier), false),
            code: t.tier.code(),
            count: t.count,
            median: t.median.map_or_else(|| "—".into(), roi),
            interval: t.interval.map_or_else(
                || "—".into(),
                |(lo, hi)| format!("{} – {}", roi(lo), roi(hi)),
            ),
        })
        .collect();
    let svg = chart::medians(
        "tiers-predict",
        &lang.t("tiers.predict.chart.title"),
        &lang.t("tiers.predict.chart.description"),
        &report.tiers,
    );
    PredictPage {
        kind,
        slug,
        shown: report.enough(),
        empty: lang.t_with(
            "tiers.predict.empty",
            &[
                ("count", &report.still_needed().to_string()),
                ("min", &MIN_REBOOKINGS.to_string()),
                ("have", &report.total.to_string()),
            ],
        ),
        interval_note: report
            .tiers
            .iter()
            .any(|t| t.count > 0 && t.interval.is_none()),
        reading: reading_words(lang, report.reading),
        svg,
        rows,
        layout,
    }
}

/// `GET /t/{tenant_slug}/tiers/predict`: the seller's report, by the tier the seller gave.
pub async fn seller(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let rows = repo::tenant_rebookings(&mut ctx.tx, ctx.tenant.id).await?;
    ctx.tx.commit().await?;
    let report = domain::report(&rebookings(rows));
    let slug = ctx.tenant.slug.clone();
    let mut layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "tiers.predict.title",
        &format!("/t/{slug}/tiers/predict"),
    )
    .await?;
    // The report is reached from the creators list: that item stays the current one.
    let creators = format!("/t/{slug}/creators");
    for item in &mut layout.nav {
        item.active = item.href == creators;
    }
    render(&page(layout, "tenant", Some(slug), &report))
}

/// `GET /admin/tiers/predict`: the staff's report over every tenant, by the platform tier.
pub async fn staff(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    if !matches!(
        user.platform_role,
        Some(PlatformRole::Admin | PlatformRole::AccountManager)
    ) {
        return Err(AppError::Forbidden);
    }
    let mut tx = state
        .db
        .system_tx(SystemScope::StaffCrossTenant {
            actor: user.id,
            actor_label: user.label(),
            page: "tiers_predict",
        })
        .await?;
    let rows = repo::platform_rebookings(&mut tx).await?;
    tx.commit().await?;
    let report = domain::report(&rebookings(rows));
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "tiers.predict.staff_title",
        "/admin/tiers/predict",
    )
    .await?;
    render(&page(layout, "platform", None, &report))
}
