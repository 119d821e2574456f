//! The company profile page (onboarding): legal details, markets, fees, time zone and shops. Saving
//! is `actions::save_profile` (whole or not at all); this file reads and renders the form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::actions;
use std::collections::BTreeMap;

use super::domain::{
    self, DATE_ORDERS, FEE_MODELS, PLATFORMS, ProfileInput, ShopInput, TenantStatus,
};
use super::{TenantCtx, repo};
use crate::error::{AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::kernel::markets::{
    CATEGORIES, COMMON_TIME_ZONES, MARKETS, SETTLEMENT_CURRENCIES, SHOP_CURRENCIES,
};
use crate::state::AppState;
use crate::web::forms::{Choice, Form, FormErrors, choices};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::render_with;

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
    status: TenantStatus,
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
        status: ctx.tenant.status,
        read_only: !domain::may_edit_profile(ctx.access, ctx.tenant.status),
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
            currency: s.currency.code().to_string(),
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

/// The profile form as posted: the company's fields, the button pressed, and the shop rows as
/// `shop-{row}-{field}` (collected in `rows`, read by `into_input`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub legal_name: String,
    pub licence: String,
    pub categories: Vec<String>,
    pub markets: Vec<String>,
    pub fee_model: String,
    pub service_fee: String,
    pub settlement_currency: String,
    pub time_zone: String,
    /// `add_shop` re-shows the form with one more empty row; anything else saves.
    pub action: String,
    #[serde(flatten)]
    pub rows: BTreeMap<String, String>,
}

impl ProfileForm {
    /// The profile as typed, shop rows by index (`shop-0-name`, …) up to the first missing name.
    pub fn into_input(mut self) -> ProfileInput {
        let mut shops = Vec::new();
        for i in 0..50 {
            if !self.rows.contains_key(&format!("shop-{i}-name")) {
                break;
            }
            let remove = self.rows.contains_key(&format!("shop-{i}-remove"));
            let mut field = |name: &str| {
                self.rows
                    .remove(&format!("shop-{i}-{name}"))
                    .unwrap_or_default()
            };
            shops.push(ShopInput {
                id: field("id"),
                name: field("name"),
                platform: field("platform"),
                url: field("url"),
                time_zone: field("time_zone"),
                date_order: field("date_order"),
                currency: field("currency"),
                remove,
            });
        }
        ProfileInput {
            legal_name: self.legal_name,
            licence: self.licence,
            categories: self.categories,
            markets: self.markets,
            fee_model: self.fee_model,
            service_fee_percent: self.service_fee,
            settlement_currency: self.settlement_currency,
            time_zone: self.time_zone,
            shops,
        }
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
    Form(form): Form<ProfileForm>,
) -> AppResult<Response> {
    let add_shop = form.action == "add_shop";
    let mut input = form.into_input();

    // "Add a shop" re-shows the form with one more empty row; nothing is saved.
    if add_shop {
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

#[cfg(test)]
mod tests {
    use super::ProfileForm;

    #[test]
    fn the_posted_profile_keeps_checkbox_groups_and_reads_shop_rows_by_index() {
        let form: ProfileForm = serde_html_form::from_bytes(
            b"legal_name=Acme&categories=pets&categories=toys&markets=US&service_fee=12\
              &shop-0-id=&shop-0-name=Acme+US&shop-0-currency=USD&shop-0-remove=on\
              &shop-1-name=Acme+UK&shop-1-currency=GBP&shop-3-name=skipped&action=add_shop",
        )
        .unwrap();
        assert_eq!(form.action, "add_shop");
        let input = form.into_input();
        assert_eq!(input.categories, vec!["pets", "toys"]);
        assert_eq!(input.markets, vec!["US"]);
        assert_eq!(input.service_fee_percent, "12");
        assert_eq!(input.shops.len(), 2);
        assert_eq!(input.shops[0].name, "Acme US");
        assert!(input.shops[0].remove && !input.shops[1].remove);
        assert_eq!(input.shops[1].currency, "GBP");
    }
}
