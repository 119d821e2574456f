//! `/api/v1`: JSON over the loop, for the sellers' and the agency's own tools. Every route takes
//! an [`ApiActor`] (a Bearer token; never the session cookie) and calls the same reads and
//! actions as the pages.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::domain::Scope;
use super::extract::ApiActor;
use crate::error::{DomainError, ErrorDetail};
use crate::state::AppState;
use crate::tracking::posts::actions::{CreatePost, create_post};
use crate::tracking::posts::domain::PostInput;
use crate::web::front::problem_json;
use crate::web::lang::Lang;

/// An action's refusal as the API answers it: the same reasons the pages give, as
/// problem+json (a wrong field named in `errors`).
fn problem_of(lang: Lang, e: DomainError) -> Response {
    match e {
        DomainError::Invalid(errors) => problem_json(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&ErrorDetail::Invalid(errors)),
        ),
        DomainError::NotFound => problem_json(lang, StatusCode::NOT_FOUND, None),
        DomainError::Forbidden => problem_json(lang, StatusCode::FORBIDDEN, None),
        DomainError::Refused(key) => {
            problem_json(lang, StatusCode::CONFLICT, Some(&ErrorDetail::Refused(key)))
        }
        other => {
            tracing::error!(error = ?other, "api: an action failed");
            problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

/// A post as a program sends it: the same fields as the page's form (`published_at` as
/// `YYYY-MM-DDTHH:MM` in the campaign shop's time zone, as the form takes it).
#[derive(Debug, Deserialize)]
pub struct NewPost {
    pub collaboration_id: Uuid,
    pub url: String,
    #[serde(default)]
    pub video_id: String,
    pub published_at: String,
}

/// `POST /api/v1/posts` (a write token): records a post through the page's action — the same
/// checks, the same move of the collaboration, the same audit entry under the token's person.
pub async fn create_post_api(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    body: Result<Json<NewPost>, JsonRejection>,
) -> Response {
    if let Some(refused) = api.refusal(Scope::Write, lang) {
        return refused;
    }
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => {
            let mut res = problem_json(lang, StatusCode::BAD_REQUEST, None);
            *res.body_mut() = axum::body::Body::from(
                json!({
                    "type": "/problems/bad-body",
                    "title": rejection.body_text(),
                    "status": 400,
                })
                .to_string(),
            );
            return res;
        }
    };
    let Ok(tenant) = api.actor.tenant() else {
        return problem_json(lang, StatusCode::NOT_FOUND, None);
    };
    let input = CreatePost {
        collaboration_id: body.collaboration_id,
        post: PostInput {
            url: body.url,
            video_id: body.video_id,
            published_at: body.published_at,
        },
    };
    let result = async {
        let mut tx = state.db.tenant_tx(tenant.id, api.actor.user_id).await?;
        match create_post(&mut tx, &api.actor, input).await {
            Ok(id) => {
                tx.commit().await?;
                Ok(Ok(id))
            }
            Err(e) => Ok(Err(e)),
        }
    }
    .await;
    match result {
        Ok(Ok(id)) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Ok(Err(e)) => problem_of(lang, e),
        Err::<_, crate::error::AppError>(_) => {
            problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

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
