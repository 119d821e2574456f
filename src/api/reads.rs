//! The reads of `/api/v1` over the loop: campaigns, collaborations (with their current terms),
//! the creators offered to the tenant (with its tier and blacklist — never the platform's),
//! fulfilment records (which count), ratings (raters stay blind, as on the page), tiers with
//! their reasons and history, and finalized settlements with their exports. Each list pages with
//! `cursor` (the `next_cursor` of the page before) and `limit` (1–500, default 100); a bad
//! parameter is a 422 naming it; another tenant's id is a 404.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::domain::{self, Position, Scope};
use super::extract::{ApiActor, PathId};
use super::repo;
use super::v1::{Problem, in_tenant, in_tenant_snapshot};
use crate::error::{DomainError, ErrorDetail};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::web::front::problem_json;
use crate::web::lang::Lang;
use futures_util::future::BoxFuture;

/// A time as the API writes it: RFC 3339, UTC.
fn ts(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A list's query string, read parameter by parameter so a bad one is named.
struct Params {
    pairs: Vec<(String, String)>,
    errors: FieldErrors,
}

impl Params {
    fn parse(raw: Option<String>) -> Params {
        Params {
            pairs: form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
            errors: FieldErrors::new(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn uuid(&mut self, name: &str) -> Option<Uuid> {
        let raw = self.get(name)?.trim().to_string();
        if raw.is_empty() {
            return None;
        }
        match Uuid::parse_str(&raw) {
            Ok(id) => Some(id),
            Err(_) => {
                self.errors.insert(name.into(), "api.error.uuid");
                None
            }
        }
    }

    /// A code of `allowed`, or the field's error.
    fn code(&mut self, name: &str, allowed: &[&str]) -> Option<String> {
        let raw = self.get(name)?.trim().to_string();
        if raw.is_empty() {
            return None;
        }
        if allowed.contains(&raw.as_str()) {
            Some(raw)
        } else {
            self.errors.insert(name.into(), "api.error.code");
            None
        }
    }

    fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.get(name)?.trim() {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.errors.insert(name.into(), "api.error.boolean");
                None
            }
        }
    }

    /// Where the page starts (`cursor`, `updated_since`) and its size (`limit`).
    fn page(&mut self) -> (Position, i64) {
        let position = match domain::position(self.get("cursor"), self.get("updated_since")) {
            Ok(p) => p,
            Err((field, key)) => {
                self.errors.insert(field.into(), key);
                Position::List(None)
            }
        };
        (position, self.limit())
    }

    /// The cursor of a list that does not sync (a sub-list), and the page size.
    fn plain_page(&mut self) -> (Option<Uuid>, i64) {
        let cursor = match domain::cursor(self.get("cursor")) {
            Ok(c) => c,
            Err(key) => {
                self.errors.insert("cursor".into(), key);
                None
            }
        };
        (cursor, self.limit())
    }

    fn limit(&mut self) -> i64 {
        match self.get("limit").map(str::trim) {
            None | Some("") => domain::page_limit(None),
            Some(raw) => raw
                .parse::<i64>()
                .map_err(|_| "api.error.limit")
                .and_then(|n| domain::page_limit(Some(n))),
        }
        .unwrap_or_else(|key| {
            self.errors.insert("limit".into(), key);
            domain::PAGE_DEFAULT
        })
    }

    /// The 422 naming every bad parameter, if any.
    fn refusal(self, lang: Lang) -> Option<Response> {
        (!self.errors.is_empty()).then(|| {
            problem_json(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&ErrorDetail::Invalid(self.errors)),
            )
        })
    }
}

/// The paging parameters of every list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// The `next_cursor` of the page before; none for the first page.
    cursor: Option<String>,
    /// Items per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Sync: only what changed — an RFC 3339 time for the first pull (everything changed after
    /// it; `1970-01-01T00:00:00Z` for everything), then the `next_updated_since` of the pull
    /// before, which answers each change exactly once. Items come in the order they changed;
    /// rows that left the list (a deleted shop, an undone import batch) come as tombstones in
    /// `deleted`.
    updated_since: Option<String>,
}

/// The paging parameters of a sub-list (no sync: it changes with its parent).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SubPageParams {
    /// The `next_cursor` of the page before; none for the first page.
    #[param(format = Uuid)]
    cursor: Option<String>,
    /// Items per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// What a list loads: a page by id (`cursor`, `limit`), or the rows of the ids a sync page
/// names (`only`).
pub struct Load {
    pub cursor: Option<Uuid>,
    pub limit: i64,
    pub only: Option<Vec<Uuid>>,
}

/// What a list read found: a plain page, or a sync page (the changes, the rows still there,
/// the snapshot of the pull's first page, and where the pull started).
enum Listed<R> {
    Plain(Vec<R>),
    Sync {
        changes: Vec<repo::Change>,
        rows: Vec<R>,
        first: String,
        since: domain::Since,
    },
}

