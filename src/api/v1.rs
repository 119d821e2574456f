//! `/api/v1`: JSON over the loop, for the sellers' and the agency's own tools. Every route takes
//! an [`ApiActor`] (a Bearer token; never the session cookie) and calls the same reads and
//! actions as the pages.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::domain::Scope;
use super::extract::ApiActor;
use crate::state::AppState;
use crate::web::front::problem_json;
use crate::web::lang::Lang;
use axum::extract::State;
use axum::http::StatusCode;

/// `GET /api/v1/campaigns`: the token's tenant's campaigns, newest first.
pub async fn campaigns(State(state): State<AppState>, lang: Lang, api: ApiActor) -> Response {
    if let Some(refused) = api.refusal(Scope::Read, lang) {
        return refused;
    }
    let Ok(tenant) = api.actor.tenant() else {
        return problem_json(lang, StatusCode::NOT_FOUND, None);
    };
    let rows = async {
        let mut tx = state.db.tenant_tx(tenant.id, api.actor.user_id).await?;
        let rows = crate::campaigns::repo::list(&mut tx, tenant.id).await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(rows)
    }
    .await;
    let Ok(rows) = rows else {
        return problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None);
    };
    let items: Vec<Value> = rows
        .into_iter()
        .map(|c| {
            json!({
                "id": c.id,
                "code": c.code,
                "title": c.title,
                "state": c.state.code(),
                "markets": c.markets,
                "created_at": c.created_at.unix_timestamp(),
            })
        })
        .collect();
    Json(json!({ "tenant": tenant.slug, "items": items })).into_response()
}
