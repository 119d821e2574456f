//! Finance's console (`/finance`, staff role `finance`): every tenant's periods with their
//! status, the month's rates, a period's settlement page (lines grouped by collaboration with
//! each amount's origin one click away, totals, rates used, reconciliation, status and hash, and
//! only the actions its status allows), payments, exports, and what the agency pays each creator
//! across tenants. Every request works in the audited staff cross-tenant scope; the actions are
//! `actions`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::BTreeMap;
use time::Date;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, AdjustmentInput, PaymentInput, PeriodOf, SetRates};
use super::export::{self, Job};
use super::repo::{self, TenantRow};
use super::view;
use super::{domain, sheet};
use crate::audit;
use crate::auth::actor::Actor;
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::kernel::money::Currency;
use crate::state::AppState;
use crate::web::fmt;
use crate::web::forms::{Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{render, render_with};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/finance", get(home))
        .route("/finance/rates", get(rates_page).post(save_rates))
        .route("/finance/payouts", get(payouts_page))
        .route("/finance/payouts/{creator}/export.csv", get(payout_csv))
        .route("/finance/payouts/{creator}/export.xlsx", get(payout_xlsx))
        .route("/finance/t/{slug}", get(tenant_page))
        .route("/finance/t/{slug}/periods/{period}", get(period_page))
        .route(
            "/finance/t/{slug}/periods/{period}/adjustments",
            post(add_adjustment),
        )
        .route(
            "/finance/t/{slug}/periods/{period}/adjustments/{id}/remove",
            post(remove_adjustment),
        )
        .route(
            "/finance/t/{slug}/periods/{period}/payments",
            post(add_payment),
        )
        .route(
            "/finance/t/{slug}/periods/{period}/export.csv",
            get(period_csv),
        )
        .route(
            "/finance/t/{slug}/periods/{period}/export.xlsx",
            get(period_xlsx),
        )
        .route(
            "/finance/t/{slug}/periods/{period}/{command}",
            post(period_command),
        )
        .route("/finance/t/{slug}/lines/{id}", get(line_page))
}

/// The audited cross-tenant scope of one finance page (403 for anyone but finance).
async fn scope(state: &AppState, user: &CurrentUser, page: &'static str) -> AppResult<Tx> {
    user.require(PlatformRole::Finance)?;
    Ok(state
        .db
        .system_tx(SystemScope::StaffCrossTenant {
            actor: user.id,
            actor_label: user.label(),
            page,
        })
        .await?)
}

/// The tenant of a `/finance/t/{slug}` URL, its opening written to the tenant's own audit log.
async fn tenant_of(tx: &mut Tx, user: &CurrentUser, slug: &str) -> AppResult<TenantRow> {
    let tenant = repo::tenant_by_slug(tx, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        tx,
        audit::Entry::new("finance.view", "tenant", Some(tenant.slug.clone()))
            .actor(Some(user.id), user.label())
            .tenant(Some(tenant.id)),
    )
    .await?;
    Ok(tenant)
}

fn period_of(raw: &str) -> AppResult<Date> {
    actions::parse_period(raw).ok_or(AppError::NotFound)
}

async fn layout(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    (title, path): (&str, &str),
) -> AppResult<Layout> {
    Layout::for_user(state, session, lang, user, None, title, path).await
}

// ---------------------------------------------------------------------------------------------
// Home: every tenant with where its settlements stand

pub struct TenantLine {
    pub slug: String,
    pub name: String,
    pub currency: String,
    pub status_key: String,
    pub last_finalized: String,
    pub open: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "settlement/finance_home.html")]
struct HomePage {
    layout: Layout,
    tenants: Vec<TenantLine>,
    last_month: String,
}

