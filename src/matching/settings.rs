//! The matching weights: a platform setting an admin changes (SPEC §3). Shortlist entries freeze
//! their score, so a change never rewrites what a seller was already shown.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use sqlx::PgConnection;
use tower_sessions::Session;

use super::domain::Weights;
use crate::audit;
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::SystemScope;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::domain::FieldErrors;
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::render_with;

pub const WEIGHTS_KEY: &str = "matching_weights";

/// The weights in force (the defaults until an admin saves others).
pub async fn current(conn: &mut PgConnection) -> Result<Weights, sqlx::Error> {
    let stored: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT value FROM platform_settings WHERE key = $1")
            .bind(WEIGHTS_KEY)
            .fetch_optional(conn)
            .await?;
    Ok(stored
        .and_then(|v| serde_json::from_value::<Weights>(v).ok())
        .filter(Weights::validate)
        .unwrap_or_default())
}

/// (field, label key, value as typed)
type WeightField = (&'static str, &'static str, String);

const FIELDS: [(&str, &str); 6] = [
    ("audience", "matching.component.audience"),
    ("engagement", "matching.component.engagement"),
    ("category", "matching.component.category"),
    ("style", "matching.component.style"),
    ("price", "matching.component.price"),
    ("track_record", "matching.component.track_record"),
];

fn fields_of(w: &Weights) -> Vec<WeightField> {
    let values = [
        w.audience,
        w.engagement,
        w.category,
        w.style,
        w.price,
        w.track_record,
    ];
    FIELDS
        .iter()
        .zip(values)
        .map(|((name, key), v)| (*name, *key, format!("{v}")))
        .collect()
}

#[derive(Template)]
#[template(path = "matching/weights.html")]
struct WeightsPage {
    layout: Layout,
    fields: Vec<WeightField>,
    errors: FormErrors,
}

pub async fn form(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    user.require(PlatformRole::Admin)?;
    let mut conn = state.db.pool().acquire().await?;
    let weights = current(&mut conn).await?;
    drop(conn);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "matching.weights_title",
        "/admin/matching-weights",
    )
    .await?;
    render_with(
        StatusCode::OK,
        &WeightsPage {
            layout,
            fields: fields_of(&weights),
            errors: FormErrors::none(),
        },
    )
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    form: FormData,
) -> AppResult<Response> {
    user.require(PlatformRole::Admin)?;
    let mut errors = FieldErrors::new();
    let mut values = [0f64; 6];
    for (i, (name, _)) in FIELDS.iter().enumerate() {
        match form.get(name).trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => values[i] = v,
            _ => {
                errors.insert((*name).to_string(), "matching.error.weight");
            }
        }
    }
    let weights = Weights {
        audience: values[0],
        engagement: values[1],
        category: values[2],
        style: values[3],
        price: values[4],
        track_record: values[5],
    };
    if errors.is_empty() && !weights.validate() {
        errors.insert("sum".into(), "matching.error.weights_sum");
    }
    if !errors.is_empty() {
        let layout = Layout::for_user(
            &state,
            &session,
            lang,
            &user,
            None,
            "matching.weights_title",
            "/admin/matching-weights",
        )
        .await?;
        let fields = FIELDS
            .iter()
            .map(|(name, key)| (*name, *key, form.get(name).to_string()))
            .collect();
        return render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &WeightsPage {
                layout,
                fields,
                errors: FormErrors::new(lang, &errors),
            },
        );
    }
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    let before = current(&mut tx).await?;
    sqlx::query(
        "INSERT INTO platform_settings (key, value, updated_by) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, \
         updated_at = now()",
    )
    .bind(WEIGHTS_KEY)
    .bind(json!(weights))
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        audit::Entry::new(
            "settings.matching_weights",
            "platform_setting",
            Some(WEIGHTS_KEY.into()),
        )
        .by(&user)
        .before(json!(before))
        .after(json!(weights)),
    )
    .await?;
    tx.commit().await?;
    flash(&session, "ok", "matching.weights_saved").await?;
    Ok(Redirect::to("/admin/matching-weights").into_response())
}
