//! The deduction-policy page (issue 15): what each kind × severity of fulfilment record is worth
//! — scorecard points and an optional money deduction (an amount, or a percent of the fixed fee)
//! — in the version in force, every version with how many records count under it, and the
//! owner's form for a new version. Saving is `actions::create_policy_version`; the rules are
//! `domain::check_policy`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::actions::{self, NewPolicyVersion};
use super::domain::{self, CellDraft, Kind, Severity};
use super::repo;
use crate::error::{AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::kernel::markets::SHOP_CURRENCIES;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::{Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, render_with};

/// One cell of the table: its fields' names, what is typed, and its messages.
pub struct CellView {
    pub name: String,
    pub draft: CellDraft,
    /// The cell in words ("1 分 · 扣固定费用的 10%").
    pub words: String,
    pub errors: BTreeMap<String, String>,
}

impl CellView {
    pub fn field(&self, part: &str) -> String {
        format!("{}.{part}", self.name)
    }

    pub fn error(&self, part: &str) -> Option<&String> {
        self.errors.get(part)
    }
}

pub struct RowView {
    pub kind: String,
    pub cells: Vec<CellView>,
}

pub struct VersionView {
    pub version: i32,
    pub created: String,
    pub by: String,
    pub records: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "fulfilment/policy.html")]
struct PolicyPage {
    layout: Layout,
    slug: String,
    can_edit: bool,
    based_on: i32,
    severities: Vec<String>,
    rows: Vec<RowView>,
    currencies: &'static [&'static str],
    versions: Vec<VersionView>,
    errors: FormErrors,
}

fn words(lang: Lang, cell: &CellDraft) -> String {
    let points = lang.t_with("deductions.points_words", &[("points", &cell.points)]);
    match cell.money.as_str() {
        "amount" => {
            let amount = cell.amount.parse().map_or_else(
                |_| format!("{} {}", cell.currency, cell.amount),
                |a| fmt::money(a, &cell.currency),
            );
            format!(
                "{points} · {}",
                lang.t_with("deductions.amount_words", &[("amount", &amount)])
            )
        }
        "percent" => format!(
            "{points} · {}",
            lang.t_with("deductions.percent_words", &[("percent", &cell.percent)])
        ),
        _ => points,
    }
}

struct Shown<'a> {
    based_on: i32,
    cells: Vec<(Kind, Severity, CellDraft)>,
    errors: &'a FieldErrors,
}

async fn page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: &mut TenantCtx,
    shown: Shown<'_>,
) -> AppResult<Response> {
    let versions = repo::policy_versions(&mut ctx.tx, ctx.tenant.id).await?;
    let zone = ctx.tenant.time_zone.clone();
    let versions = versions
        .iter()
        .map(|v| VersionView {
            version: v.version,
            created: fmt::datetime(v.created_at, &zone),
            by: v
                .created_by
                .clone()
                .unwrap_or_else(|| lang.t("scorecard.by_default")),
            records: v.records,
            current: v.version == shown.based_on,
        })
        .collect();
    let rows = Kind::ALL
        .into_iter()
        .map(|kind| RowView {
            kind: lang.t(kind.label_key()),
            cells: shown
                .cells
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .map(|(k, s, draft)| {
                    let name = format!("{}.{}", k.code(), s.code());
                    let prefix = format!("{name}.");
                    CellView {
                        errors: shown
                            .errors
                            .iter()
                            .filter_map(|(f, key)| {
                                Some((f.strip_prefix(&prefix)?.to_string(), lang.t(key)))
                            })
                            .collect(),
                        words: words(lang, draft),
                        draft: draft.clone(),
                        name,
                    }
                })
                .collect(),
        })
        .collect();
    let path = format!("/t/{}/settings/deductions", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "deductions.title",
        &path,
    )
    .await?;
    let status = if shown.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = PolicyPage {
        layout,
        slug: ctx.tenant.slug.clone(),
        can_edit: ctx.access == Access::Owner,
        based_on: shown.based_on,
        severities: Severity::ALL
            .into_iter()
            .map(|s| lang.t(s.label_key()))
            .collect(),
        rows,
        currencies: SHOP_CURRENCIES,
        versions,
        errors: FormErrors::new(lang, shown.errors),
    };
    render_with(status, &view)
}

/// `GET /t/{slug}/settings/deductions`: the policy in force (a form for the owner) and its versions.
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let policy = actions::current_policy(&mut ctx.tx, ctx.tenant.id).await?;
    let cells = domain::full_rules(&policy)
        .iter()
        .map(|r| (r.kind, r.severity, CellDraft::of(r)))
        .collect();
    let shown = Shown {
        based_on: policy.version,
        cells,
        errors: &FieldErrors::new(),
    };
    let response = page(&state, &session, lang, &mut ctx, shown).await?;
    ctx.tx.commit().await?;
    Ok(response)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct PolicyForm {
    pub based_on: String,
    #[serde(flatten)]
    pub cells: BTreeMap<String, String>,
}

/// `POST /t/{slug}/settings/deductions`: saves a new version (owner).
pub async fn save(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Form(form): Form<PolicyForm>,
) -> AppResult<Response> {
    ctx.require_active()?;
    let cells = domain::parse_policy(&form.cells);
    let based_on: i32 = form.based_on.parse().unwrap_or(0);
    let input = NewPolicyVersion {
        based_on,
        cells: cells.clone(),
    };
    match actions::create_policy_version(&mut ctx.tx, &ctx.actor, input).await {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "deductions.saved").await?;
            Ok(
                Redirect::to(&format!("/t/{}/settings/deductions", ctx.tenant.slug))
                    .into_response(),
            )
        }
        Err(DomainError::Invalid(errors)) => {
            let mut ctx = ctx.reopen(&state.db).await?;
            let shown = Shown {
                based_on,
                cells,
                errors: &errors,
            };
            page(&state, &session, lang, &mut ctx, shown).await
        }
        Err(e) => Err(e.into()),
    }
}