pub async fn home(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    let mut tx = scope(&state, &user, "finance_home").await?;
    let mut tenants = Vec::new();
    for t in repo::tenants(&mut tx).await? {
        let last = repo::latest_finalized(&mut tx, t.id).await?;
        let open = repo::drafts(&mut tx, t.id)
            .await?
            .into_iter()
            .map(|d| {
                (
                    actions::period_code(d.period),
                    d.state.clone(),
                    lang.t(&format!("settlement.status.{}", d.state)),
                )
            })
            .collect();
        tenants.push(TenantLine {
            status_key: format!("tenant.status.{}", t.status),
            slug: t.slug,
            name: t.display_name,
            currency: t.settlement_currency.code().into(),
            last_finalized: last.map(actions::period_code).unwrap_or_else(|| "—".into()),
            open,
        });
    }
    let current = repo::current_period(&mut tx, "Asia/Shanghai").await?;
    tx.commit().await?;
    let layout = layout(&state, &session, lang, &user, ("finance.title", "/finance")).await?;
    render(&HomePage {
        layout,
        tenants,
        last_month: actions::period_code(actions::previous_month(current)),
    })
}

// ---------------------------------------------------------------------------------------------
// Rates

pub struct RateInput {
    pub currency: String,
    pub target: String,
    pub field: String,
    pub value: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "settlement/rates.html")]
