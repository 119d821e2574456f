//! The seller's campaign requests: list, form (save as draft or submit), the campaign page with
//! its history, and state moves (SPEC §2). Account managers see them in their assigned tenants.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, CampaignForm, MoveForm};
use super::domain::{self, CampaignInput, CampaignState, Role, Transition};
use super::repo;
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::kernel::STYLES;
use crate::kernel::counts::{parse_count, plain_decimal};
use crate::kernel::markets::LANGUAGES;
use crate::kernel::markets::{CATEGORIES, MARKETS, SHOP_CURRENCIES};
use crate::matching::domain::AgeBucket;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx, repo as tenants};
use crate::web::forms::{Choice, Form, FormErrors, choices};
use crate::web::front::Front;
use crate::web::labels::{List, labels};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, render_with};

pub fn actor_of(ctx: &TenantCtx) -> Role {
    match ctx.access {
        Access::Owner => Role::SellerOwner,
        Access::Operator | Access::Viewer => Role::SellerOperator,
        Access::AccountManager => Role::AccountManager,
    }
}

#[derive(Template)]
#[template(path = "campaigns/form.html")]
struct FormPage {
    layout: Layout,
    action: String,
    input: CampaignInput,
    shops: Vec<(String, String, bool)>,
    markets: Vec<Choice>,
    languages: Vec<Choice>,
    categories: Vec<(String, String)>,
    interests: Vec<Choice>,
    styles: Vec<Choice>,
    ages: Vec<Choice>,
    currencies: &'static [&'static str],
    errors: FormErrors,
}

/// What the form shows: the request as typed, where it posts, and how it went.
struct FormView {
    input: CampaignInput,
    /// Where the form posts (the list for a new request, the campaign for a draft).
    action: String,
    status: StatusCode,
    errors: FieldErrors,
}

async fn show_form(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    view: FormView,
) -> AppResult<Response> {
    let FormView {
        input,
        action,
        status,
        errors,
    } = view;
    let shops = tenants::shops(&mut ctx.tx, ctx.tenant.id).await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "campaigns.form_title",
        &path,
    )
    .await?;
    let page = FormPage {
        layout,
        action,
        shops: shops
            .into_iter()
            .map(|s| {
                let id = s.id.to_string();
                let selected = id == input.shop_id;
                (id, s.name, selected)
            })
            .collect(),
        markets: choices(lang, MARKETS, "market", &input.markets),
        languages: choices(lang, LANGUAGES, "language", &input.languages),
        categories: CATEGORIES
            .iter()
            .map(|c| ((*c).to_string(), lang.t(&format!("category.{c}"))))
            .collect(),
        interests: choices(lang, CATEGORIES, "category", &input.interests),
        styles: choices(lang, STYLES, "style", &input.styles),
        ages: choices(
            lang,
            &AgeBucket::ALL.map(|a| a.code()),
            "",
            &input.age_buckets,
        ),
        currencies: SHOP_CURRENCIES,
        errors: FormErrors::new(lang, &errors),
        input,
    };
    render_with(status, &page)
}

fn can_edit(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(&[Access::Owner, Access::Operator])?;
    ctx.require_active()
}

pub async fn new(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    ctx: TenantCtx,
) -> AppResult<Response> {
    can_edit(&ctx)?;
    // Amounts start in the seller's settlement currency (each can be changed beside its amount).
    let currency = ctx.tenant.settlement_currency.clone();
    let input = CampaignInput {
        format: "short_video".into(),
        creators_wanted: "5".into(),
        commission_rate: "10".into(),
        script_source: "agency".into(),
        unit_currency: currency.clone(),
        budget_currency: currency.clone(),
        fee_cap_currency: currency,
        ..Default::default()
    };
    let action = format!("/t/{}/campaigns", ctx.tenant.slug);
    let view = FormView {
        input,
        action,
        status: StatusCode::OK,
        errors: FieldErrors::new(),
    };
    show_form(&state, &session, lang, ctx, view).await
}