/// Reads one page of a list in one snapshot (REPEATABLE READ): by id, or — with
/// `updated_since` — the changes of `kind` (`sync_changes`) and the rows they name, loaded by
/// the list's own query so a synced item is the same as a listed one.
async fn list<R, L>(
    state: &AppState,
    api: &ApiActor,
    lang: Lang,
    (kind, position, limit): (&'static str, Position, i64),
    load: L,
) -> Result<Listed<R>, Response>
where
    R: Send + 'static,
    L: for<'c> FnOnce(
            &'c mut sqlx::PgConnection,
            crate::tenants::Tenant,
            Load,
        ) -> BoxFuture<'c, crate::error::DomainResult<Vec<R>>>
        + Send
        + 'static,
{
    in_tenant_snapshot(state, api, lang, Scope::Read, move |tx, tenant| {
        Box::pin(async move {
            match position {
                Position::List(cursor) => {
                    let load_page = Load {
                        cursor,
                        limit: limit + 1,
                        only: None,
                    };
                    Ok(Listed::Plain(load(tx, tenant, load_page).await?))
                }
                Position::Sync {
                    since,
                    first,
                    after,
                } => {
                    let first = match first {
                        Some(f) => f,
                        None => repo::current_snapshot(tx).await?,
                    };
                    let (since_time, since_snapshot) = match &since {
                        domain::Since::Time(at) => (Some(*at), None),
                        domain::Since::Snapshot(s) => (None, Some(s.as_str())),
                    };
                    let window = repo::ChangeWindow {
                        since_time,
                        since_snapshot,
                        first: &first,
                        after,
                    };
                    let changes = repo::changes(tx, tenant.id, kind, &window, limit + 1).await?;
                    let ids: Vec<Uuid> = changes
                        .iter()
                        .take(limit as usize)
                        .filter(|c| !c.deleted)
                        .map(|c| c.id)
                        .collect();
                    let rows = if ids.is_empty() {
                        Vec::new()
                    } else {
                        let only = Load {
                            cursor: None,
                            limit: ids.len() as i64 + 1,
                            only: Some(ids),
                        };
                        load(tx, tenant, only).await?
                    };
                    Ok(Listed::Sync {
                        changes,
                        rows,
                        first,
                        since,
                    })
                }
            }
        })
    })
    .await
}

/// A thing that left a list since the pull before.
#[derive(Serialize, ToSchema)]
pub struct Tombstone {
    pub id: Uuid,
    #[schema(format = DateTime)]
    pub deleted_at: String,
}

/// The answer to a list read: `items` and `next_cursor`; a sync page also `deleted` (the
/// tombstones) and, on its last page, `next_updated_since`.
fn answer<R, T: Serialize>(
    listed: Listed<R>,
    limit: i64,
    key: impl Fn(&R) -> Uuid,
    mut view: impl FnMut(R) -> T,
) -> Response {
    match listed {
        Listed::Plain(rows) => paged(rows, limit, key, view),
        Listed::Sync {
            mut changes,
            rows,
            first,
            since,
        } => {
            let more = changes.len() as i64 > limit;
            changes.truncate(limit as usize);
            let mut rows: std::collections::HashMap<Uuid, R> =
                rows.into_iter().map(|r| (key(&r), r)).collect();
            let mut items = Vec::new();
            let mut deleted = Vec::new();
            for c in &changes {
                if c.deleted {
                    deleted.push(Tombstone {
                        id: c.id,
                        deleted_at: ts(c.changed_at),
                    });
                } else if let Some(row) = rows.remove(&c.id) {
                    items.push(view(row));
                }
            }
            let next_cursor = more.then(|| changes.last()).flatten().map(|c| {
                domain::SyncCursor {
                    since,
                    first: first.clone(),
                    after: (c.xid, c.id),
                }
                .encode()
            });
            let next_updated_since = (!more).then_some(first);
            Json(serde_json::json!({
                "items": items,
                "next_cursor": next_cursor,
                "deleted": deleted,
                "next_updated_since": next_updated_since,
            }))
            .into_response()
        }
    }
}

/// A page of `rows` fetched with `limit + 1`: the items, and the cursor of the next page when
/// there is one.
fn paged<R, T: Serialize>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> Uuid,
    view: impl FnMut(R) -> T,
) -> Response {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last().map(|r| key(r).to_string()))
        .flatten();
    let items: Vec<T> = rows.into_iter().map(view).collect();
    Json(serde_json::json!({ "items": items, "next_cursor": next })).into_response()
}

macro_rules! page_schema {
    ($name:ident, $item:ty) => {
        /// One page of a list.
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Send as `cursor` for the next page; null on the last page.
            pub next_cursor: Option<String>,
            /// A sync page's tombstones: what left the list since `updated_since`.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub deleted: Option<Vec<Tombstone>>,
            /// On a sync pull's last page: send as `updated_since` for the next pull (null on
            /// the pages before).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub next_updated_since: Option<String>,
        }
    };
}

/// What a read answers when it does not answer with the data.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ListRefusals {
    /// A staff token that names no company (`Sextant-Tenant`)
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No token, an unknown or revoked one, or its person no longer has access
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The company is not active (pending or suspended)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// Another company's id, or a company the token does not reach
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// A parameter is wrong (each one named in `errors`)
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// Too many requests for this token this minute (see Retry-After)
    #[response(status = 429, content_type = "application/problem+json")]
    TooMany(Problem),
}