struct RatesPage {
    layout: Layout,
    period: String,
    rows: Vec<RateInput>,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeriodQuery {
    pub period: String,
}

/// The currencies the FX form asks for: every currency in use anywhere, and the common ones.
const COMMON: &[&str] = &[
    "USD", "CNY", "EUR", "GBP", "JPY", "SGD", "MYR", "THB", "VND", "IDR", "PHP",
];

async fn rates_view(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    (period, typed, errors): (Date, &BTreeMap<String, String>, &FieldErrors),
) -> AppResult<Response> {
    let mut tx = scope(state, user, "finance_rates").await?;
    let stored = repo::rate_rows(&mut tx, period).await?;
    let mut currencies: Vec<Currency> = repo::currencies_in_use(&mut tx).await?;
    if errors.is_empty() {
        tx.commit().await?;
    }
    currencies.extend(COMMON.iter().filter_map(|c| Currency::parse(c).ok()));
    currencies.sort();
    currencies.dedup();
    let mut rows = Vec::new();
    for target in ["CNY", "USD"] {
        for c in &currencies {
            if c.code() == target {
                continue;
            }
            let field = actions::rate_field(c.code(), target);
            let found = stored
                .iter()
                .find(|r| r.currency == *c && r.target.code() == target);
            rows.push(RateInput {
                currency: c.code().into(),
                target: target.into(),
                value: typed.get(&field).cloned().unwrap_or_else(|| {
                    found
                        .map(|r| r.rate.normalize().to_string())
                        .unwrap_or_default()
                }),
                by: found
                    .map(|r| {
                        format!(
                            "{} · {}",
                            r.entered_by.clone().unwrap_or_default(),
                            fmt::datetime(r.entered_at, "Asia/Shanghai")
                        )
                    })
                    .unwrap_or_default(),
                field,
            });
        }
    }
    let layout = layout(
        state,
        session,
        lang,
        user,
        ("settlement.rates_title", "/finance/rates"),
    )
    .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_with(
        status,
        &RatesPage {
            layout,
            period: actions::period_code(period),
            rows,
            errors: FormErrors::new(lang, errors),
        },
    )
}

/// `GET /finance/rates?period=YYYY-MM` (last month by default).
pub async fn rates_page(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    user.require(PlatformRole::Finance)?;
    let period = match actions::parse_period(&q.period) {
        Some(p) => p,
        None => actions::previous_month(today_month()),
    };
    rates_view(
        &state,
        &session,
        lang,
        &user,
        (period, &BTreeMap::new(), &FieldErrors::new()),
    )
    .await
}

fn today_month() -> Date {
    let now = time::OffsetDateTime::now_utc().date();
    now.replace_day(1).unwrap_or(now)
}

/// `POST /finance/rates`: `period` and one `rate.{CUR}.{TARGET}` per pair.
pub async fn save_rates(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Form(form): Form<BTreeMap<String, String>>,
) -> AppResult<Response> {
    user.require(PlatformRole::Finance)?;
    let period = form.get("period").and_then(|p| actions::parse_period(p));
    let rates: Vec<(String, String, String)> = form
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("rate.")?;
            let (c, t) = rest.split_once('.')?;
            Some((c.to_string(), t.to_string(), v.clone()))
        })
        .collect();
    let mut tx = scope(&state, &user, "finance_rates").await?;
    let actor = Actor::user(&user);
    match actions::set_rates(&mut tx, &actor, SetRates { period, rates }).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "settlement.flash.rates_saved").await?;
            let period = period.map(actions::period_code).unwrap_or_default();
            Ok(Redirect::to(&format!("/finance/rates?period={period}")).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            drop(tx);
            let period = period.ok_or(AppError::NotFound)?;
            rates_view(&state, &session, lang, &user, (period, &form, &errors)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// A tenant's periods

#[derive(Template)]
#[template(path = "settlement/finance_tenant.html")]
struct TenantPage {
    layout: Layout,
    tenant: TenantRow,
    periods: Vec<sheet::PeriodLine>,
}

pub async fn tenant_page(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let mut tx = scope(&state, &user, "finance_tenant").await?;
    let tenant = tenant_of(&mut tx, &user, &slug).await?;
    let periods = sheet::periods(&mut tx, lang, &tenant).await?;
    tx.commit().await?;
    let path = format!("/finance/t/{}", tenant.slug);
    let layout = layout(&state, &session, lang, &user, ("settlement.title", &path)).await?;
    render(&TenantPage {
        layout,
        tenant,
        periods,
    })
}

// ---------------------------------------------------------------------------------------------
// A period's settlement page

pub struct AdjustmentView {
    pub id: Uuid,
    pub creator: String,
    pub amount: String,
    pub reason: String,
    pub by: String,
}

pub struct CollabOption {
    pub id: Uuid,
    pub label: String,
}

#[derive(Template)]
#[template(path = "settlement/finance_period.html")]
struct PeriodPage {
    layout: Layout,
    tenant: TenantRow,
    base: String,
    sheet: sheet::Sheet,
    error: Option<String>,
    adjustments: Vec<AdjustmentView>,
    collaborations: Vec<CollabOption>,
    currencies: &'static [&'static str],
    adjustment: AdjustmentInput,
    adjustment_errors: FormErrors,
    payment: PaymentInput,
    payment_errors: FormErrors,
}

impl PeriodPage {
    pub fn is(&self, status: &str) -> bool {
        self.sheet.status == status
    }
}

/// What a re-rendered period page carries besides the period: a refusal, and a form with its
/// errors.
#[derive(Default)]
struct Shown {
    error: Option<&'static str>,
    adjustment: AdjustmentInput,
    adjustment_errors: FieldErrors,
    payment: PaymentInput,
    payment_errors: FieldErrors,
}

async fn period_view(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    (slug, period, shown): (&str, Date, Shown),
) -> AppResult<Response> {
    let mut tx = scope(state, user, "finance_period").await?;
    let tenant = tenant_of(&mut tx, user, slug).await?;
    let base = format!(
        "/finance/t/{}/periods/{}",
        tenant.slug,
        actions::period_code(period)
    );
    let line_base = format!("/finance/t/{}/lines", tenant.slug);
    let sheet = sheet::load(&mut tx, lang, &tenant, period, &|id| {
        format!("{line_base}/{id}")
    })
    .await?;
    let collabs = repo::collaborations(&mut tx, tenant.id).await?;
    let adjustments = repo::adjustments(&mut tx, tenant.id, period)
        .await?
        .into_iter()
        .map(|a| AdjustmentView {
            id: a.id,
            creator: collabs
                .iter()
                .find(|c| c.id == a.collaboration_id)
                .map(|c| format!("@{} · {}", c.handle, c.campaign))
                .unwrap_or_default(),
            amount: fmt::money(a.amount, a.currency.code()),
            reason: a.reason,
            by: a.created_by_label,
        })
        .collect();
    // A page shown again after a refusal stores nothing, not even its view's audit entries: the
    // refused request leaves no trace but the answer.
    let failed = shown.error.is_some()
        || !shown.adjustment_errors.is_empty()
        || !shown.payment_errors.is_empty();
    if !failed {
        tx.commit().await?;
    }
    let path = format!("/finance/t/{}", tenant.slug);
    let layout = layout(state, session, lang, user, ("settlement.title", &path)).await?;
    let page = PeriodPage {
        layout,
        base,
        sheet,
        error: shown.error.map(|k| lang.t(k)),
        adjustments,
        collaborations: collabs
            .iter()
            .map(|c| CollabOption {
                id: c.id,
                label: format!("@{} · {}", c.handle, c.campaign),
            })
            .collect(),
        currencies: crate::kernel::markets::SHOP_CURRENCIES,
        adjustment: shown.adjustment,
        adjustment_errors: FormErrors::new(lang, &shown.adjustment_errors),
        payment: shown.payment,
        payment_errors: FormErrors::new(lang, &shown.payment_errors),
        tenant,
    };
    render_with(
        if failed {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &page,
    )
}

/// `GET /finance/t/{slug}/periods/{YYYY-MM}`.
pub async fn period_page(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path((slug, period)): Path<(String, String)>,
) -> AppResult<Response> {
    let period = period_of(&period)?;
    period_view(
        &state,
        &session,
        lang,
        &user,
        (&slug, period, Shown::default()),
    )
    .await
}

/// `POST /finance/t/{slug}/periods/{period}/{compute|review|back-to-draft|finalize|verify}`.
pub async fn period_command(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path((slug, period, command)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let period = period_of(&period)?;
    if !matches!(
        command.as_str(),
        "compute" | "review" | "back-to-draft" | "finalize" | "verify"
    ) {
        return Err(AppError::NotFound);
    }
    let mut tx = scope(&state, &user, "finance_period").await?;
    let tenant = tenant_of(&mut tx, &user, &slug).await?;
    let actor = Actor::user(&user);
    let of = PeriodOf {
        tenant: &tenant,
        period,
    };
    let back = format!(
        "/finance/t/{}/periods/{}",
        tenant.slug,
        actions::period_code(period)
    );
    let result = match command.as_str() {
        "compute" => actions::compute_draft(&mut tx, &actor, of)
            .await
            .map(|_| "settlement.flash.computed"),
        "review" => actions::send_to_review(&mut tx, &actor, of)
            .await
            .map(|_| "settlement.flash.sent_to_review"),
        "back-to-draft" => actions::back_to_draft(&mut tx, &actor, of)
            .await
            .map(|_| "settlement.flash.back_in_draft"),
        "finalize" => actions::finalize(&mut tx, &actor, of)
            .await
            .map(|_| "settlement.flash.finalized"),
        _ => {
            let id = repo::settlement_of(&mut tx, tenant.id, period)
                .await?
                .ok_or(AppError::NotFound)?;
            let v = actions::verify(&mut tx, &actor, &tenant, id).await?;
            tx.commit().await?;
            let (kind, key) = if v.ok() {
                ("ok", "settlement.verify.ok")
            } else {
                ("error", "settlement.verify.broken")
            };
            flash(&session, kind, key).await?;
            return Ok(Redirect::to(&back).into_response());
        }
    };
    match result {
        Ok(key) => {
            tx.commit().await?;
            flash(&session, "ok", key).await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e @ (DomainError::Refused(_) | DomainError::Invalid(_))) => {
            drop(tx);
            let shown = Shown {
                error: e.page_message(),
                ..Shown::default()
            };
            period_view(&state, &session, lang, &user, (&slug, period, shown)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AdjustmentForm {
    pub collaboration: String,
    pub currency: String,
    pub amount: String,
    pub reason: String,
}

impl From<AdjustmentForm> for AdjustmentInput {
    fn from(f: AdjustmentForm) -> Self {
        AdjustmentInput {
            collaboration: f.collaboration,
            currency: f.currency,
            amount: f.amount,
            reason: f.reason,
        }
    }
}

/// `POST …/adjustments`: a manual line with a reason.
pub async fn add_adjustment(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path((slug, period)): Path<(String, String)>,
    Form(form): Form<AdjustmentForm>,
) -> AppResult<Response> {
    let period = period_of(&period)?;
    let mut tx = scope(&state, &user, "finance_period").await?;
    let tenant = tenant_of(&mut tx, &user, &slug).await?;
    let input: AdjustmentInput = form.into();
    let of = PeriodOf {
        tenant: &tenant,
        period,
    };
    let back = format!(
        "/finance/t/{}/periods/{}",
        tenant.slug,
        actions::period_code(period)
    );
    match actions::add_adjustment(&mut tx, &Actor::user(&user), of, input.clone()).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "settlement.flash.adjustment_added").await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            drop(tx);
            let shown = Shown {
                adjustment: input,
                adjustment_errors: errors,
                ..Shown::default()
            };
            period_view(&state, &session, lang, &user, (&slug, period, shown)).await
        }
        Err(DomainError::Refused(key)) => {
            drop(tx);
            let shown = Shown {
                error: Some(key),
                adjustment: input,
                ..Shown::default()
            };
            period_view(&state, &session, lang, &user, (&slug, period, shown)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST …/adjustments/{id}/remove`.
pub async fn remove_adjustment(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path((slug, period, id)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let period = period_of(&period)?;
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let mut tx = scope(&state, &user, "finance_period").await?;
    let tenant = tenant_of(&mut tx, &user, &slug).await?;
    let of = PeriodOf {
        tenant: &tenant,
        period,
    };
    let back = format!(
        "/finance/t/{}/periods/{}",
        tenant.slug,
        actions::period_code(period)
    );
    match actions::remove_adjustment(&mut tx, &Actor::user(&user), of, id).await {
        Ok(()) => {
            tx.commit().await?;
            flash(&session, "ok", "settlement.flash.adjustment_removed").await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(DomainError::Refused(key)) => {
            drop(tx);
            let shown = Shown {
                error: Some(key),
                ..Shown::default()
            };
            period_view(&state, &session, lang, &user, (&slug, period, shown)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PaymentForm {
    pub paid_on: String,
    pub amount: String,
    pub reference: String,
}

/// `POST …/payments`: the seller paid (part of) a finalized settlement.
pub async fn add_payment(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path((slug, period)): Path<(String, String)>,
    Form(form): Form<PaymentForm>,
) -> AppResult<Response> {
    let period = period_of(&period)?;
    let mut tx = scope(&state, &user, "finance_period").await?;
    let tenant = tenant_of(&mut tx, &user, &slug).await?;
    let settlement = repo::settlement_of(&mut tx, tenant.id, period)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = PaymentInput {
        paid_on: form.paid_on,
        amount: form.amount,
        reference: form.reference,
    };
    let back = format!(
        "/finance/t/{}/periods/{}",
        tenant.slug,
        actions::period_code(period)
    );
    match actions::record_payment(
        &mut tx,
        &Actor::user(&user),
        &tenant,
        settlement,
        input.clone(),
    )
    .await
    {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "settlement.flash.payment_recorded").await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            drop(tx);
            let shown = Shown {
                payment: input,
                payment_errors: errors,
                ..Shown::default()
            };
            period_view(&state, &session, lang, &user, (&slug, period, shown)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The export job of a tenant's period: its finalized settlement, else its draft.
async fn period_job(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    (slug, period): (&str, &str),
) -> AppResult<(Job, String)> {
    let period = period_of(period)?;
    let mut tx = scope(state, user, "finance_export").await?;
    let tenant = tenant_of(&mut tx, user, slug).await?;
    let job = sheet::job(&mut tx, state, lang, &tenant, period).await?;
    tx.commit().await?;
    let job = job.ok_or(AppError::NotFound)?;
    Ok((job.0, job.1))
}

pub async fn period_csv(
    State(state): State<AppState>,
    lang: Lang,
    user: CurrentUser,
    Path((slug, period)): Path<(String, String)>,
) -> AppResult<Response> {
    let (job, status) = period_job(&state, lang, &user, (&slug, &period)).await?;
    let name = export::file_name(&slug, &job.head.period, &status, "csv");
    Ok(export::download(
        export::CSV_TYPE,
        &name,
        export::csv_body(job),
    ))
}

pub async fn period_xlsx(
    State(state): State<AppState>,
    lang: Lang,
    user: CurrentUser,
    Path((slug, period)): Path<(String, String)>,
) -> AppResult<Response> {
    let (job, status) = period_job(&state, lang, &user, (&slug, &period)).await?;
    let name = export::file_name(&slug, &job.head.period, &status, "xlsx");
    let file = export::xlsx_file(job).await?;
    Ok(export::download(
        export::XLSX_TYPE,
        &name,
        export::file_body(file),
    ))
}

// ---------------------------------------------------------------------------------------------
// A line's origin

pub async fn line_page(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path((slug, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let mut tx = scope(&state, &user, "finance_line").await?;
    let tenant = tenant_of(&mut tx, &user, &slug).await?;
    let (line, back, title, origin) = sheet::line(&mut tx, lang, &tenant, id).await?;
    tx.commit().await?;
    let back = match back {
        sheet::Back::Period(p) => format!("/finance/t/{}/periods/{p}", tenant.slug),
    };
    let path = format!("/finance/t/{}", tenant.slug);
    let layout = layout(
        &state,
        &session,
        lang,
        &user,
        ("settlement.line_title", &path),
    )
    .await?;
    render(&sheet::LinePage {
        layout,
        back,
        title,
        line: view::LineView {
            href: String::new(),
            ..line
        },
        origin,
    })
}

// ---------------------------------------------------------------------------------------------
// Payouts per creator across tenants

pub struct PayoutView {
    pub creator_id: Uuid,
    pub handle: String,
    pub currency: String,
    pub fixed_fee: String,
    pub commission: String,
    pub deductions: String,
    pub total: String,
    pub tenants: i64,
}

#[derive(Template)]
#[template(path = "settlement/payouts.html")]
struct PayoutsPage {
    layout: Layout,
    period: String,
    rows: Vec<PayoutView>,
}

pub async fn payouts_page(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    let period =
        actions::parse_period(&q.period).unwrap_or_else(|| actions::previous_month(today_month()));
    let mut tx = scope(&state, &user, "finance_payouts").await?;
    let rows = repo::payouts(&mut tx, period)
        .await?
        .into_iter()
        .map(|p| PayoutView {
            creator_id: p.creator_id,
            handle: p.handle,
            currency: p.currency.code().into(),
            fixed_fee: fmt::money(p.fixed_fee, p.currency.code()),
            commission: fmt::money(p.commission, p.currency.code()),
            deductions: fmt::money(p.deductions, p.currency.code()),
            total: fmt::money(p.total, p.currency.code()),
            tenants: p.tenants,
        })
        .collect();
    tx.commit().await?;
    let layout = layout(
        &state,
        &session,
        lang,
        &user,
        ("settlement.payouts_title", "/finance/payouts"),
    )
    .await?;
    render(&PayoutsPage {
        layout,
        period: actions::period_code(period),
        rows,
    })
}

/// Every line of what the agency pays one creator for a month, across tenants, in the currency
/// each is owed in: the creator's handle and the lines as export rows.
async fn payout_rows(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    (creator, period): (&str, &PeriodQuery),
) -> AppResult<(String, Date, Vec<export::Row>)> {
    let creator: Uuid = creator.parse().map_err(|_| AppError::NotFound)?;
    let period = actions::parse_period(&period.period).ok_or(AppError::NotFound)?;
    let mut tx = scope(state, user, "finance_payout_export").await?;
    let handle = repo::creator_handle(&mut tx, creator)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut rows = Vec::new();
    let mut after = Uuid::nil();
    // One creator's month is a handful of lines per tenant: read in pages all the same.
    loop {
        let page = repo::creator_page(&mut tx, creator, period, after, export::PAGE).await?;
        rows.extend(page.iter().map(|l| export::Row {
            id: l.id,
            tenant: l.tenant.clone(),
            period: actions::period_code(l.period),
            campaign: l.campaign.clone(),
            creator: l.handle.clone(),
            component: view::component_label(lang, &l.component),
            payer: view::party_label(lang, &l.payer),
            payee: view::party_label(lang, &l.payee),
            payable: l.payable,
            currency: l.currency,
            amount: l.amount,
            rate: Some(l.rate),
            converted: Some(l.converted),
            settlement_currency: l.settlement_currency,
            reason: l.reason.clone().unwrap_or_default(),
            status: lang.t(&format!(
                "settlement.status.{}",
                domain::payment_status(l.total_seller, l.paid)
            )),
            hash: l.hash.clone(),
        }));
        match page.last() {
            Some(last) if page.len() as i64 == export::PAGE => after = last.id,
            _ => break,
        }
    }
    tx.commit().await?;
    Ok((handle, period, rows))
}

/// `GET /finance/payouts/{creator}/export.csv?period=YYYY-MM`.
pub async fn payout_csv(
    State(state): State<AppState>,
    lang: Lang,
    user: CurrentUser,
    Path(creator): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    let (handle, period, rows) = payout_rows(&state, lang, &user, (&creator, &q)).await?;
    let mut out = export::csv_start(lang);
    out.extend(export::csv_rows(lang, &rows));
    let name = export::file_name(&handle, &actions::period_code(period), "payout", "csv");
    Ok(export::download(
        export::CSV_TYPE,
        &name,
        axum::body::Body::from(out),
    ))
}

/// `GET /finance/payouts/{creator}/export.xlsx?period=YYYY-MM`: the same lines, typed, with a
/// summary sheet naming the creator and the month.
pub async fn payout_xlsx(
    State(state): State<AppState>,
    lang: Lang,
    user: CurrentUser,
    Path(creator): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    let (handle, period, rows) = payout_rows(&state, lang, &user, (&creator, &q)).await?;
    let head = export::Head {
        subject: format!("@{handle}"),
        period: actions::period_code(period),
        status: lang.t("settlement.payouts_title"),
        settlement_currency: rows
            .first()
            .map(|r| r.settlement_currency)
            .unwrap_or_else(|| Currency::parse("CNY").expect("ISO code")),
        total_seller: None,
        total_creators: None,
        paid: None,
        rates: Vec::new(),
        hash: String::new(),
        previous_hash: String::new(),
    };
    let bytes = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        let mut x = export::Xlsx::new(lang, &head)?;
        x.rows(&rows)?;
        let mut out = std::io::Cursor::new(Vec::new());
        x.finish(&[], &mut out)?;
        Ok(out.into_inner())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    let name = export::file_name(&handle, &actions::period_code(period), "payout", "xlsx");
    Ok(export::download(
        export::XLSX_TYPE,
        &name,
        axum::body::Body::from(bytes),
    ))
}
