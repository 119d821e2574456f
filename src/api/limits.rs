//! The API's limits, in front of every `/api/v1` route: the token checked first (nothing is
//! counted or kept for a token that is not let in), a rate per token (counted in Postgres with the
//! login throttle's counters, so several app servers share one count; 429 with `Retry-After`), a
//! body size limit (413), and `Idempotency-Key` on POST (the first answer — a success or a refused
//! input — kept and replayed, the same key with another request refused with 422, a duplicate
//! arriving while the first still runs refused with 409). Every refusal is problem+json.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::domain;
use super::extract::ApiActor;
use super::repo;
use crate::db::SystemScope;
use crate::error::ErrorDetail;
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::web::front::problem_json;
use crate::web::lang::Lang;
use uuid::Uuid;

/// The largest request body `/api/v1` takes: a batch of 10,000 order lines fits with room.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The header a replayed answer carries.
pub const REPLAYED: &str = "idempotent-replayed";

fn refused(lang: Lang, status: StatusCode, key: &'static str) -> Response {
    problem_json(lang, status, Some(&ErrorDetail::Refused(key)))
}

/// The token checked (once: the routes take it from the request), the rate limit, and on POST
/// the idempotency key; then the route.
pub async fn limits(
    State(state): State<AppState>,
    lang: Lang,
    req: Request,
    next: Next,
) -> Response {
    let presented = domain::bearer(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
    .is_some();
    // Without a token the route answers 401 itself; the public spec and reference need none.
    if !presented {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let api = match ApiActor::authenticate(&parts, &state).await {
        Ok(api) => api,
        Err(refused) => return refused,
    };
    let limit = state.config.api_requests_per_minute;
    match crate::auth::repo::throttle_count_attempt(
        state.db.pool(),
        &domain::rate_key(api.token_id),
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
    parts.extensions.insert(api.clone());
    let key = parts
        .headers
        .get("idempotency-key")
        .map(|v| v.as_bytes().to_vec());
    let (Some(raw_key), true) = (key, parts.method == Method::POST) else {
        return next.run(Request::from_parts(parts, body)).await;
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
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refused(lang, StatusCode::PAYLOAD_TOO_LARGE, "api.error.too_large");
    };
    // The same request: method, path and query, the company it acts in, how the body is sent,
    // and the body.
    let target = format!(
        "{} {} {}",
        parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(""),
        api.actor
            .tenant_id()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let fingerprint = domain::request_fingerprint(parts.method.as_str(), &target, &bytes);
    match idempotent_run(&state, api.token_id, &key, &fingerprint).await {
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
    // Run to the end even if the caller goes away: a write that committed keeps its answer
    // under the key (a retry gets it, never a second run).
    let request = Request::from_parts(parts, Body::from(bytes));
    let token = api.token_id;
    let run = tokio::spawn(async move {
        let response = next.run(request).await;
        keep_answer(&state, token, &key, response).await
    });
    match run.await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "api: keeping an idempotent answer failed");
            problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None)
        }
        Err(e) => {
            tracing::error!(error = %e, "api: an idempotent request failed");
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
    token: Uuid,
    key: &str,
    fingerprint: &[u8],
) -> anyhow::Result<Claim> {
    // A key let go between the claim and the read (its run failed) is claimed again.
    for _ in 0..3 {
        let mut tx = state.db.system_tx(SystemScope::ApiToken).await?;
        if rand::random::<u8>() == 0 {
            repo::expire_idempotency(&mut tx).await?;
        }
        let claimed = repo::claim_idempotency(&mut tx, token, key, fingerprint).await?;
        let earlier = if claimed {
            None
        } else {
            repo::idempotent(&mut tx, token, key).await?
        };
        tx.commit().await?;
        match (claimed, earlier) {
            (true, _) => return Ok(Claim::Run),
            (false, None) => continue,
            (false, Some(e)) if e.request_hash != fingerprint => return Ok(Claim::OtherRequest),
            (false, Some(e)) if e.running => return Ok(Claim::Running),
            (false, Some(e)) => return Ok(Claim::Replay(replay(&e))),
        }
    }
    Ok(Claim::Running)
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

/// Keeps the route's answer under the key and gives it back.
async fn keep_answer(
    state: &AppState,
    token: Uuid,
    key: &str,
    response: Response,
) -> anyhow::Result<Response> {
    let (parts, body) = response.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, usize::MAX).await?;
    let mut tx = state.db.system_tx(SystemScope::ApiToken).await?;
    // Kept: what the request did, or its input refused. Anything that may change on a retry
    // with the same request (access, a state, a failure on our side) lets the key go.
    let kept = parts.status.is_success() || parts.status == StatusCode::UNPROCESSABLE_ENTITY;
    if !kept {
        repo::release_idempotency(&mut tx, token, key).await?;
    } else {
        let content_type = header_text(&parts.headers, header::CONTENT_TYPE);
        let location = header_text(&parts.headers, header::LOCATION);
        repo::finish_idempotency(
            &mut tx,
            token,
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
