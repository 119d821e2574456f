//! `/api/v1`: JSON over the loop, for the sellers' and the agency's own tools. Every route takes
//! an [`ApiActor`] (a Bearer token; never the session cookie) and calls the same actions as the
//! pages; refusals are problem+json naming the field that failed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::Scope;
use super::extract::{ApiActor, ApiJson, ApiWriter};
use crate::error::{DomainError, DomainResult, ErrorDetail};
use crate::state::AppState;
use crate::tenants::Tenant;
use crate::tracking::order_imports::actions::{IngestOrders, ingest_orders};
use crate::tracking::order_imports::domain::OrderLineRecord;
use crate::tracking::posts::actions::{CreatePost, IngestSnapshots, create_post, ingest_snapshots};
use crate::tracking::posts::domain::{PostInput, SnapshotRecord};
use crate::web::front::{problem_json, problem_response, problem_value};
use crate::web::lang::Lang;

/// Codes that say a row names something the token's tenant does not have: the call answers 404
/// (as another tenant's id does everywhere), its `errors` naming each such row.
const UNKNOWN_IDS: &[&str] = &["api.error.post_unknown", "orders.error.shop_unknown"];

/// An RFC 9457 problem document, as every refusal of the API is sent.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `about:blank`, or `/problems/invalid-input`, `/problems/refused`, `/problems/unknown-id`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The message code of a refusal (`api.error.read_only`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Each field that failed (`lines[3].currency`), with its code and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemField>>,
    /// The JSON parser's own words, when the body could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// A thing made: its id.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// What a snapshot batch did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SnapshotsAnswer {
    /// Records in the call.
    pub received: usize,
    /// Distinct post + moment pairs written (the later of two records of one pair wins).
    pub stored: usize,
}

/// What an orders call did: its import batch, and each line against what was there.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OrdersAnswer {
    pub import_id: Uuid,
    pub lines: usize,
    /// Lines sent more than once in the call (the later one counted).
    pub duplicate_lines: i64,
    /// Keys not seen before.
    pub new: i64,
    /// Lines that differ from the current version and replace it.
    pub changed: i64,
    /// Lines identical to the current version.
    pub unchanged: i64,
    /// Lines a batch of a later `as_of` outranks (they do not count).
    pub older: i64,
    /// The batch's page, where it can be undone.
    pub page: String,
}

/// What a write answers when it does not do it.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum WriteRefusals {
    /// The body is not JSON, or the idempotency key is malformed
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No token, an unknown or revoked one, or its person no longer has access
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// A read token, or the person may not do this
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// Names something of another company, or nothing (each such field named)
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// Not possible in the current state, or the same idempotency key is still running
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The body is over 8 MiB
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not sent as JSON
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// Invalid input (each field that failed named in `errors`), or an idempotency key reused
    /// with another body
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// Too many requests for this token this minute (see Retry-After)
    #[response(status = 429, content_type = "application/problem+json")]
    TooMany(Problem),
}

/// An action's refusal as the API answers it: the same reasons the pages give, as
/// problem+json (a wrong field named in `errors`).
pub fn problem_of(lang: Lang, e: DomainError) -> Response {
    match e {
        DomainError::Invalid(errors) => {
            let status = if errors.values().any(|k| UNKNOWN_IDS.contains(k)) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut doc = problem_value(lang, status, Some(&ErrorDetail::Invalid(errors)));
            if status == StatusCode::NOT_FOUND {
                doc["type"] = Value::from("/problems/unknown-id");
            }
            problem_response(status, &doc)
        }
        DomainError::NotFound => problem_json(lang, StatusCode::NOT_FOUND, None),
        DomainError::Forbidden => problem_json(lang, StatusCode::FORBIDDEN, None),
        DomainError::TenantNotActive { .. } => problem_json(
            lang,
            StatusCode::FORBIDDEN,
            Some(&ErrorDetail::Refused("api.error.tenant_not_active")),
        ),
        DomainError::Refused(key) => {
            problem_json(lang, StatusCode::CONFLICT, Some(&ErrorDetail::Refused(key)))
        }
        other => {
            tracing::error!(error = ?other, "api: an action failed");
            problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

/// Runs `work` in the token's tenant (one transaction, committed when it succeeds) after checking
/// the token may do what `needed` asks; the refusal as the answer otherwise.
pub async fn in_tenant<T, F>(
    state: &AppState,
    api: &ApiActor,
    lang: Lang,
    needed: Scope,
    work: F,
) -> Result<T, Response>
where
    F: for<'c> FnOnce(&'c mut PgConnection, Tenant) -> BoxFuture<'c, DomainResult<T>>,
{
    run_in_tenant(state, api, lang, (needed, false), work).await
}

/// What a write answers: `status` and the action's result as JSON, or the refusal it met.
pub fn answer_json<T: serde::Serialize>(status: StatusCode, done: Result<T, Response>) -> Response {
    match done {
        Ok(body) => (status, Json(body)).into_response(),
        Err(refused) => refused,
    }
}

/// [`in_tenant`] for a read: every statement reads one snapshot (REPEATABLE READ, read only).
pub async fn in_tenant_snapshot<T, F>(
    state: &AppState,
    api: &ApiActor,
    lang: Lang,
    needed: Scope,
    work: F,
) -> Result<T, Response>
where
    F: for<'c> FnOnce(&'c mut PgConnection, Tenant) -> BoxFuture<'c, DomainResult<T>>,
{
    run_in_tenant(state, api, lang, (needed, true), work).await
}

async fn run_in_tenant<T, F>(
    state: &AppState,
    api: &ApiActor,
    lang: Lang,
    (needed, snapshot): (Scope, bool),
    work: F,
) -> Result<T, Response>
where
    F: for<'c> FnOnce(&'c mut PgConnection, Tenant) -> BoxFuture<'c, DomainResult<T>>,
{
    if let Some(refused) = api.refusal(needed, lang) {
        return Err(refused);
    }
    let Ok(tenant) = api.actor.tenant() else {
        return Err(problem_json(lang, StatusCode::NOT_FOUND, None));
    };
    // A company not active (pending, suspended) answers nothing but this, as its pages do.
    if let Err(e) = api.actor.require_active() {
        return Err(problem_of(lang, e));
    }
    let tenant = tenant.clone();
    let result = async {
        let mut tx = if snapshot {
            state
                .db
                .tenant_snapshot_tx(tenant.id, api.actor.user_id)
                .await?
        } else {
            state.db.tenant_tx(tenant.id, api.actor.user_id).await?
        };
        let done = work(&mut tx, tenant).await;
        if done.is_ok() {
            tx.commit().await?;
        }
        Ok::<_, sqlx::Error>(done)
    }
    .await;
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(problem_of(lang, e)),
        Err(e) => Err(problem_of(lang, DomainError::Database(e))),
    }
}

