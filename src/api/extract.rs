//! The JSON API's front door: a request is its token's person, in the token's tenant, with the
//! access they have there *now* (membership, or an account manager's assignment, checked on every
//! request). Only `Authorization: Bearer` counts — a session cookie alone is refused — and every
//! refusal is `application/problem+json` with `WWW-Authenticate: Bearer`.

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use uuid::Uuid;

use super::domain::{self, Scope};
use super::repo;
use crate::auth::Actor;
use crate::db::SystemScope;
use crate::error::ErrorDetail;
use crate::state::AppState;
use crate::web::front::{problem_json, problem_response, problem_value};
use crate::web::lang::Lang;

/// The header a staff token's request names its company in (the company's slug).
pub const TENANT_HEADER: &str = "sextant-tenant";

/// Who a request through `/api/v1` is, and what its token may do.
#[derive(Clone, Debug)]
pub struct ApiActor {
    pub actor: Actor,
    pub scope: Scope,
    pub token_id: Uuid,
}

impl ApiActor {
    /// The 403 problem+json when the token may not do what `needed` asks.
    pub fn refusal(&self, needed: Scope, lang: Lang) -> Option<Response> {
        (!self.scope.allows(needed)).then(|| {
            problem_json(
                lang,
                StatusCode::FORBIDDEN,
                Some(&ErrorDetail::Refused("api.error.read_only")),
            )
        })
    }
}

fn unauthorized(lang: Lang, key: &'static str) -> Response {
    let mut res = problem_json(
        lang,
        StatusCode::UNAUTHORIZED,
        Some(&ErrorDetail::Refused(key)),
    );
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

fn internal(lang: Lang) -> Response {
    problem_json(lang, StatusCode::INTERNAL_SERVER_ERROR, None)
}

impl<S> FromRequestParts<S> for ApiActor
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // The limits in front of every route have already let the token in.
        if let Some(api) = parts.extensions.get::<ApiActor>() {
            return Ok(api.clone());
        }
        ApiActor::authenticate(parts, &AppState::from_ref(state)).await
    }
}

