//! The company profile page (onboarding): legal details, markets, fees, time zone and shops. Saving
//! is `actions::save_profile` (whole or not at all); this file reads and renders the form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::actions;
use super::domain::{
    self, CATEGORIES, DATE_ORDERS, FEE_MODELS, FieldErrors, MARKETS, PLATFORMS, ProfileInput,
    SETTLEMENT_CURRENCIES, SHOP_CURRENCIES, ShopInput,
};
use super::{TenantCtx, repo};
use crate::error::{AppResult, DomainError};
use crate::state::AppState;
use crate::web::forms::{Choice, FormData, FormErrors, choices};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::render_with;

/// Time zones offered in the picker; any IANA name is accepted.
pub const COMMON_TIME_ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Ho_Chi_Minh",
    "Asia/Kuala_Lumpur",
    "Asia/Manila",
    "Asia/Riyadh",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "UTC",
];

pub struct ShopRow {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    pub platforms: Vec<Choice>,
    pub date_orders: Vec<Choice>,
    pub currencies: Vec<Choice>,
    pub remove: bool,
    pub name_error: Option<String>,
    pub platform_error: Option<String>,
    pub url_error: Option<String>,
    pub time_zone_error: Option<String>,
    pub date_order_error: Option<String>,
    pub currency_error: Option<String>,
}

#[derive(Template)]
#[template(path = "tenants/profile.html")]
struct ProfilePage {
    layout: Layout,
    slug: String,
    status: String,
    read_only: bool,
    legal_name: String,
    licence: String,
    categories: Vec<Choice>,
    markets: Vec<Choice>,
    fee_models: Vec<Choice>,
    service_fee_percent: String,
    settlement_currencies: Vec<Choice>,
    time_zone: String,
    time_zones: &'static [&'static str],
    shops: Vec<ShopRow>,
    errors: FormErrors,
}

fn page(
    layout: Layout,
    ctx: &TenantCtx,
    lang: Lang,
    input: &ProfileInput,
    errors: &FieldErrors,
) -> ProfilePage {
    let err = |field: String| errors.get(&field).map(|k| lang.t(k));
    let shops = input
        .shops
        .iter()
        .enumerate()
        .map(|(i, s)| ShopRow {
            index: i,
            id: s.id.clone(),
            name: s.name.clone(),
            url: s.url.clone(),
            time_zone: s.time_zone.clone(),
            platforms: choices(
                lang,
                PLATFORMS,
                "platform",
                std::slice::from_ref(&s.platform),
            ),
            date_orders: choices(
                lang,
                DATE_ORDERS,
                "date_order",
                std::slice::from_ref(&s.date_order),
            ),
            currencies: choices(lang, SHOP_CURRENCIES, "", std::slice::from_ref(&s.currency)),
            remove: s.remove,
            name_error: err(format!("shop-{i}-name")),
            platform_error: err(format!("shop-{i}-platform")),
            url_error: err(format!("shop-{i}-url")),
            time_zone_error: err(format!("shop-{i}-time_zone")),
            date_order_error: err(format!("shop-{i}-date_order")),
            currency_error: err(format!("shop-{i}-currency")),
        })
        .collect();
    ProfilePage {
        layout,
        slug: ctx.tenant.slug.clone(),
        status: ctx.tenant.status.clone(),
        read_only: !domain::may_edit_profile(ctx.access, &ctx.tenant.status),
        legal_name: input.legal_name.clone(),
        licence: input.licence.clone(),
        categories: choices(lang, CATEGORIES, "category", &input.categories),
        markets: choices(lang, MARKETS, "market", &input.markets),
        fee_models: choices(
            lang,
            FEE_MODELS,
            "fee_model",
            std::slice::from_ref(&input.fee_model),
        ),
        service_fee_percent: input.service_fee_percent.clone(),
        settlement_currencies: choices(
            lang,
            SETTLEMENT_CURRENCIES,
            "",
            std::slice::from_ref(&input.settlement_currency),
        ),
        time_zone: input.time_zone.clone(),
        time_zones: COMMON_TIME_ZONES,
        shops,
        errors: FormErrors::new(lang, errors),
    }
}

