//! The API's limits, in front of every `/api/v1` route: a rate per token (counted in Postgres
//! with the login throttle's counters, so several app servers share one count; 429 with
//! `Retry-After`), a body size limit (413), and `Idempotency-Key` on POST (the first answer kept
//! and replayed, the same key with another request refused with 422, a duplicate arriving while
//! the first still runs refused with 409). Every refusal is problem+json.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::domain;
use super::repo;
use crate::db::SystemScope;
use crate::error::ErrorDetail;
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::web::front::problem_json;
use crate::web::lang::Lang;

/// The largest request body `/api/v1` takes: a batch of 10,000 order lines fits with room.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The header a replayed answer carries.
pub const REPLAYED: &str = "idempotent-replayed";

fn refused(lang: Lang, status: StatusCode, key: &'static str) -> Response {
    problem_json(lang, status, Some(&ErrorDetail::Refused(key)))
}

/// The rate limit and, on POST, the idempotency key; then the route.
pub async fn limits(
    State(state): State<AppState>,
    lang: Lang,
    req: Request,
    next: Next,
) -> Response {
    let token = domain::bearer(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
    .map(str::to_owned);
    // Without a token the route answers 401 itself; the public spec and reference need none.
    let Some(token) = token else {
        return next.run(req).await;
    };
    let limit = state.config.api_requests_per_minute;
    match crate::auth::repo::throttle_count_attempt(
        state.db.pool(),
        &domain::rate_key(&token),
        limit,
        1,
    )
    .await
    {
        Ok(None) => {}
        Ok(Some(seconds)) => {
            let mut res = refused(lang, StatusCode::TOO_MANY_REQUESTS, "api.error.rate");
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(domain::retry_after(seconds)),
            );
            return res;
        }
        Err(e) => {
            tracing::error!(error = %e, "api: rate counter failed");
            return problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None);
        }
    }
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw_key) = req
        .headers()
        .get("idempotency-key")
        .map(|v| v.as_bytes().to_vec())
    else {
        return next.run(req).await;
    };
    let key = match domain::idempotency_key(&raw_key) {
        Ok(key) => key.to_owned(),
        Err(code) => {
            let mut errors = FieldErrors::new();
            errors.insert("Idempotency-Key".into(), code);
            return problem_json(
                lang,
                StatusCode::BAD_REQUEST,
                Some(&ErrorDetail::Invalid(errors)),
            );
        }
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refused(lang, StatusCode::PAYLOAD_TOO_LARGE, "api.error.too_large");
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    let fingerprint = domain::request_fingerprint(parts.method.as_str(), path, &bytes);
    let token_hash = domain::hash(&token);
    match idempotent_run(&state, &token_hash, &key, &fingerprint).await {
        Ok(Claim::Run) => {}
        Ok(Claim::Replay(answer)) => return answer,
        Ok(Claim::Running) => {
            return refused(lang, StatusCode::CONFLICT, "api.error.idempotency_running");
        }
        Ok(Claim::OtherRequest) => {
            return refused(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                "api.error.idempotency_reused",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "api: idempotency claim failed");
            return problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None);
        }
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    match keep_answer(&state, &token_hash, &key, response).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "api: keeping an idempotent answer failed");
            problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

enum Claim {
    Run,
    Replay(Response),
    Running,
    OtherRequest,
}

async fn idempotent_run(
    state: &AppState,
    token_hash: &[u8],
    key: &str,
    fingerprint: &[u8],
) -> anyhow::Result<Claim> {
    let mut tx = state.db.system_tx(SystemScope::ApiToken).await?;
    if rand::random::<u8>() == 0 {
        repo::expire_idempotency(&mut tx).await?;
    }
    let claimed = repo::claim_idempotency(&mut tx, token_hash, key, fingerprint).await?;
    let earlier = if claimed {
        None
    } else {
        repo::idempotent(&mut tx, token_hash, key).await?
    };
    tx.commit().await?;
    Ok(match earlier {
        None => Claim::Run,
        Some(e) if e.request_hash != fingerprint => Claim::OtherRequest,
        Some(e) if e.running => Claim::Running,
        Some(e) => Claim::Replay(replay(&e)),
    })
}

fn replay(kept: &repo::Idempotent) -> Response {
    let status = kept
        .status
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = (status, Body::from(kept.body.clone().unwrap_or_default())).into_response();
    let headers = res.headers_mut();
    if let Some(v) = kept
        .content_type
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = kept
        .location
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    res
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Keeps the route's answer under the key (answers that say "try again" — a server error, a
/// rate refusal — let the key go instead) and gives it back.
async fn keep_answer(
    state: &AppState,
    token_hash: &[u8],
    key: &str,
    response: Response,
) -> anyhow::Result<Response> {
    let (parts, body) = response.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, usize::MAX).await?;
    let mut tx = state.db.system_tx(SystemScope::ApiToken).await?;
    if parts.status.is_server_error() || parts.status == StatusCode::TOO_MANY_REQUESTS {
        repo::release_idempotency(&mut tx, token_hash, key).await?;
    } else {
        let content_type = header_text(&parts.headers, header::CONTENT_TYPE);
        let location = header_text(&parts.headers, header::LOCATION);
        repo::finish_idempotency(
            &mut tx,
            token_hash,
            key,
            &repo::Answer {
                status: parts.status.as_u16() as i16,
                content_type: content_type.as_deref(),
                location: location.as_deref(),
                body: &bytes,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}