/// Saves as a draft, or (action=submit) checks completeness, submits and assigns the code.
async fn save(
    state: AppState,
    session: Session,
    lang: Lang,
    front: Front,
    mut ctx: TenantCtx,
    form: CampaignForm,
    existing: Option<Uuid>,
) -> AppResult<Response> {
    let submit = form.submits();
    let typed = form.input.clone();
    let input = form.into_input(existing);
    let id = match actions::save_campaign(&mut ctx.tx, &ctx.actor, input).await {
        Ok(id) => id,
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            // Nothing was saved: the form again, as typed, with a message per field.
            let ctx = ctx.reopen(&state.db).await?;
            let action = match existing {
                Some(id) => format!("/t/{}/campaigns/{id}", ctx.tenant.slug),
                None => format!("/t/{}/campaigns", ctx.tenant.slug),
            };
            let view = FormView {
                input: typed,
                action,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            };
            return show_form(&state, &session, lang, ctx, view).await;
        }
        Err(e) => return Err(e.into()),
    };
    ctx.tx.commit().await?;
    flash(
        &session,
        "ok",
        if submit {
            "campaigns.submitted"
        } else {
            "campaigns.saved_draft"
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/t/{}/campaigns/{id}", ctx.tenant.slug)).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    ctx: TenantCtx,
    Form(form): Form<CampaignForm>,
) -> AppResult<Response> {
    save(state, session, lang, front, ctx, form, None).await
}

pub async fn update(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
    Form(form): Form<CampaignForm>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    save(state, session, lang, front, ctx, form, Some(id)).await
}

pub async fn edit(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    repo::ensure_exists(&mut ctx.tx, ctx.tenant.id, id).await?;
    can_edit(&ctx)?;
    let row = repo::get(&mut ctx.tx, ctx.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.state != CampaignState::Draft {
        return Err(AppError::Forbidden);
    }
    let view = FormView {
        input: row.input(),
        action: format!("/t/{}/campaigns/{id}", ctx.tenant.slug),
        status: StatusCode::OK,
        errors: FieldErrors::new(),
    };
    show_form(&state, &session, lang, ctx, view).await
}

pub struct HistoryRow {
    pub at: String,
    pub from: CampaignState,
    pub to: CampaignState,
    pub who: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "campaigns/show.html")]
struct ShowPage {
    layout: Layout,
    /// The campaign's tabs, rendered (`campaigns::tabs`).
    tabs: String,
    slug: String,
    id: Uuid,
    code: String,
    title: String,
    state: CampaignState,
    facts: Vec<(String, String)>,
    history: Vec<HistoryRow>,
    actions: Vec<(String, String)>,
    can_edit: bool,
    can_cancel: bool,
    is_staff: bool,
    error: Option<String>,
}

fn facts(lang: Lang, i: &CampaignInput, shop_name: &str) -> Vec<(String, String)> {
    let join = |v: &[String]| {
        if v.is_empty() {
            "—".to_string()
        } else {
            v.join(", ")
        }
    };
    let or_dash = |s: &str| {
        if s.trim().is_empty() {
            "—".to_string()
        } else {
            s.to_string()
        }
    };
    let range = |a: &str, b: &str| format!("{} – {}", or_dash(a), or_dash(b));
    // What was typed, in the one format of every page when it reads as a number; as typed when
    // not (a draft may hold anything).
    let count = |s: &str| parse_count(s);
    let amount = |s: &str| plain_decimal(s);
    let money_or_typed = |s: &str, currency: &str| match amount(s) {
        Some(v) if !currency.is_empty() => fmt::money(v, currency),
        _ => or_dash(s),
    };
    let counts = |a: &str, b: &str| match (count(a), count(b)) {
        (x, y) if (x.is_some() || a.trim().is_empty()) && (y.is_some() || b.trim().is_empty()) => {
            fmt::number_range(x, y)
        }
        _ => range(a, b),
    };
    let amounts = |a: &str, b: &str, currency: &str| match (amount(a), amount(b)) {
        (x, y)
            if !currency.is_empty()
                && (x.is_some() || a.trim().is_empty())
                && (y.is_some() || b.trim().is_empty()) =>
        {
            fmt::money_range(x, y, currency)
        }
        _ => format!("{} {currency}", range(a, b)),
    };
    vec![
        (
            lang.t("campaigns.field.product"),
            format!("{} · {}", or_dash(&i.product_name), or_dash(&i.sku)),
        ),
        (
            lang.t("campaigns.field.product_url"),
            or_dash(&i.product_url),
        ),
        (
            lang.t("campaigns.field.unit_price"),
            money_or_typed(&i.unit_price, &i.unit_currency),
        ),
        (lang.t("campaigns.field.shop"), or_dash(shop_name)),
        (
            lang.t("campaigns.field.markets"),
            labels(lang, List::Market, &i.markets),
        ),
        (
            lang.t("campaigns.field.languages"),
            labels(lang, List::Language, &i.languages),
        ),
        (
            lang.t("campaigns.field.format"),
            if i.format.is_empty() {
                "—".into()
            } else {
                lang.t(&format!("campaign.format.{}", i.format))
            },
        ),
        (
            lang.t("campaigns.field.creators_wanted"),
            or_dash(&i.creators_wanted),
        ),
        (
            lang.t("campaigns.field.followers"),
            counts(&i.followers_min, &i.followers_max),
        ),
        (
            lang.t("campaigns.field.budget"),
            amounts(&i.budget_min, &i.budget_max, &i.budget_currency),
        ),
        (
            lang.t("campaigns.field.fee_cap"),
            money_or_typed(&i.fee_cap, &i.fee_cap_currency),
        ),
        (
            lang.t("campaigns.field.commission_rate"),
            format!("{}%", or_dash(&i.commission_rate)),
        ),
        (
            lang.t("campaigns.field.audience"),
            format!(
                "{} · {}",
                join(&i.age_buckets),
                match i.gender.trim() {
                    "" => lang.t("campaign.gender.any"),
                    g @ ("female" | "male") => lang.t(&format!("campaign.gender.{g}")),
                    g => g.to_string(),
                }
            ),
        ),
        (
            lang.t("campaigns.field.interests"),
            labels(lang, List::Category, &i.interests),
        ),
        (
            lang.t("campaigns.field.styles"),
            labels(lang, List::Style, &i.styles),
        ),
        (
            lang.t("campaigns.field.publish_window"),
            range(&i.publish_from, &i.publish_to),
        ),
        (
            lang.t("campaigns.field.sample"),
            if i.sample_needed.is_empty() {
                lang.t("admin.no")
            } else {
                format!("{} · {}", lang.t("admin.yes"), i.ship_from)
            },
        ),
        (lang.t("campaigns.field.roi_target"), or_dash(&i.roi_target)),
        (
            lang.t("campaigns.field.other_targets"),
            format!(
                "GMV {} · {} {} · CTR {}%",
                money_or_typed(&i.gmv_target, &i.unit_currency),
                lang.t("campaigns.field.views"),
                count(&i.views_target).map_or_else(|| or_dash(&i.views_target), fmt::number),
                or_dash(&i.ctr_target)
            ),
        ),
        (
            lang.t("campaigns.field.known_pitfalls"),
            or_dash(&i.known_pitfalls),
        ),
    ]
}

async fn show_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    id: Uuid,
    status: StatusCode,
    error: Option<&str>,
) -> AppResult<Response> {
    let row = repo::get(&mut ctx.tx, ctx.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let history = repo::transitions(&mut ctx.tx, ctx.tenant.id, id).await?;
    let input = row.input();
    let shop_name = match input.shop_id.parse::<Uuid>() {
        Ok(shop) => tenants::shop(&mut ctx.tx, ctx.tenant.id, shop)
            .await?
            .map(|s| s.name)
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let current = row.state;
    let actor = actor_of(&ctx);
    ctx.tx.commit().await?;
    let viewer = ctx.access == Access::Viewer;
    let actions = if viewer {
        Vec::new()
    } else {
        domain::allowed_transitions(current, actor)
            .into_iter()
            // Submitting goes through the form; cancelling has its own form with a reason; the
            // shortlist moves happen on the shortlist pages.
            .filter(|t| matches!(t, Transition::StartMatching))
            .map(|t| {
                (
                    t.code().to_string(),
                    lang.t(&format!("campaign.transition.{}", t.code())),
                )
            })
            .collect()
    };
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "campaigns.title",
        &path,
    )
    .await?;
    let page = ShowPage {
        layout,
        tabs: super::tabs::render(
            lang,
            &ctx.tenant.slug,
            id,
            ctx.access,
            super::tabs::Tab::Brief,
        ),
        slug: ctx.tenant.slug.clone(),
        id,
        code: row.code.clone().unwrap_or_default(),
        title: row.title.clone(),
        state: current,
        facts: facts(lang, &input, &shop_name),
        history: history
            .into_iter()
            .map(|h| HistoryRow {
                at: fmt::datetime(h.at, &ctx.tenant.time_zone),
                from: h.from_state,
                to: h.to_state,
                who: h.actor_label,
                reason: h.reason.unwrap_or_default(),
            })
            .collect(),
        actions,
        can_edit: current == CampaignState::Draft
            && matches!(ctx.access, Access::Owner | Access::Operator),
        can_cancel: !viewer
            && domain::allowed_transitions(current, actor).contains(&Transition::Cancel),
        is_staff: ctx.access == Access::AccountManager,
        error: error.map(|k| lang.t(k)),
    };
    render_with(status, &page)
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    show_page(&state, &session, lang, ctx, id, StatusCode::OK, None).await
}

/// A state move from the campaign page (start matching, cancel with a reason).
pub async fn transition(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    // The rules (which moves are taken here, by whom) are the action's, shared with the API.
    let moved = actions::move_by_hand(&mut ctx.tx, &ctx.actor, id, form).await;
    match moved {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "campaigns.moved").await?;
            Ok(Redirect::to(&format!("/t/{}/campaigns/{id}", ctx.tenant.slug)).into_response())
        }
        Err(e) => match e.page_message() {
            // Nothing was changed; show the page again with the reason for the refusal (or
            // what is wrong with the reason typed).
            Some(key) if !front.is_json() => {
                let ctx = ctx.reopen(&state.db).await?;
                show_page(
                    &state,
                    &session,
                    lang,
                    ctx,
                    id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(key),
                )
                .await
            }
            _ => Err(e.into()),
        },
    }
}