async fn stored_input(ctx: &mut TenantCtx) -> AppResult<ProfileInput> {
    let p = repo::profile(&mut ctx.tx, ctx.tenant.id).await?;
    let shops = repo::shops(&mut ctx.tx, ctx.tenant.id).await?;
    let mut rows: Vec<ShopInput> = shops
        .into_iter()
        .map(|s| ShopInput {
            id: s.id.to_string(),
            name: s.name,
            platform: s.platform,
            url: s.url,
            time_zone: s.time_zone,
            date_order: s.date_order,
            currency: s.currency,
            remove: false,
        })
        .collect();
    rows.push(blank_shop(&p.time_zone));
    Ok(ProfileInput {
        legal_name: p.legal_name.unwrap_or_default(),
        licence: p.business_licence_no.unwrap_or_default(),
        categories: p.main_categories,
        markets: p.target_markets,
        fee_model: p.fee_model,
        service_fee_percent: crate::web::fmt::percent_of(p.service_fee_rate),
        settlement_currency: p.settlement_currency,
        time_zone: p.time_zone,
        shops: rows,
    })
}

fn blank_shop(time_zone: &str) -> ShopInput {
    ShopInput {
        time_zone: time_zone.to_string(),
        date_order: "DMY".into(),
        currency: "USD".into(),
        ..Default::default()
    }
}

/// The posted form as typed, shop rows by index (`shop-0-name`, …).
fn posted_input(form: &FormData) -> ProfileInput {
    let mut shops = Vec::new();
    for i in 0..50 {
        let field = |name: &str| form.get(&format!("shop-{i}-{name}")).to_string();
        if !form.has(&format!("shop-{i}-name")) {
            break;
        }
        shops.push(ShopInput {
            id: field("id"),
            name: field("name"),
            platform: field("platform"),
            url: field("url"),
            time_zone: field("time_zone"),
            date_order: field("date_order"),
            currency: field("currency"),
            remove: form.has(&format!("shop-{i}-remove")),
        });
    }
    ProfileInput {
        legal_name: form.get("legal_name").to_string(),
        licence: form.get("licence").to_string(),
        categories: form.all("categories"),
        markets: form.all("markets"),
        fee_model: form.get("fee_model").to_string(),
        service_fee_percent: form.get("service_fee").to_string(),
        settlement_currency: form.get("settlement_currency").to_string(),
        time_zone: form.get("time_zone").to_string(),
        shops,
    }
}

async fn layout_for(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: &TenantCtx,
) -> AppResult<Layout> {
    let path = format!("/t/{}/settings/profile", ctx.tenant.slug);
    Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "profile.title",
        &path,
    )
    .await
}

pub async fn form(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let input = stored_input(&mut ctx).await?;
    let layout = layout_for(&state, &session, lang, &ctx).await?;
    render_with(
        StatusCode::OK,
        &page(layout, &ctx, lang, &input, &FieldErrors::new()),
    )
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    let mut input = posted_input(&form);

    // "Add a shop" re-shows the form with one more empty row; nothing is saved.
    if form.get("action") == "add_shop" {
        actions::require_profile_editor(&ctx.actor)?;
        input.shops.push(blank_shop(&input.time_zone));
        let layout = layout_for(&state, &session, lang, &ctx).await?;
        return render_with(
            StatusCode::OK,
            &page(layout, &ctx, lang, &input, &FieldErrors::new()),
        );
    }

    match actions::save_profile(&mut ctx.tx, &ctx.actor, input.clone()).await {
        Ok(()) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "flash.profile_saved").await?;
            Ok(Redirect::to(&format!("/t/{}/", ctx.tenant.slug)).into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            // Nothing is kept; the form comes back as typed with a message next to each field.
            let ctx = ctx.reopen(&state.db).await?;
            let layout = layout_for(&state, &session, lang, &ctx).await?;
            render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(layout, &ctx, lang, &input, &errors),
            )
        }
        Err(e) => Err(e.into()),
    }
}