impl ApiActor {
    /// The request's token, checked now: known, not revoked, its person active and reaching the
    /// company (its own, or the one a staff token names). The refusal as the answer otherwise.
    pub async fn authenticate(parts: &Parts, app: &AppState) -> Result<ApiActor, Response> {
        let lang = Lang::from_headers(&parts.headers);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(token) = domain::bearer(header) else {
            return Err(unauthorized(lang, "api.error.no_token"));
        };
        let found = async {
            let mut tx = app.db.system_tx(SystemScope::ApiToken).await?;
            let found = repo::by_hash(&mut tx, &domain::hash(token)).await?;
            if let Some(t) = found.as_ref().filter(|t| !t.revoked) {
                repo::touch(&mut tx, t.id).await?;
            }
            let slug = match found.as_ref().and_then(|t| t.tenant_id) {
                Some(tenant) => repo::tenant_slug(&mut tx, tenant).await?,
                None => None,
            };
            tx.commit().await?;
            Ok::<_, crate::error::AppError>(found.map(|t| (t, slug)))
        }
        .await
        .map_err(|_| internal(lang))?;
        let Some((token, own_slug)) = found else {
            return Err(unauthorized(lang, "api.error.bad_token"));
        };
        if token.revoked {
            return Err(unauthorized(lang, "api.error.revoked"));
        }
        // The company: the token's own, or for a staff token the one the request names.
        let named = parts
            .headers
            .get(TENANT_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let slug = match (own_slug, named) {
            (Some(own), Some(named)) if own != named => {
                return Err(problem_json(lang, StatusCode::NOT_FOUND, None));
            }
            (Some(own), _) => own,
            (None, Some(named)) if token.tenant_id.is_none() => named.to_string(),
            (None, _) if token.tenant_id.is_none() => {
                let mut errors = crate::kernel::FieldErrors::new();
                errors.insert("Sextant-Tenant".into(), "api.error.tenant_required");
                return Err(problem_json(
                    lang,
                    StatusCode::BAD_REQUEST,
                    Some(&ErrorDetail::Invalid(errors)),
                ));
            }
            // The token's company is gone.
            (None, _) => return Err(unauthorized(lang, "api.error.not_member")),
        };
        // The token's person must still be active and still reach the company.
        let user = crate::auth::repo::find_active_by_id(app.db.pool(), token.user_id)
            .await
            .map_err(|_| internal(lang))?
            .ok_or_else(|| unauthorized(lang, "api.error.not_member"))?;
        let access = crate::tenants::repo::tenant_access(app.db.pool(), &slug, user.id)
            .await
            .map_err(|_| internal(lang))?
            .and_then(|found| {
                let access = found.access_for(user.platform_role)?;
                Some((found.tenant, access))
            });
        let Some((tenant, access)) = access else {
            // A staff token names a company its person is not assigned to: as any unknown id.
            return Err(if token.tenant_id.is_none() {
                problem_json(lang, StatusCode::NOT_FOUND, None)
            } else {
                unauthorized(lang, "api.error.not_member")
            });
        };
        Ok(ApiActor {
            actor: Actor::in_tenant(&user, tenant, access),
            scope: Scope::parse(&token.scope).unwrap_or(Scope::Read),
            token_id: token.id,
        })
    }
}

/// A JSON request body, read within the API's size limit: not JSON → 415, too large → 413,
/// malformed → 400, the wrong shape → 422 naming the field that failed (`items[3].views`), all
/// problem+json.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, _state: &S) -> Result<Self, Response> {
        let lang = Lang::from_headers(req.headers());
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            })
            .unwrap_or(false);
        if !json {
            return Err(problem_json(
                lang,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some(&ErrorDetail::Refused("api.error.not_json")),
            ));
        }
        let Ok(bytes) = axum::body::to_bytes(req.into_body(), super::limits::MAX_BODY).await else {
            return Err(problem_json(
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(&ErrorDetail::Refused("api.error.too_large")),
            ));
        };
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let parsed = serde_path_to_error::deserialize(&mut de);
        let error = match parsed {
            Ok(value) => match de.end() {
                Ok(()) => return Ok(ApiJson(value)),
                Err(e) => (String::from("."), e),
            },
            Err(e) => (e.path().to_string(), e.into_inner()),
        };
        let (path, inner) = error;
        // A missing field is reported at its parent; name the field itself.
        let missing = inner
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| match path.as_str() {
                "." => name.to_string(),
                parent => format!("{parent}.{name}"),
            });
        let field = missing.or((path != ".").then_some(path));
        let (status, detail) = if let (true, Some(field)) = (inner.is_data(), field) {
            let mut errors = crate::kernel::FieldErrors::new();
            errors.insert(field, "api.error.field_type");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorDetail::Invalid(errors),
            )
        } else {
            (
                StatusCode::BAD_REQUEST,
                ErrorDetail::Refused("api.error.bad_json"),
            )
        };
        let mut doc = problem_value(lang, status, Some(&detail));
        // The parser's own words, for the caller's developer.
        doc["reason"] = serde_json::Value::from(inner.to_string());
        Err(problem_response(status, &doc))
    }
}

/// An [`ApiActor`] whose token may write: a read token is refused (403) before the body is read.
#[derive(Clone, Debug)]
pub struct ApiWriter(pub ApiActor);

impl<S> FromRequestParts<S> for ApiWriter
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let api = ApiActor::from_request_parts(parts, state).await?;
        let lang = Lang::from_headers(&parts.headers);
        match api.refusal(Scope::Write, lang) {
            Some(refused) => Err(refused),
            None => Ok(ApiWriter(api)),
        }
    }
}

/// The 404 an id in the path gets when it names nothing: one that is not a UUID, as another
/// company's id or an unknown one.
fn no_such(parts: &Parts) -> Response {
    problem_json(
        Lang::from_headers(&parts.headers),
        StatusCode::NOT_FOUND,
        None,
    )
}

/// The UUID of a route with one id in its path (`…/{id}`); one that does not parse is a 404.
#[derive(Clone, Copy, Debug)]
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(raw)) => Uuid::parse_str(&raw)
                .map(PathId)
                .map_err(|_| no_such(parts)),
            Err(_) => Err(no_such(parts)),
        }
    }
}

/// The two UUIDs of a route with two ids in its path (`…/{id}/…/{entry_id}`); either one not
/// parsing is a 404.
#[derive(Clone, Copy, Debug)]
pub struct PathIds(pub Uuid, pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((a, b))) => match (Uuid::parse_str(&a), Uuid::parse_str(&b)) {
                (Ok(a), Ok(b)) => Ok(PathIds(a, b)),
                _ => Err(no_such(parts)),
            },
            Err(_) => Err(no_such(parts)),
        }
    }
}