// ---- Campaigns

#[derive(Serialize, ToSchema)]
pub struct CampaignOut {
    pub id: Uuid,
    pub code: Option<String>,
    pub title: String,
    pub state: String,
    pub markets: Vec<String>,
    pub shop_id: Option<Uuid>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}
page_schema!(CampaignPage, CampaignOut);

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CampaignParams {
    /// Only campaigns in this state.
    state: Option<String>,
}

/// The token's company's campaigns, oldest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "loop", params(PageParams, CampaignParams),
    responses(
        (status = 200, description = "A page of campaigns", body = CampaignPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn campaigns(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    let states: Vec<&str> = crate::campaigns::domain::CampaignState::ALL
        .iter()
        .map(|s| s.code())
        .collect();
    let filter = p.code("state", &states);
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let found = list(
        &state,
        &api,
        lang,
        ("campaign", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                Ok(
                    repo::campaigns(tx, tenant.id, l.cursor, l.limit, filter.as_deref(), only)
                        .await?,
                )
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(
            found,
            limit,
            |r| r.id,
            |c| CampaignOut {
                id: c.id,
                code: c.code,
                title: c.title,
                state: c.state,
                markets: c.markets,
                shop_id: c.shop_id,
                created_at: ts(c.created_at),
                updated_at: ts(c.updated_at),
            },
        ),
        Err(r) => r,
    }
}

// ---- Collaborations

#[derive(Serialize, ToSchema)]
pub struct CreatorRef {
    pub id: Uuid,
    pub handle: String,
}

#[derive(Serialize, ToSchema)]
pub struct Money {
    #[schema(value_type = String, example = "300.00")]
    pub amount: Decimal,
    pub currency: String,
}

/// The terms of the collaboration's current contract version.
#[derive(Serialize, ToSchema)]
pub struct TermsOut {
    pub version: i32,
    /// `fixed`, `commission_only` or `fixed_plus_commission`.
    pub fee_model: Option<String>,
    /// The contract's fixed fee (none for commission only).
    pub fixed_fee: Option<Money>,
    /// A fraction: 0.125 is 12.5%.
    #[schema(value_type = Option<String>)]
    pub commission_rate: Option<Decimal>,
    #[schema(format = Date)]
    pub publish_deadline: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CollaborationOut {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_code: Option<String>,
    pub creator: CreatorRef,
    pub state: String,
    pub terms: TermsOut,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}
page_schema!(CollaborationPage, CollaborationOut);

impl From<repo::CollaborationItem> for CollaborationOut {
    fn from(l: repo::CollaborationItem) -> CollaborationOut {
        CollaborationOut {
            id: l.id,
            campaign_id: l.campaign_id,
            campaign_code: l.campaign_code,
            creator: CreatorRef {
                id: l.creator_id,
                handle: l.creator_handle,
            },
            state: l.state,
            terms: TermsOut {
                version: l.contract_version,
                fee_model: l.fee_model,
                fixed_fee: l
                    .fixed_fee
                    .zip(l.fixed_fee_currency)
                    .map(|(amount, currency)| Money { amount, currency }),
                commission_rate: l.commission_rate,
                publish_deadline: l.publish_deadline.map(|d| d.to_string()),
            },
            created_at: ts(l.created_at),
            updated_at: ts(l.updated_at),
        }
    }
}

/// The codes of the collaboration states (the contract's state table).
fn collaboration_states() -> Vec<&'static str> {
    crate::contracts::domain::ContractState::ALL
        .iter()
        .map(|s| s.code())
        .collect()
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CollaborationParams {
    /// Only this campaign's.
    #[param(format = Uuid)]
    campaign_id: Option<String>,
    /// Only this creator's.
    #[param(format = Uuid)]
    creator_id: Option<String>,
    /// Only in this state.
    state: Option<String>,
}

/// The company's collaborations (one creator in one campaign) with their current terms.
#[utoipa::path(get, path = "/api/v1/collaborations", tag = "loop",
    params(PageParams, CollaborationParams),
    responses(
        (status = 200, description = "A page of collaborations", body = CollaborationPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn collaborations(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    let filter = repo::CollaborationFilter {
        id: None,
        campaign_id: p.uuid("campaign_id"),
        creator_id: p.uuid("creator_id"),
        state: p.code("state", &collaboration_states()),
    };
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let found = list(
        &state,
        &api,
        lang,
        ("collaboration", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                Ok(repo::collaborations(tx, tenant.id, (l.cursor, l.limit), &filter, only).await?)
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(found, limit, |r| r.id, CollaborationOut::from),
        Err(r) => r,
    }
}

/// One collaboration of the company (another company's id: 404).
#[utoipa::path(get, path = "/api/v1/collaborations/{id}", tag = "loop",
    params(("id" = Uuid, Path, description = "The collaboration")),
    responses(
        (status = 200, description = "The collaboration", body = CollaborationOut),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn collaboration(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    PathId(id): PathId,
) -> Response {
    let filter = repo::CollaborationFilter {
        id: Some(id),
        ..Default::default()
    };
    let row = in_tenant(&state, &api, lang, Scope::Read, move |tx, tenant| {
        Box::pin(async move {
            repo::collaborations(tx, tenant.id, (None, 1), &filter, None)
                .await?
                .pop()
                .ok_or(DomainError::NotFound)
        })
    })
    .await;
    match row {
        Ok(row) => Json(CollaborationOut::from(row)).into_response(),
        Err(r) => r,
    }
}

// ---- Shops and posts (what an orders call and a snapshot batch name)

#[derive(Serialize, ToSchema)]
pub struct ShopOut {
    pub id: Uuid,
    pub name: String,
    /// `tiktok_shop`, `shopify`, …
    pub platform: String,
    pub url: String,
    pub time_zone: String,
    pub currency: String,
}
page_schema!(ShopPage, ShopOut);

/// The company's shops (an orders call names one).
#[utoipa::path(get, path = "/api/v1/shops", tag = "tracking", params(PageParams),
    responses(
        (status = 200, description = "A page of shops", body = ShopPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn shops(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let found = list(
        &state,
        &api,
        lang,
        ("shop", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                Ok(repo::shops(tx, tenant.id, (l.cursor, l.limit), only).await?)
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(
            found,
            limit,
            |r| r.id,
            |s| ShopOut {
                id: s.id,
                name: s.name,
                platform: s.platform,
                url: s.url,
                time_zone: s.time_zone,
                currency: s.currency,
            },
        ),
        Err(r) => r,
    }
}

#[derive(Serialize, ToSchema)]
pub struct PostOut {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub url: String,
    pub video_id: Option<String>,
    #[schema(format = DateTime)]
    pub published_at: String,
    /// Snapshots stored so far.
    pub snapshots: i64,
    #[schema(format = DateTime)]
    pub last_captured_at: Option<String>,
}
page_schema!(PostPage, PostOut);

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PostParams {
    /// Only this collaboration's.
    #[param(format = Uuid)]
    collaboration_id: Option<String>,
}

/// The company's posts (what a snapshot batch names), with how many snapshots each has.
#[utoipa::path(get, path = "/api/v1/posts", tag = "tracking", params(PageParams, PostParams),
    responses(
        (status = 200, description = "A page of posts", body = PostPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn posts(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    let collaboration = p.uuid("collaboration_id");
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let found = list(
        &state,
        &api,
        lang,
        ("post", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                Ok(repo::posts(tx, tenant.id, (l.cursor, l.limit), collaboration, only).await?)
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(
            found,
            limit,
            |r| r.id,
            |p| PostOut {
                id: p.id,
                collaboration_id: p.collaboration_id,
                url: p.url,
                video_id: p.video_id,
                published_at: ts(p.published_at),
                snapshots: p.snapshots,
                last_captured_at: p.last_captured_at.map(ts),
            },
        ),
        Err(r) => r,
    }
}

// ---- Creators offered

#[derive(Serialize, ToSchema)]
pub struct TierBadge {
    /// S, A, B or C; none before the creator is tiered here.
    pub letter: Option<String>,
    #[schema(value_type = Option<String>)]
    pub score: Option<Decimal>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatorOut {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub active: bool,
    pub markets: Vec<String>,
    pub categories: Vec<String>,
    pub followers: i64,
    /// This company's tier of the creator.
    pub tier: TierBadge,
    /// On this company's blacklist (confirmed).
    pub blacklisted: bool,
    /// `proposed` or `confirmed` while an entry is open.
    pub blacklist_status: Option<String>,
}
page_schema!(CreatorPage, CreatorOut);

/// The creators offered to the company or working with it (its creator list), with its tier.
#[utoipa::path(get, path = "/api/v1/creators", tag = "loop", params(PageParams),
    responses(
        (status = 200, description = "A page of creators", body = CreatorPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn creators(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let found = list(
        &state,
        &api,
        lang,
        ("creator", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                Ok(repo::creators(tx, tenant.id, l.cursor, l.limit, only).await?)
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(
            found,
            limit,
            |r| r.id,
            |c| CreatorOut {
                id: c.id,
                handle: c.handle,
                display_name: c.display_name,
                active: c.active,
                markets: c.markets,
                categories: c.categories,
                followers: c.followers,
                tier: TierBadge {
                    letter: c.tier,
                    score: c.tier_score,
                },
                blacklisted: c.blacklist_status.as_deref() == Some("confirmed"),
                blacklist_status: c.blacklist_status,
            },
        ),
        Err(r) => r,
    }
}

// ---- Fulfilment records

#[derive(Serialize, ToSchema)]
pub struct DeductionOut {
    #[schema(value_type = String)]
    pub points: Decimal,
    pub money: Option<Money>,
    /// A share of the fixed fee (0.1 = 10%), when the policy deducts one.
    #[schema(value_type = Option<String>)]
    pub percent_of_fixed_fee: Option<Decimal>,
    pub policy_version: i32,
}

#[derive(Serialize, ToSchema)]
pub struct FulfilmentOut {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub kind: String,
    pub severity: String,
    pub note: String,
    pub days_late: Option<i32>,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    #[schema(format = DateTime)]
    pub recorded_at: String,
    pub recorded_by: String,
    /// Made by the late/no-publish job.
    pub automatic: bool,
    /// The record this one corrects or withdraws.
    pub supersedes: Option<Uuid>,
    pub withdrawn: bool,
    pub correction_reason: Option<String>,
    pub superseded_by: Option<Uuid>,
    /// Neither superseded nor withdrawn: it counts in ratings and tiers.
    pub counts: bool,
    pub deduction: DeductionOut,
}
page_schema!(FulfilmentPage, FulfilmentOut);

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FulfilmentParams {
    /// Only this collaboration's.
    #[param(format = Uuid)]
    collaboration_id: Option<String>,
    /// Only records that count (true) or only those that do not (false).
    counts: Option<bool>,
}

/// The company's fulfilment records (append-only; a correction supersedes).
#[utoipa::path(get, path = "/api/v1/fulfilment-records", tag = "rating",
    params(PageParams, FulfilmentParams),
    responses(
        (status = 200, description = "A page of records", body = FulfilmentPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn fulfilment_records(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    let collaboration = p.uuid("collaboration_id");
    let counts = p.boolean("counts");
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let found = list(
        &state,
        &api,
        lang,
        ("fulfilment_record", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                let page = (l.cursor, l.limit);
                Ok(
                    repo::fulfilment_records(tx, tenant.id, page, collaboration, counts, only)
                        .await?,
                )
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(
            found,
            limit,
            |r| r.id,
            |r| FulfilmentOut {
                id: r.id,
                collaboration_id: r.collaboration_id,
                creator_id: r.creator_id,
                kind: r.kind,
                severity: r.severity,
                note: r.note,
                days_late: r.days_late,
                occurred_at: ts(r.occurred_at),
                recorded_at: ts(r.recorded_at),
                recorded_by: r.recorded_by,
                automatic: r.automatic,
                supersedes: r.supersedes,
                withdrawn: r.withdrawn,
                correction_reason: r.correction_reason,
                superseded_by: r.superseded_by,
                counts: r.counts,
                deduction: DeductionOut {
                    points: r.points,
                    money: r
                        .money_amount
                        .zip(r.money_currency)
                        .map(|(amount, currency)| Money { amount, currency }),
                    percent_of_fixed_fee: r.money_percent,
                    policy_version: r.policy_version,
                },
            },
        ),
        Err(r) => r,
    }
}

// ---- Ratings

#[derive(Serialize, ToSchema)]
pub struct RoiOut {
    pub currency: String,
    #[schema(value_type = String)]
    pub net_gmv: Decimal,
    #[schema(value_type = String)]
    pub cost: Decimal,
    /// `fixed`, `notional_frozen` or `notional_current`.
    pub cost_basis: String,
    #[schema(value_type = String)]
    pub target: Decimal,
    #[schema(value_type = String)]
    pub ratio: Decimal,
}

#[derive(Serialize, ToSchema)]
pub struct ScoresOut {
    /// The mean of each rater's current total.
    #[schema(value_type = Option<String>)]
    pub raw: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub calibrated: Option<Decimal>,
    /// The score that counts (calibrated when closed with one rater).
    #[schema(value_type = Option<String>)]
    pub final_score: Option<Decimal>,
    pub closed_with_one: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ScorecardOut {
    pub id: Uuid,
    pub rater: String,
    /// 1 is the submission; later versions are corrections.
    pub version: i32,
    pub corrects: Option<Uuid>,
    pub correction_reason: Option<String>,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = Option<String>)]
    pub calibrated_total: Option<Decimal>,
    /// The level given per dimension code.
    #[schema(value_type = Object)]
    pub levels: serde_json::Value,
    pub justification: Option<String>,
    pub comment: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// The rater's latest version (the one that counts).
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RatersOut {
    pub assigned: i64,
    pub submitted: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RatingOut {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub campaign_id: Uuid,
    pub creator_id: Uuid,
    /// `open` or `completed`.
    pub state: String,
    pub template_version: i32,
    #[schema(format = DateTime)]
    pub opened_at: String,
    pub override_reason: Option<String>,
    pub roi: RoiOut,
    /// None while the rating is open.
    pub scores: Option<ScoresOut>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    pub raters: RatersOut,
    /// None while hidden: raters are blind until they submit their own or the rating completes.
    pub scorecards: Option<Vec<ScorecardOut>>,
}
page_schema!(RatingPage, RatingOut);

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RatingParams {
    /// Only this collaboration's.
    #[param(format = Uuid)]
    collaboration_id: Option<String>,
    /// `open` or `completed`.
    state: Option<String>,
}

/// The company's ratings with their scores and, where the token's person may see them, the
/// scorecards.
#[utoipa::path(get, path = "/api/v1/ratings", tag = "rating", params(PageParams, RatingParams),
    responses(
        (status = 200, description = "A page of ratings", body = RatingPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn ratings(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    let collaboration = p.uuid("collaboration_id");
    let rating_state = p.code("state", &["open", "completed"]);
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let viewer = api.actor.user_id;
    let found = list(
        &state,
        &api,
        lang,
        ("rating", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                let page = (l.cursor, l.limit);
                let rows = repo::ratings(
                    tx,
                    tenant.id,
                    page,
                    collaboration,
                    rating_state.as_deref(),
                    only,
                )
                .await?;
                let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
                let mut cards = repo::scorecards(tx, tenant.id, &ids, viewer).await?;
                Ok(rows
                    .into_iter()
                    .map(|r| {
                        let mine: Vec<repo::ScorecardItem> =
                            cards.extract_if(.., |c| c.rating_id == r.id).collect();
                        (r, mine)
                    })
                    .collect::<Vec<_>>())
            })
        },
    )
    .await;
    let found = match found {
        Ok(found) => found,
        Err(r) => return r,
    };
    answer(
        found,
        limit,
        |(r, _)| r.id,
        |(r, cards)| {
            let mine: Vec<ScorecardOut> = cards
                .into_iter()
                .map(|c| ScorecardOut {
                    id: c.id,
                    rater: c.rater,
                    version: c.version,
                    corrects: c.corrects,
                    correction_reason: c.correction_reason,
                    total: c.total,
                    calibrated_total: c.calibrated_total,
                    levels: c.levels,
                    justification: c.justification,
                    comment: c.comment,
                    submitted_at: ts(c.submitted_at),
                    current: c.current,
                })
                .collect();
            let visible = r.state == "completed" || !mine.is_empty();
            RatingOut {
                id: r.id,
                collaboration_id: r.collaboration_id,
                campaign_id: r.campaign_id,
                creator_id: r.creator_id,
                opened_at: ts(r.opened_at),
                override_reason: r.override_reason,
                roi: RoiOut {
                    currency: r.currency,
                    net_gmv: r.net_gmv,
                    cost: r.cost,
                    cost_basis: r.cost_basis,
                    target: r.roi_target,
                    ratio: r.roi_ratio,
                },
                scores: (r.state == "completed").then_some(ScoresOut {
                    raw: r.raw_score,
                    calibrated: r.calibrated_score,
                    final_score: r.final_score,
                    closed_with_one: r.closed_with_one,
                }),
                completed_at: r.completed_at.map(ts),
                raters: RatersOut {
                    assigned: r.raters_assigned,
                    submitted: r.raters_submitted,
                },
                scorecards: visible.then_some(mine),
                template_version: r.template_version,
                state: r.state,
            }
        },
    )
}

// ---- Tiers

#[derive(Serialize, ToSchema)]
pub struct OverrideOut {
    pub tier: Option<String>,
    pub reason: Option<String>,
    pub by: Option<String>,
    #[schema(format = DateTime)]
    pub at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TierOut {
    pub creator: CreatorRef,
    /// The tier that counts: the owner's override while it holds, else the computed one.
    pub tier: Option<String>,
    pub computed_tier: Option<String>,
    #[schema(value_type = Option<String>)]
    pub score: Option<Decimal>,
    pub rated_count: i32,
    /// The reason, as data.
    #[schema(value_type = Object)]
    pub reason: serde_json::Value,
    /// The reason in words, in the request's language.
    pub reason_text: String,
    pub low_score_warning: bool,
    /// `rebook`, `rebook_adjusted` or `do_not_rebook`.
    pub recommendation: Option<String>,
    pub manual_override: Option<OverrideOut>,
    pub blacklisted: bool,
    #[schema(format = DateTime)]
    pub computed_at: String,
}
page_schema!(TierPage, TierOut);

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TierParams {
    /// Only creators in this tier: S, A, B or C.
    tier: Option<String>,
}

/// The company's tier of each creator, with the reason in words, warnings, the re-book
/// recommendation and any override.
#[utoipa::path(get, path = "/api/v1/tiers", tag = "rating", params(PageParams, TierParams),
    responses(
        (status = 200, description = "A page of tiers", body = TierPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn tiers(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    let tier = p.code("tier", &["S", "A", "B", "C"]);
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let found = list(
        &state,
        &api,
        lang,
        ("tier", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                Ok(repo::tiers(tx, tenant.id, (l.cursor, l.limit), tier.as_deref(), only).await?)
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(
            found,
            limit,
            |r| r.creator_id,
            |t| TierOut {
                creator: CreatorRef {
                    id: t.creator_id,
                    handle: t.creator_handle,
                },
                reason_text: crate::tiers::sections::reason_words(lang, &t.reason),
                tier: t.tier,
                computed_tier: t.computed_tier,
                score: t.score,
                rated_count: t.rated_count,
                reason: t.reason,
                low_score_warning: t.low_score_warning,
                recommendation: t.recommendation,
                manual_override: t.override_tier.is_some().then_some(OverrideOut {
                    tier: t.override_tier,
                    reason: t.override_reason,
                    by: t.override_by,
                    at: t.override_at.map(ts),
                }),
                blacklisted: t.blacklisted,
                computed_at: ts(t.computed_at),
            },
        ),
        Err(r) => r,
    }
}

#[derive(Serialize, ToSchema)]
pub struct TierChangeOut {
    pub id: Uuid,
    pub from: Option<String>,
    pub to: Option<String>,
    #[schema(value_type = Option<String>)]
    pub score: Option<Decimal>,
    #[schema(value_type = Object)]
    pub reason: serde_json::Value,
    pub reason_text: String,
    /// `rating`, `fulfilment`, `blacklist`, `daily` or `override`.
    pub cause: String,
    pub by: String,
    #[schema(format = DateTime)]
    pub at: String,
}
page_schema!(TierHistoryPage, TierChangeOut);

/// Every change of a creator's tier in the company, oldest first.
#[utoipa::path(get, path = "/api/v1/tiers/{creator_id}/history", tag = "rating",
    params(("creator_id" = Uuid, Path, description = "The creator"), SubPageParams),
    responses(
        (status = 200, description = "A page of tier changes", body = TierHistoryPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn tier_history(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    PathId(creator): PathId,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let page = p.plain_page();
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let rows = in_tenant(&state, &api, lang, Scope::Read, move |tx, tenant| {
        Box::pin(async move {
            if !crate::tiers::repo::known_in_tenant(tx, tenant.id, creator).await? {
                return Err(DomainError::NotFound);
            }
            Ok(repo::tier_history(tx, tenant.id, (page.0, page.1 + 1), creator).await?)
        })
    })
    .await;
    match rows {
        Ok(rows) => paged(
            rows,
            page.1,
            |r| r.id,
            |h| TierChangeOut {
                id: h.id,
                from: h.from_tier,
                to: h.to_tier,
                score: h.score,
                reason_text: crate::tiers::sections::reason_words(lang, &h.reason),
                reason: h.reason,
                cause: h.cause,
                by: h.actor_label,
                at: ts(h.at),
            },
        ),
        Err(r) => r,
    }
}

// ---- Settlements

#[derive(Serialize, ToSchema)]
pub struct SettlementTotals {
    /// What the seller owes the agency (below zero: a credit).
    #[schema(value_type = String)]
    pub seller: Decimal,
    /// What the agency pays creators (platform-paid commission excluded).
    #[schema(value_type = String)]
    pub creators: Decimal,
    #[schema(value_type = String)]
    pub paid: Decimal,
    #[schema(value_type = String)]
    pub due: Decimal,
}

#[derive(Serialize, ToSchema)]
pub struct SettlementLinks {
    /// The statement as CSV (this API, the same token).
    pub csv: String,
    /// The statement as XLSX (this API, the same token).
    pub xlsx: String,
    /// The statement's page, for a person.
    pub page: String,
}

#[derive(Serialize, ToSchema)]
pub struct SettlementOut {
    pub id: Uuid,
    /// The month, `YYYY-MM`.
    pub period: String,
    pub currency: String,
    pub totals: SettlementTotals,
    /// `finalized`, `partly_paid` or `paid`.
    pub state: String,
    pub line_count: i32,
    #[schema(format = DateTime)]
    pub finalized_at: String,
    pub finalized_by: String,
    /// The statement's hash (re-verifiable on its page).
    pub hash: String,
    pub links: SettlementLinks,
}
page_schema!(SettlementPage, SettlementOut);

/// The company's finalized settlements (owner and account manager only), with their exports.
#[utoipa::path(get, path = "/api/v1/settlements", tag = "settlement", params(PageParams),
    responses(
        (status = 200, description = "A page of settlements", body = SettlementPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn settlements(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let actor = api.actor.clone();
    let slug = match api.actor.tenant() {
        Ok(t) => t.slug.clone(),
        Err(_) => return problem_json(lang, StatusCode::NOT_FOUND, None),
    };
    let found = list(
        &state,
        &api,
        lang,
        ("settlement", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                actor.require(crate::settlement::domain::READERS)?;
                let only = l.only.as_deref();
                Ok(repo::settlements(tx, tenant.id, (l.cursor, l.limit), only).await?)
            })
        },
    )
    .await;
    let found = match found {
        Ok(found) => found,
        Err(r) => return r,
    };
    answer(
        found,
        limit,
        |r| r.id,
        |s| SettlementOut {
            id: s.id,
            period: crate::settlement::actions::period_code(s.period),
            currency: s.settlement_currency,
            state: crate::settlement::domain::payment_status(s.total_seller, s.paid).to_string(),
            totals: SettlementTotals {
                seller: s.total_seller,
                creators: s.total_creators,
                paid: s.paid,
                due: (s.total_seller - s.paid).max(Decimal::ZERO),
            },
            line_count: s.line_count,
            finalized_at: ts(s.finalized_at),
            finalized_by: s.finalized_by,
            hash: s.hash,
            links: SettlementLinks {
                csv: format!("/api/v1/settlements/{}/export.csv", s.id),
                xlsx: format!("/api/v1/settlements/{}/export.xlsx", s.id),
                page: format!("/t/{slug}/settlements/{}", s.id),
            },
        },
    )
}

/// A finalized statement as CSV or XLSX: the same file the settlement page and finance
/// download, for the same readers (owner, account manager).
#[utoipa::path(get, path = "/api/v1/settlements/{id}/export.{ext}", tag = "settlement",
    params(
        ("id" = Uuid, Path, description = "The settlement"),
        ("ext" = String, Path, description = "`csv` or `xlsx`", pattern = "^(csv|xlsx)$"),
    ),
    responses(
        (status = 200, description = "The file (an attachment)", content(
            (String = "text/csv; charset=utf-8"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn settlement_export(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    Path(file): Path<(String, String)>,
) -> Response {
    let (id, ext) = file;
    let (Ok(id), true) = (Uuid::parse_str(&id), ext == "csv" || ext == "xlsx") else {
        return problem_json(lang, StatusCode::NOT_FOUND, None);
    };
    let actor = api.actor.clone();
    let db = state.db.clone();
    let found = in_tenant(&state, &api, lang, Scope::Read, move |tx, tenant| {
        Box::pin(async move {
            actor.require(crate::settlement::domain::READERS)?;
            let row = crate::settlement::export::tenant_row(&tenant)?;
            let (job, status) = crate::settlement::export::seller_job(&db, lang, tx, &row, id)
                .await?
                .ok_or(DomainError::NotFound)?;
            Ok((job, status, row.slug))
        })
    })
    .await;
    let (job, status, slug) = match found {
        Ok(found) => found,
        Err(r) => return r,
    };
    use crate::settlement::export;
    let name = export::file_name(&slug, &job.head.period, &status, &ext);
    if ext == "csv" {
        return export::download(export::CSV_TYPE, &name, export::csv_body(job));
    }
    match export::xlsx_file(job).await {
        Ok(file) => export::download(export::XLSX_TYPE, &name, export::file_body(file)),
        Err(e) => {
            tracing::error!(error = ?e, "api: settlement export failed");
            problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

// ---- Order import batches

#[derive(Serialize, ToSchema)]
pub struct OrderImportCounts {
    pub new: Option<i64>,
    pub changed: Option<i64>,
    pub unchanged: Option<i64>,
    pub older: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderImportOut {
    pub id: Uuid,
    pub shop_id: Uuid,
    /// `file` (an export uploaded on the imports page) or `api` (an orders call).
    pub source: String,
    /// `queued`, `validating`, `validated`, `importing`, `imported`, `cancelled` or `failed`.
    pub state: String,
    /// The file's format (`tiktok_shop_csv`, …); none for an API call.
    pub format: Option<String>,
    /// When the lines were true (the export's time, or the call's `as_of`).
    #[schema(format = DateTime)]
    pub as_of: String,
    pub rows: i64,
    pub rows_good: i64,
    pub rows_rejected: i64,
    /// Each line against what was there (once imported).
    pub lines: OrderImportCounts,
    pub created_by: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub imported_at: Option<String>,
    /// The batch's page, where it can be undone.
    pub page: String,
}
page_schema!(OrderImportPage, OrderImportOut);

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrderImportParams {
    /// Only this shop's.
    #[param(format = Uuid)]
    shop_id: Option<String>,
}

/// The company's orders import batches — files and API calls — that count. An undone batch has
/// left the list: a sync pull (`updated_since`) answers it in `deleted`.
#[utoipa::path(get, path = "/api/v1/order-imports", tag = "tracking",
    params(PageParams, OrderImportParams),
    responses(
        (status = 200, description = "A page of import batches", body = OrderImportPage),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn order_imports(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut p = Params::parse(raw);
    let (position, limit) = p.page();
    let shop = p.uuid("shop_id");
    if let Some(r) = p.refusal(lang) {
        return r;
    }
    let slug = match api.actor.tenant() {
        Ok(t) => t.slug.clone(),
        Err(_) => return problem_json(lang, StatusCode::NOT_FOUND, None),
    };
    let found = list(
        &state,
        &api,
        lang,
        ("order_import", position, limit),
        move |tx, tenant, l| {
            Box::pin(async move {
                let only = l.only.as_deref();
                Ok(repo::order_imports(tx, tenant.id, (l.cursor, l.limit), shop, only).await?)
            })
        },
    )
    .await;
    match found {
        Ok(found) => answer(
            found,
            limit,
            |r| r.id,
            |i| OrderImportOut {
                page: format!("/t/{slug}/orders/imports/{}", i.id),
                id: i.id,
                shop_id: i.shop_id,
                source: i.source,
                state: i.state,
                format: i.format,
                as_of: ts(i.exported_at),
                rows: i.rows_total,
                rows_good: i.rows_good,
                rows_rejected: i.rows_rejected,
                lines: OrderImportCounts {
                    new: i.lines_new,
                    changed: i.lines_changed,
                    unchanged: i.lines_unchanged,
                    older: i.lines_older,
                },
                created_by: i.created_by,
                created_at: ts(i.created_at),
                imported_at: i.imported_at.map(ts),
            },
        ),
        Err(r) => r,
    }
}
