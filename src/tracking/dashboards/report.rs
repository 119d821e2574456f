//! The campaign report for the seller's head office (SPEC §11, 向总部汇报): targets against
//! results, server-rendered SVG charts, the per-creator table with final scores, tiers and
//! recommendations, the best content (top 3 posts by their collaboration's net GMV, then by D14
//! views, with the deliverable's name), and lessons learned; a print stylesheet gives A4 pages,
//! and the same report downloads as XLSX.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, Workbook};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::campaign::{Loaded, daily_chart, load, series};
use super::{actions, charts, repo};
use crate::error::{AppError, AppResult, DomainError};
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::tracking::kpis::figures::{self as kpis, Headline, group_candidates};
use crate::tracking::windows::{self, Window};
use crate::web::fmt;
use crate::web::forms::{Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{parse_id, render_with};

/// One creator's line.
pub struct CreatorLine {
    pub handle: String,
    pub state: String,
    pub posts: i64,
    pub views: String,
    pub net_gmv: String,
    pub roi: String,
    pub score: String,
    pub tier: Option<String>,
    pub recommendation: String,
}

/// One of the best posts.
pub struct BestPost {
    pub rank: usize,
    pub handle: String,
    pub url: String,
    pub deliverable: String,
    pub net_gmv: String,
    pub d14_views: String,
}

pub struct ChartView {
    pub title: String,
    pub svg: String,
}

/// The report's content, for the page and the workbook.
pub struct Report {
    pub code: String,
    pub title: String,
    pub markets: String,
    pub period: String,
    pub generated: String,
    pub currency: String,
    pub headlines: Vec<Headline>,
    pub charts: Vec<ChartView>,
    pub creators: Vec<CreatorLine>,
    pub best: Vec<BestPost>,
    pub lessons: String,
}

async fn build(state: &AppState, ctx: &mut TenantCtx, id: Uuid, lang: Lang) -> AppResult<Report> {
    let Loaded {
        row,
        campaign,
        currency,
        targets,
        computed,
        candidates,
        daily,
        rates,
    } = load(state, ctx, id).await?;
    let tenant = ctx.tenant.id;
    let zone = ctx.tenant.time_zone.clone();
    let extra = repo::report_creators(&mut ctx.tx, tenant, id).await?;
    let posts = repo::report_posts(&mut ctx.tx, tenant, id).await?;
    let lessons = repo::lessons(&mut ctx.tx, tenant, id).await?;
    let dash = || "—".to_string();
    let mut creators: Vec<CreatorLine> = computed
        .rows
        .iter()
        .map(|(t, k)| {
            let view = kpis::view(lang, k, &targets);
            let more = extra.iter().find(|e| e.collaboration_id == t.id);
            CreatorLine {
                handle: t.handle.clone(),
                state: lang.t(t.state.label_key()),
                posts: t.posts,
                views: fmt::number(k.views),
                net_gmv: view.net_gmv.text,
                roi: view.roi.text,
                score: more
                    .and_then(|m| m.final_score)
                    .map_or_else(dash, |s| s.round_dp(1).to_string()),
                tier: more.and_then(|m| m.tier.clone()),
                recommendation: more.and_then(|m| m.recommendation.as_deref()).map_or_else(
                    || lang.t("tiers.recommendation.none"),
                    |r| lang.t(&format!("tiers.recommendation.{r}")),
                ),
            }
        })
        .collect();
    creators.sort_by(|a, b| a.handle.cmp(&b.handle));

    // Best content: the post's collaboration's net GMV, then the post's own D14 views.
    let now = OffsetDateTime::now_utc();
    let grouped = group_candidates(&candidates);
    let net_of = |collab: Uuid| {
        computed
            .rows
            .iter()
            .find(|(t, _)| t.id == collab)
            .map(|(_, k)| k.net_gmv.value)
            .unwrap_or_default()
    };
    let mut ranked: Vec<(rust_decimal::Decimal, i64, &repo::ReportPost)> = posts
        .iter()
        .map(|p| {
            let d14 = grouped
                .get(&p.collaboration_id)
                .and_then(|posts| posts.get(&p.id))
                .map_or(0, |(at, snaps)| {
                    windows::combined(Window::D14, std::iter::once((*at, &snaps[..])), now)
                        .metrics
                        .views
                });
            (net_of(p.collaboration_id), d14, p)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let best = ranked
        .into_iter()
        .take(3)
        .enumerate()
        .map(|(i, (net, d14, p))| BestPost {
            rank: i + 1,
            handle: p.handle.clone(),
            url: p.url.clone(),
            deliverable: p.deliverable.clone().unwrap_or_else(dash),
            net_gmv: fmt::money(net, &currency),
            d14_views: fmt::number(d14),
        })
        .collect();

    let line = |cid: &str, name: &str, title: String| {
        let points = series(&daily, name, &currency, &rates);
        ChartView {
            svg: daily_chart(lang, cid, &title, &points),
            title,
        }
    };
    let by_creator: Vec<(String, f64)> = computed
        .rows
        .iter()
        .map(|(t, k)| (t.handle.clone(), k.net_gmv.value.to_f64().unwrap_or(0.0)))
        .collect();
    let bars_title = lang.t_with("report.chart_by_creator", &[("currency", &currency)]);
    let charts = vec![
        line("r-views", "views", lang.t("performance.chart.views")),
        line(
            "r-gmv",
            "gmv",
            lang.t_with("performance.chart.gmv", &[("currency", &currency)]),
        ),
        ChartView {
            svg: charts::bars("r-by-creator", &bars_title, &bars_title, &by_creator),
            title: bars_title,
        },
    ];
    Ok(Report {
        code: row.code.clone().unwrap_or_default(),
        title: row.title.clone(),
        markets: campaign.markets.join(", "),
        period: match (campaign.publish_from, campaign.publish_to) {
            (Some(f), Some(t)) => format!("{f} – {t}"),
            _ => dash(),
        },
        generated: fmt::datetime(now, &zone),
        headlines: kpis::headlines(lang, &computed.total, &targets),
        currency,
        charts,
        creators,
        best,
        lessons,
    })
}

#[derive(Template)]
#[template(path = "performance/report.html")]
struct ReportPage {
    layout: Layout,
    tabs: String,
    slug: String,
    campaign_id: Uuid,
    report: Report,
    can_edit: bool,
    lessons_typed: String,
    errors: FormErrors,
}

/// Who writes the lessons learned: the owner, operators and the account manager.
const WRITERS: &[Access] = &[Access::Owner, Access::Operator, Access::AccountManager];

async fn page(
    state: &AppState,
    (session, lang): (&Session, Lang),
    mut ctx: TenantCtx,
    id: Uuid,
    refused: Option<(String, FormErrors)>,
) -> AppResult<Response> {
    let report = build(state, &mut ctx, id, lang).await?;
    let can_edit = ctx.require(WRITERS).is_ok();
    let slug = ctx.tenant.slug.clone();
    let tabs = crate::campaigns::tabs::render(
        lang,
        &slug,
        id,
        ctx.access,
        crate::campaigns::tabs::Tab::Report,
    );
    let (layout, _) =
        crate::tracking::posts::views::page_layout(state, session, lang, ctx, "report.title")
            .await?;
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (lessons_typed, errors) =
        refused.unwrap_or_else(|| (report.lessons.clone(), FormErrors::none()));
    render_with(
        status,
        &ReportPage {
            layout,
            tabs,
            slug,
            campaign_id: id,
            report,
            can_edit,
            lessons_typed,
            errors,
        },
    )
}

/// `GET /t/{slug}/campaigns/{id}/report`: anyone of the tenant.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    page(&state, (&session, lang), ctx, id, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LessonsForm {
    pub lessons: String,
}

/// `POST /t/{slug}/campaigns/{id}/report/lessons`.
pub async fn save_lessons(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<LessonsForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let input = actions::SaveLessons {
        campaign_id: id,
        lessons: form.lessons.clone(),
    };
    match actions::save_lessons(&mut ctx.tx, &ctx.actor, input).await {
        Ok(()) => {
            ctx.tx.commit().await?;
            flash(&session, "success", "report.lessons_saved").await?;
            Ok(Redirect::to(&format!(
                "/t/{}/campaigns/{id}/report#lessons",
                ctx.tenant.slug
            ))
            .into_response())
        }
        Err(DomainError::Invalid(keys)) => {
            let ctx = ctx.reopen(&state.db).await?;
            let errors = FormErrors::new(lang, &keys);
            page(
                &state,
                (&session, lang),
                ctx,
                id,
                Some((form.lessons, errors)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /t/{slug}/campaigns/{id}/report.xlsx`: the same report as a workbook.
pub async fn xlsx(
    State(state): State<AppState>,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let report = build(&state, &mut ctx, id, lang).await?;
    drop(ctx);
    let bytes = workbook(&report, lang).map_err(|e| AppError::Internal(e.into()))?;
    let name = format!(
        "sextant-report-{}.xlsx",
        if report.code.is_empty() {
            id.to_string()
        } else {
            report
                .code
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
        }
    );
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            .map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok(response)
}

fn workbook(r: &Report, lang: Lang) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    {
        let sheet = book.add_worksheet();
        sheet.set_name(lang.t("report.sheet_summary"))?;
        let mut row = 0;
        for (key, value) in [
            ("report.code", &r.code),
            ("report.campaign", &r.title),
            ("report.markets", &r.markets),
            ("report.period", &r.period),
            ("report.generated", &r.generated),
            ("report.currency", &r.currency),
        ] {
            sheet.write_string_with_format(row, 0, lang.t(key), &bold)?;
            sheet.write_string(row, 1, value)?;
            row += 1;
        }
        row += 1;
        for (col, key) in [
            "report.kpi",
            "report.actual",
            "report.target",
            "report.status",
        ]
        .into_iter()
        .enumerate()
        {
            sheet.write_string_with_format(row, col as u16, lang.t(key), &bold)?;
        }
        for h in &r.headlines {
            row += 1;
            sheet.write_string(row, 0, &h.label)?;
            sheet.write_string(row, 1, &h.actual)?;
            sheet.write_string(row, 2, &h.target)?;
            sheet.write_string(row, 3, &h.rag_label)?;
        }
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(1, 40)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(lang.t("report.sheet_creators"))?;
        let heads = [
            "report.creator",
            "report.state",
            "report.posts",
            "report.views",
            "report.net_gmv",
            "report.roi",
            "report.score",
            "report.tier",
            "report.recommendation",
        ];
        for (col, key) in heads.into_iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, lang.t(key), &bold)?;
        }
        for (i, c) in r.creators.iter().enumerate() {
            let row = i as u32 + 1;
            sheet.write_string(row, 0, format!("@{}", c.handle))?;
            sheet.write_string(row, 1, &c.state)?;
            sheet.write_number(row, 2, c.posts as f64)?;
            sheet.write_string(row, 3, &c.views)?;
            sheet.write_string(row, 4, &c.net_gmv)?;
            sheet.write_string(row, 5, &c.roi)?;
            sheet.write_string(row, 6, &c.score)?;
            sheet.write_string(row, 7, c.tier.as_deref().unwrap_or("—"))?;
            sheet.write_string(row, 8, &c.recommendation)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(8, 40)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(lang.t("report.sheet_best"))?;
        let heads = [
            "report.rank",
            "report.creator",
            "report.deliverable",
            "report.net_gmv",
            "report.d14_views",
            "report.post",
        ];
        for (col, key) in heads.into_iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, lang.t(key), &bold)?;
        }
        for (i, b) in r.best.iter().enumerate() {
            let row = i as u32 + 1;
            sheet.write_number(row, 0, b.rank as f64)?;
            sheet.write_string(row, 1, format!("@{}", b.handle))?;
            sheet.write_string(row, 2, &b.deliverable)?;
            sheet.write_string(row, 3, &b.net_gmv)?;
            sheet.write_string(row, 4, &b.d14_views)?;
            sheet.write_string(row, 5, &b.url)?;
        }
        sheet.set_column_width(2, 36)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(lang.t("report.sheet_lessons"))?;
        sheet.write_string_with_format(0, 0, lang.t("report.lessons"), &bold)?;
        sheet.write_string(1, 0, &r.lessons)?;
        sheet.set_column_width(0, 100)?;
    }
    book.save_to_buffer()
}
