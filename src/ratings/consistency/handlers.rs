//! The consistency report page (SPEC §7): per rater count, mean, spread, share of top levels and
//! mean deviation from co-raters; Krippendorff's alpha with the collaborations it rests on; a
//! chart of each rater's levels; raw beside calibrated score for every completed rating.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::{self, Agreement, RaterHistory};
use super::repo;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::tracking::dashboards::charts;
use crate::web::fmt;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::render;

/// How many completed ratings the raw-vs-calibrated table lists (newest first).
const RATINGS_SHOWN: i64 = 200;

pub struct RaterRow {
    pub label: String,
    pub count: usize,
    pub mean: String,
    pub spread: String,
    pub top_share: String,
    pub mean_deviation: String,
    /// Left out of the calibration's reference (top level on more than half of their levels).
    pub generous: bool,
}

pub struct RaterChart {
    pub label: String,
    pub svg: String,
    /// (level, times given)
    pub rows: Vec<(u8, usize)>,
}

pub struct RatingRow {
    pub collaboration_id: Uuid,
    pub creator_handle: String,
    pub campaign_title: String,
    pub raw: String,
    pub calibrated: String,
    pub final_score: String,
    pub closed_with_one: bool,
    pub completed: String,
}

#[derive(Template)]
#[template(path = "ratings/consistency.html")]
struct ConsistencyPage {
    layout: Layout,
    slug: String,
    alpha: Option<String>,
    units: usize,
    raters: Vec<RaterRow>,
    charts: Vec<RaterChart>,
    ratings: Vec<RatingRow>,
}

/// `12.3`, never NaN (a non-finite value shows as a dash).
fn one_decimal(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "—".into()
    }
}

fn signed(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x:+.1}"),
        _ => "—".into(),
    }
}

fn percent(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{:.0}%", x * 100.0),
        _ => "—".into(),
    }
}

fn score(x: Option<Decimal>) -> String {
    x.map_or_else(|| "—".into(), |d| format!("{:.2}", d.round_dp(2)))
}

/// Every member of the tenant may read it (a viewer too: it changes nothing and names only the
/// tenant's own raters); open ratings are left out, so nobody learns a blind score early.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let rows = repo::first_submissions(&mut ctx.tx, ctx.tenant.id, None).await?;
    let completed = repo::completed_ratings(&mut ctx.tx, ctx.tenant.id, RATINGS_SHOWN).await?;
    ctx.tx.commit().await?;

    let mut labels: BTreeMap<Uuid, String> = BTreeMap::new();
    let mut histories: BTreeMap<Uuid, RaterHistory> = BTreeMap::new();
    let subs: Vec<domain::FirstSubmission> = rows
        .iter()
        .map(|r| {
            let dims = domain::dimensions_from_json(&r.dimensions);
            let levels = domain::levels_from_json(&r.levels);
            labels.insert(r.rater_id, r.rater_label.clone());
            domain::add_to_history(histories.entry(r.rater_id).or_default(), &dims, &levels);
            domain::first_submission(
                r.rater_id,
                r.rating_id,
                r.total.to_f64().unwrap_or(0.0),
                &dims,
                &levels,
            )
        })
        .collect();
    let stats = domain::rater_stats(&subs);
    let agreement = domain::agreement(&subs);

    let label_of = |id: &Uuid| labels.get(id).cloned().unwrap_or_default();
    let raters = stats
        .iter()
        .map(|s| RaterRow {
            label: label_of(&s.rater_id),
            count: s.count,
            mean: one_decimal(s.mean),
            spread: one_decimal(s.spread),
            top_share: percent(s.top_share),
            mean_deviation: signed(s.mean_deviation),
            generous: histories.get(&s.rater_id).is_some_and(|h| h.is_generous()),
        })
        .collect();
    let charts = stats
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let label = label_of(&s.rater_id);
            let bars: Vec<(String, f64)> = s
                .level_counts
                .iter()
                .enumerate()
                .map(|(l, n)| ((l + 1).to_string(), *n as f64))
                .collect();
            let title = lang.t_with("consistency.chart.title", &[("rater", label.as_str())]);
            let desc = lang.t("consistency.chart.desc");
            RaterChart {
                svg: charts::bars(&format!("rater-{i}"), &title, &desc, &bars),
                rows: s
                    .level_counts
                    .iter()
                    .enumerate()
                    .map(|(l, n)| (l as u8 + 1, *n))
                    .collect(),
                label,
            }
        })
        .collect();
    let ratings = completed
        .into_iter()
        .map(|r| RatingRow {
            collaboration_id: r.collaboration_id,
            creator_handle: r.creator_handle,
            campaign_title: r.campaign_title,
            raw: score(r.raw_score),
            calibrated: score(r.calibrated_score),
            final_score: score(r.final_score),
            closed_with_one: r.closed_with_one,
            completed: r
                .completed_at
                .map(|at| fmt::datetime(at, &ctx.tenant.time_zone))
                .unwrap_or_default(),
        })
        .collect();
    let (alpha, units) = match agreement {
        Agreement::Alpha { alpha, units } if alpha.is_finite() => (Some(format!("{alpha:.3}")), units),
        other => (None, other.units()),
    };

    let path = format!("/t/{}/ratings/consistency", ctx.tenant.slug);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "consistency.title",
        &path,
    )
    .await?;
    render(&ConsistencyPage {
        layout,
        slug: ctx.tenant.slug.clone(),
        alpha,
        units,
        raters,
        charts,
        ratings,
    })
}
