//! The scorecard template editor (issue 15): every version of the tenant's template with how
//! many ratings use it, a version as a rater sees it (the preview), what changed between two
//! versions, and the owner's form for a new version from the current one. Saving is
//! `actions::create_template_version`; the rules are `domain::check_draft` and `domain::diff`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::actions::{self, NewTemplateVersion};
use super::domain::{self, Change, Dimension, DraftRow, Formula, Kind};
use super::repo;
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::{Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, render_with};

/// A dimension in words, in the page's language.
pub struct DimView {
    pub code: String,
    pub label: String,
    pub weight: u32,
    /// "由数据计算：转化（ROI 对目标）" or "评分人按下列等级打分".
    pub rule: String,
    pub objective: bool,
    /// Subjective: (level, what it looks like).
    pub levels: Vec<(usize, String)>,
}

fn rule_words(lang: Lang, d: &Dimension) -> String {
    match (d.kind, d.formula) {
        (Kind::Objective, Some(Formula::Conversion)) => lang.t("scorecard.rule.conversion"),
        (Kind::Objective, _) => lang.t("scorecard.rule.fulfilment"),
        (Kind::Subjective, _) => lang.t("scorecard.rule.subjective"),
    }
}

pub fn views(lang: Lang, dims: &[Dimension]) -> Vec<DimView> {
    dims.iter()
        .map(|d| DimView {
            code: d.code.clone(),
            label: d.label.get(lang.code()).clone(),
            weight: d.weight,
            rule: rule_words(lang, d),
            objective: d.kind == Kind::Objective,
            levels: d
                .rubric
                .as_ref()
                .map(|r| {
                    r.get(lang.code())
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (i + 1, t.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

fn parse_dimensions(stored: &serde_json::Value) -> AppResult<Vec<Dimension>> {
    serde_json::from_value(stored.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("bad scorecard template: {e}")))
}

async fn layout(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: &TenantCtx,
    path: &str,
) -> AppResult<Layout> {
    Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "scorecard.title",
        path,
    )
    .await
}

pub struct VersionView {
    pub version: i32,
    pub created: String,
    pub by: String,
    pub ratings: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "ratings/scorecard_index.html")]
struct IndexPage {
    layout: Layout,
    slug: String,
    can_edit: bool,
    current_version: i32,
    current: Vec<DimView>,
    versions: Vec<VersionView>,
}

/// `GET /t/{slug}/settings/scorecard`: the versions and the one in force.
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let current = actions::current_template(&mut ctx.tx, ctx.tenant.id).await?;
    let rows = repo::template_versions(&mut ctx.tx, ctx.tenant.id).await?;
    let zone = ctx.tenant.time_zone.clone();
    let versions = rows
        .iter()
        .map(|r| VersionView {
            version: r.version,
            created: fmt::datetime(r.created_at, &zone),
            by: r
                .created_by
                .clone()
                .unwrap_or_else(|| lang.t("scorecard.by_default")),
            ratings: r.ratings,
            current: r.version == current.version,
        })
        .collect();
    let path = format!("/t/{}/settings/scorecard", ctx.tenant.slug);
    let page = IndexPage {
        layout: layout(&state, &session, lang, &ctx, &path).await?,
        slug: ctx.tenant.slug.clone(),
        can_edit: ctx.access == Access::Owner,
        current_version: current.version,
        current: views(lang, &current.dimensions),
        versions,
    };
    ctx.tx.commit().await?;
    render_with(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "ratings/scorecard_show.html")]
struct ShowPage {
    layout: Layout,
    slug: String,
    version: i32,
    ratings: i64,
    dims: Vec<DimView>,
}

/// `GET /t/{slug}/settings/scorecard/{version}`: a version as a rater sees it.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Path((_, version)): Path<(String, String)>,
) -> AppResult<Response> {
    ctx.require_active()?;
    let version: i32 = version.parse().map_err(|_| AppError::NotFound)?;
    actions::current_template(&mut ctx.tx, ctx.tenant.id).await?;
    let rows = repo::template_versions(&mut ctx.tx, ctx.tenant.id).await?;
    let row = rows
        .iter()
        .find(|r| r.version == version)
        .ok_or(AppError::NotFound)?;
    let dims = parse_dimensions(&row.dimensions)?;
    let path = format!("/t/{}/settings/scorecard/{version}", ctx.tenant.slug);
    let page = ShowPage {
        layout: layout(&state, &session, lang, &ctx, &path).await?,
        slug: ctx.tenant.slug.clone(),
        version,
        ratings: row.ratings,
        dims: views(lang, &dims),
    };
    ctx.tx.commit().await?;
    render_with(StatusCode::OK, &page)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DiffQuery {
    pub from: String,
    pub to: String,
}

#[derive(Template)]
#[template(path = "ratings/scorecard_diff.html")]
struct DiffPage {
    layout: Layout,
    slug: String,
    from: i32,
    to: i32,
    versions: Vec<i32>,
    lines: Vec<String>,
}

/// One change in words ("「内容质量」权重：16 → 10").
fn change_words(lang: Lang, names: &BTreeMap<String, String>, c: &Change) -> String {
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let lang_name = |l: &str| lang.t(&format!("scorecard.diff.lang.{l}"));
    let rule = |r: &str| lang.t(&format!("scorecard.diff.kinds.{}", r.replace(':', "_")));
    match c {
        Change::Added { code } => lang.t_with("scorecard.diff.added", &[("name", &name(code))]),
        Change::Removed { code } => lang.t_with("scorecard.diff.removed", &[("name", &name(code))]),
        Change::Weight { code, from, to } => lang.t_with(
            "scorecard.diff.weight",
            &[
                ("name", &name(code)),
                ("from", &from.to_string()),
                ("to", &to.to_string()),
            ],
        ),
        Change::Label {
            code,
            lang: l,
            from,
            to,
        } => lang.t_with(
            "scorecard.diff.label",
            &[
                ("name", &name(code)),
                ("lang", &lang_name(l)),
                ("from", from),
                ("to", to),
            ],
        ),
        Change::Rule { code, from, to } => lang.t_with(
            "scorecard.diff.rule",
            &[
                ("name", &name(code)),
                ("from", &rule(from)),
                ("to", &rule(to)),
            ],
        ),
        Change::Rubric {
            code,
            lang: l,
            level,
            from,
            to,
        } => lang.t_with(
            "scorecard.diff.rubric",
            &[
                ("name", &name(code)),
                ("lang", &lang_name(l)),
                ("level", &level.to_string()),
                ("from", if from.is_empty() { "—" } else { from }),
                ("to", if to.is_empty() { "—" } else { to }),
            ],
        ),
    }
}

/// `GET /t/{slug}/settings/scorecard/diff?from=1&to=2`: what changed between two versions.
pub async fn diff(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Query(q): Query<DiffQuery>,
) -> AppResult<Response> {
    ctx.require_active()?;
    let current = actions::current_template(&mut ctx.tx, ctx.tenant.id).await?;
    let to: i32 = q.to.parse().unwrap_or(current.version);
    let from: i32 = q.from.parse().unwrap_or((to - 1).max(1));
    let tenant = ctx.tenant.id;
    let (Some(a), Some(b)) = (
        repo::template_version(&mut ctx.tx, tenant, from).await?,
        repo::template_version(&mut ctx.tx, tenant, to).await?,
    ) else {
        return Err(AppError::NotFound);
    };
    let (a, b) = (
        parse_dimensions(&a.dimensions)?,
        parse_dimensions(&b.dimensions)?,
    );
    let names: BTreeMap<String, String> = a
        .iter()
        .chain(b.iter())
        .map(|d| (d.code.clone(), d.label.get(lang.code()).clone()))
        .collect();
    let lines = domain::diff(&a, &b)
        .iter()
        .map(|c| change_words(lang, &names, c))
        .collect();
    let path = format!("/t/{}/settings/scorecard/diff", ctx.tenant.slug);
    let page = DiffPage {
        layout: layout(&state, &session, lang, &ctx, &path).await?,
        slug: ctx.tenant.slug.clone(),
        from,
        to,
        versions: (1..=current.version).rev().collect(),
        lines,
    };
    ctx.tx.commit().await?;
    render_with(StatusCode::OK, &page)
}

/// A row of the form with its messages.
pub struct RowView {
    pub i: usize,
    pub row: DraftRow,
    pub errors: BTreeMap<String, String>,
}

impl RowView {
    /// The message for this row's `part`, if any.
    pub fn error(&self, part: &str) -> Option<&String> {
        self.errors.get(part)
    }

    pub fn field(&self, part: &str) -> String {
        domain::draft_field(self.i, part)
    }

    pub fn rubric(&self, lang: &str, level: &usize) -> &str {
        let texts = if lang == "zh" {
            &self.row.rubric_zh
        } else {
            &self.row.rubric_en
        };
        &texts[level.saturating_sub(1).min(4)]
    }
}

#[derive(Template)]
#[template(path = "ratings/scorecard_form.html")]
struct FormPage {
    layout: Layout,
    slug: String,
    based_on: i32,
    rows: Vec<RowView>,
    sum: u32,
    errors: FormErrors,
    /// The form as a rater would see it (the "preview" button), when it checks out.
    preview: Option<Vec<DimView>>,
}

struct Shown<'a> {
    based_on: i32,
    rows: Vec<DraftRow>,
    errors: &'a FieldErrors,
    preview: Option<Vec<DimView>>,
}

async fn form_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: &TenantCtx,
    shown: Shown<'_>,
) -> AppResult<Response> {
    let path = format!("/t/{}/settings/scorecard/new", ctx.tenant.slug);
    let sum = shown
        .rows
        .iter()
        .filter_map(|r| r.weight.parse::<u32>().ok())
        .sum();
    let rows = shown
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let prefix = format!("d{i}_");
            let errors = shown
                .errors
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), lang.t(v))))
                .collect();
            RowView { i, row, errors }
        })
        .collect();
    let status = if shown.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        layout: layout(state, session, lang, ctx, &path).await?,
        slug: ctx.tenant.slug.clone(),
        based_on: shown.based_on,
        rows,
        sum,
        errors: FormErrors::new(lang, shown.errors),
        preview: shown.preview,
    };
    render_with(status, &page)
}