/// A post as a program sends it: the same fields as the page's form (`published_at` as
/// `YYYY-MM-DDTHH:MM` in the campaign shop's time zone, as the form takes it, or with an
/// explicit offset).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPost {
    pub collaboration_id: Uuid,
    pub url: String,
    #[serde(default)]
    pub video_id: String,
    pub published_at: String,
}

/// `POST /api/v1/posts` (a write token): records a post through the page's action — the same
/// checks, the same move of the collaboration, the same audit entry under the token's person.
#[utoipa::path(post, path = "/api/v1/posts", tag = "tracking", request_body = NewPost,
    params(("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 201, description = "The post, recorded; the collaboration moves to published", body = Created),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn create_post_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    ApiJson(body): ApiJson<NewPost>,
) -> Response {
    let actor = api.actor.clone();
    let input = CreatePost {
        collaboration_id: body.collaboration_id,
        post: PostInput {
            url: body.url,
            video_id: body.video_id,
            published_at: body.published_at,
        },
    };
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move { create_post(tx, &actor, input).await })
    })
    .await;
    match done {
        Ok(id) => (StatusCode::CREATED, Json(Created { id })).into_response(),
        Err(refused) => refused,
    }
}

/// A batch of snapshots.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SnapshotBatch {
    /// 1 to 10,000 records.
    pub snapshots: Vec<SnapshotRecord>,
}

/// `POST /api/v1/snapshots` (a write token): up to 10,000 snapshots, all or nothing, each
/// checked as the form checks one; the same post and moment replaces the stored one, so a batch
/// sent twice changes nothing.
#[utoipa::path(post, path = "/api/v1/snapshots", tag = "tracking", request_body = SnapshotBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 200, description = "Every record stored (or replaced: the same post and moment)", body = SnapshotsAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn ingest_snapshots_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    ApiJson(body): ApiJson<SnapshotBatch>,
) -> Response {
    let actor = api.actor.clone();
    let input = IngestSnapshots {
        snapshots: body.snapshots,
        source: "api",
    };
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move { ingest_snapshots(tx, &actor, input).await })
    })
    .await;
    match done {
        Ok(done) => Json(SnapshotsAnswer {
            received: done.received,
            stored: done.stored,
        })
        .into_response(),
        Err(refused) => refused,
    }
}

/// A batch of order lines of one shop.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OrderBatch {
    pub shop_id: Uuid,
    /// When the lines were true (RFC 3339; not in the future): of two versions of a line, the
    /// later `as_of` wins, as the later export does.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: time::OffsetDateTime,
    /// 1 to 10,000 lines.
    pub lines: Vec<OrderLineRecord>,
}

/// `POST /api/v1/orders` (a write token): up to 10,000 order lines as one import batch (source
/// `api`), checked per line as a file's rows are, imported at once, undoable on the imports page.
#[utoipa::path(post, path = "/api/v1/orders", tag = "tracking", request_body = OrderBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 201, description = "The import batch, imported (Location: its page)", body = OrdersAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn ingest_orders_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(document) = axum::body::to_bytes(body, super::limits::MAX_BODY).await else {
        return problem_json(
            lang,
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(&ErrorDetail::Refused("api.error.too_large")),
        );
    };
    let request =
        axum::extract::Request::from_parts(parts, axum::body::Body::from(document.clone()));
    let body =
        match <ApiJson<OrderBatch> as axum::extract::FromRequest<()>>::from_request(request, &())
            .await
        {
            Ok(ApiJson(body)) => body,
            Err(refused) => return refused,
        };
    let actor = api.actor.clone();
    let storage = state.storage.clone();
    let input = IngestOrders {
        shop_id: body.shop_id,
        as_of: body.as_of,
        lines: body.lines,
        document,
        token_id: api.token_id,
    };
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let done = ingest_orders(tx, &storage, &actor, input).await?;
            Ok((done, tenant.slug))
        })
    })
    .await;
    match done {
        Ok((done, slug)) => {
            let page = format!("/t/{slug}/orders/imports/{}", done.import_id);
            let mut res = (
                StatusCode::CREATED,
                Json(OrdersAnswer {
                    import_id: done.import_id,
                    lines: done.lines,
                    duplicate_lines: done.duplicate_lines,
                    new: done.counts.new,
                    changed: done.counts.changed,
                    unchanged: done.counts.unchanged,
                    older: done.counts.older,
                    page: page.clone(),
                }),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&page) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(refused) => refused,
    }
}
