//! The JSON API's front door: a request is its token's person, in the token's tenant, with the
//! access they have there *now* (membership, or an account manager's assignment, checked on every
//! request). Only `Authorization: Bearer` counts — a session cookie alone is refused — and every
//! refusal is `application/problem+json` with `WWW-Authenticate: Bearer`.

use axum::extract::{FromRef, FromRequestParts};
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
use crate::web::front::problem_json;
use crate::web::lang::Lang;

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
        let lang = Lang::from_request_parts(parts, state)
            .await
            .unwrap_or(Lang::En);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(token) = domain::bearer(header) else {
            return Err(unauthorized(lang, "api.error.no_token"));
        };
        let app = AppState::from_ref(state);
        let found = async {
            let mut tx = app.db.system_tx(SystemScope::ApiToken).await?;
            let found = repo::by_hash(&mut tx, &domain::hash(token)).await?;
            if let Some(t) = found.as_ref().filter(|t| !t.revoked) {
                repo::touch(&mut tx, t.tenant_id, t.id).await?;
            }
            let slug = match &found {
                Some(t) => repo::tenant_slug(&mut tx, t.tenant_id).await?,
                None => None,
            };
            tx.commit().await?;
            Ok::<_, crate::error::AppError>(found.zip(slug))
        }
        .await
        .map_err(|_| internal(lang))?;
        let Some((token, slug)) = found else {
            return Err(unauthorized(lang, "api.error.bad_token"));
        };
        if token.revoked {
            return Err(unauthorized(lang, "api.error.revoked"));
        }
        // The token's person must still be active and still belong to the tenant.
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
            return Err(unauthorized(lang, "api.error.not_member"));
        };
        Ok(ApiActor {
            actor: Actor::in_tenant(&user, tenant, access),
            scope: Scope::parse(&token.scope).unwrap_or(Scope::Read),
            token_id: token.id,
        })
    }
}