/// `GET /t/{slug}/settings/scorecard/new`: the owner's form, from the version in force.
pub async fn new(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    ctx.actor.require(&[Access::Owner])?;
    let current = actions::current_template(&mut ctx.tx, ctx.tenant.id).await?;
    let rows = current.dimensions.iter().map(DraftRow::of).collect();
    let shown = Shown {
        based_on: current.version,
        rows,
        errors: &FieldErrors::new(),
        preview: None,
    };
    let page = form_page(&state, &session, lang, &ctx, shown).await?;
    ctx.tx.commit().await?;
    Ok(page)
}

/// The editor's form as posted: the version it was made from, the button pressed, and the rows
/// as `d{i}_{part}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct TemplateForm {
    pub based_on: String,
    /// `add` (one more empty dimension), `preview`, or anything else: save.
    pub intent: String,
    #[serde(flatten)]
    pub rows: BTreeMap<String, String>,
}

/// `POST /t/{slug}/settings/scorecard/new`: add a row, preview, or save a new version.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Form(form): Form<TemplateForm>,
) -> AppResult<Response> {
    ctx.require_active()?;
    ctx.actor.require(&[Access::Owner])?;
    let pairs: Vec<(String, String)> = form.rows.into_iter().collect();
    let mut rows = domain::parse_draft(&pairs);
    let based_on: i32 = form.based_on.parse().unwrap_or(0);
    match form.intent.as_str() {
        "add" => {
            if rows.len() < domain::MAX_DIMENSIONS {
                rows.push(DraftRow::blank());
            }
            let shown = Shown {
                based_on,
                rows,
                errors: &FieldErrors::new(),
                preview: None,
            };
            form_page(&state, &session, lang, &ctx, shown).await
        }
        "preview" => {
            let (errors, preview) = match domain::check_draft(&rows) {
                Ok(dims) => (FieldErrors::new(), Some(views(lang, &dims))),
                Err(errors) => (errors, None),
            };
            let shown = Shown {
                based_on,
                rows,
                errors: &errors,
                preview,
            };
            form_page(&state, &session, lang, &ctx, shown).await
        }
        _ => {
            let input = NewTemplateVersion {
                based_on,
                rows: rows.clone(),
            };
            match actions::create_template_version(&mut ctx.tx, &ctx.actor, input).await {
                Ok(version) => {
                    ctx.tx.commit().await?;
                    flash(&session, "ok", "scorecard.saved").await?;
                    Ok(Redirect::to(&format!(
                        "/t/{}/settings/scorecard/{version}",
                        ctx.tenant.slug
                    ))
                    .into_response())
                }
                Err(DomainError::Invalid(errors)) => {
                    let ctx = ctx.reopen(&state.db).await?;
                    let shown = Shown {
                        based_on,
                        rows,
                        errors: &errors,
                        preview: None,
                    };
                    form_page(&state, &session, lang, &ctx, shown).await
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}
