//! What all features share on the web side: language, layout, formatting, security headers,
//! friendly error pages, static files, and small request helpers.

pub mod chart;
pub mod fmt;
pub mod forms;
pub mod front;
pub mod labels;
pub mod lang;
pub mod layout;
pub mod listing;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use askama::Template;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Router};
use serde::Deserialize;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::error::{ErrorDetail, ErrorPage};
use crate::state::AppState;
use front::Front;
use lang::{LANG_COOKIE, Lang};
use layout::Layout;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// Security headers on every response: a CSP that allows no inline script (unless the handler
/// set a stricter one), no framing, no sniffing, and a referrer policy that still sends Origin on same-origin posts.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // A response that set its own, stricter policy keeps it (evidence files: `sandbox`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The scheme half of the cross-site check: `CsrfLayer` compares the `Origin`'s host and port
/// with the request's, not its scheme. A state-changing request whose `Origin` (or, without one,
/// `Referer`) names another scheme than this server's own ([`own_scheme`]) is refused, so a page
/// on `https://host:port` cannot post to `http://host:port`, nor the other way round.
pub async fn same_scheme(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        let headers = request.headers();
        let claimed = headers
            .get(header::ORIGIN)
            .or_else(|| headers.get(header::REFERER))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once("://"))
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        if claimed.is_some_and(|scheme| scheme != own_scheme(&state.config, headers)) {
            return crate::error::AppError::Forbidden.into_response();
        }
    }
    next.run(request).await
}

/// The scheme this server is reached by: `SEXTANT_PUBLIC_URL`'s; else, with
/// `SEXTANT_TRUST_PROXY`, the proxy's `X-Forwarded-Proto`; else https with
/// `SEXTANT_COOKIE_SECURE` (served behind TLS), http without.
pub fn own_scheme(config: &Config, headers: &HeaderMap) -> &'static str {
    let https = if let Some((scheme, _)) = config
        .public_url
        .as_deref()
        .and_then(|url| url.split_once("://"))
    {
        scheme.eq_ignore_ascii_case("https")
    } else if let Some(proto) = config
        .trust_proxy
        .then(|| headers.get("x-forwarded-proto"))
        .flatten()
        .and_then(|v| v.to_str().ok())
    {
        proto.trim().eq_ignore_ascii_case("https")
    } else {
        config.cookie_secure
    };
    if https { "https" } else { "http" }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    layout: Layout,
    status: u16,
    heading: String,
    message: String,
    fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "errors/_problem.html")]
struct ProblemPartial {
    status: u16,
    heading: String,
    message: String,
    fields: Vec<(String, String)>,
}

/// Fills in the body of error responses (from `AppError`, the CSRF check, or the fallback) for the
/// front door the request came through: a friendly page in the request's language, an htmx
/// partial, or `application/problem+json`.
pub async fn render_error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let lang = Lang::from_headers(request.headers());
    let front = Front::of(request.headers());
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = if let Some(ErrorPage(status)) = response.extensions().get::<ErrorPage>() {
        *status
    } else if response
        .extensions()
        .get::<tower_http::csrf::ProtectionError>()
        .is_some()
    {
        StatusCode::FORBIDDEN
    } else {
        return response;
    };
    let detail = response.extensions().get::<ErrorDetail>().cloned();
    match front {
        Front::Json => front::problem_json(lang, status, detail.as_ref()),
        Front::Htmx => problem_partial(lang, status, detail.as_ref()),
        Front::Page => detailed_page(&state, lang, status, &path, detail.as_ref()),
    }
}

pub fn error_page(state: &AppState, lang: Lang, status: StatusCode, path: &str) -> Response {
    detailed_page(state, lang, status, path, None)
}

fn detailed_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    path: &str,
    detail: Option<&ErrorDetail>,
) -> Response {
    let key = front::status_key(status);
    let mut page = ErrorTemplate {
        layout: Layout::public(state, lang, &format!("{key}.title"), path),
        status: status.as_u16(),
        heading: lang.t(&format!("{key}.title")),
        message: lang.t(&format!("{key}.message")),
        fields: front::field_messages(lang, detail),
    };
    if let Some(ErrorDetail::Refused(reason)) = detail {
        page.message = lang.t(reason);
    }
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// The error as a fragment for htmx to swap in where the form was.
fn problem_partial(lang: Lang, status: StatusCode, detail: Option<&ErrorDetail>) -> Response {
    let key = front::status_key(status);
    let partial = ProblemPartial {
        status: status.as_u16(),
        heading: lang.t(&format!("{key}.title")),
        message: match detail {
            Some(ErrorDetail::Refused(reason)) => lang.t(reason),
            _ => lang.t(&format!("{key}.message")),
        },
        fields: front::field_messages(lang, detail),
    };
    match partial.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// A page with a heading and a message (`{key}.title`, `{key}.message`) and the status.
pub fn message_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    path: &str,
    key: &str,
) -> Response {
    let page = ErrorTemplate {
        layout: Layout::public(state, lang, &format!("{key}.title"), path),
        status: status.as_u16(),
        heading: lang.t(&format!("{key}.title")),
        message: lang.t(&format!("{key}.message")),
        fields: Vec::new(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// Renders a page template into a 200 response.
pub fn render<T: Template>(page: &T) -> crate::error::AppResult<Response> {
    render_with(StatusCode::OK, page)
}

/// Renders a page template with a status (422 for a form with errors, …).
/// One section of a page alone (what a failed form inside it answers, 422), with a link back to
/// the page it belongs to.
#[derive(Template)]
#[template(path = "section_page.html")]
struct SectionPage {
    layout: layout::Layout,
    back: String,
    back_label: String,
    section: String,
}

/// [`SectionPage`]: `section` (rendered) under `layout`, linking back to `back`, as a 422.
pub fn section_again(
    layout: layout::Layout,
    back: String,
    back_label: String,
    section: String,
) -> crate::error::AppResult<Response> {
    render_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SectionPage {
            layout,
            back,
            back_label,
            section,
        },
    )
}

pub fn render_with<T: Template>(status: StatusCode, page: &T) -> crate::error::AppResult<Response> {
    Ok((status, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// A one-time link just issued (set-password, invitation): mailed to the person when mail is
/// on (`crate::mail`), else shown once to whoever issued it to pass on.
pub struct ShownLink {
    pub url: String,
    pub email: String,
    pub expires: String,
    /// Mailed: the page says so and does not show the link.
    pub mailed: bool,
    /// Mail is on but sending failed: the link is shown, with that said.
    pub mail_failed: bool,
}

impl ShownLink {
    /// Mails the link to `email` when mail is on; what the issuing page shows either way.
    /// `zone` is the time zone the expiry is written in.
    pub async fn deliver(
        state: &AppState,
        origin: &PublicOrigin,
        zone: &str,
        email: &str,
        link: crate::auth::links::IssuedLink,
    ) -> ShownLink {
        let url = format!("{}{}", origin.0, link.path);
        let expires = fmt::datetime(link.expires_at, zone);
        let delivery = crate::mail::deliver_link(
            state.part::<crate::mail::Mailer>(),
            email,
            &url,
            &fmt::datetime(link.expires_at, crate::kernel::STAFF_TIME_ZONE),
        )
        .await;
        ShownLink {
            url,
            email: email.to_string(),
            expires,
            mailed: delivery == crate::mail::Delivery::Mailed,
            mail_failed: delivery == crate::mail::Delivery::Failed,
        }
    }
}

/// How many rejected rows an import report shows on the page (all of them download as CSV).
pub const ERRORS_SHOWN: usize = 1000;

/// One rejected row of an import as a report shows it.
pub struct ErrorLine {
    pub line: i64,
    pub column: String,
    pub value: String,
    pub message: String,
}

/// The header of a rejected rows download: line, column, value, problem.
pub fn rejected_rows_header(lang: Lang) -> [String; 4] {
    [
        lang.t("creators.import.line"),
        lang.t("creators.import.column"),
        lang.t("creators.import.value"),
        lang.t("creators.import.problem"),
    ]
}

/// Rejected rows of an import as a CSV download (UTF-8 with BOM, so Excel opens it): a header
/// of line / column / value / problem in the reader's language, then `(line, column, value,
/// message)` per row.
pub fn rejected_rows_csv(
    lang: Lang,
    filename: &str,
    rows: impl IntoIterator<Item = (i64, String, String, String)>,
) -> crate::error::AppResult<Response> {
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    out.write_record(rejected_rows_header(lang))
        .map_err(anyhow::Error::from)?;
    for (line, column, value, message) in rows {
        out.write_record([line.to_string(), column, value, message])
            .map_err(anyhow::Error::from)?;
    }
    let body = out.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The router's fallback: a friendly 404.
/// An id from a URL; anything that is not one is a page that does not exist.
pub fn parse_id(s: &str) -> crate::error::AppResult<uuid::Uuid> {
    s.parse().map_err(|_| crate::error::AppError::NotFound)
}

pub async fn not_found() -> crate::error::AppError {
    crate::error::AppError::NotFound
}

/// Static files with long cache lifetimes; pages link them with `?v=<content hash>`.
pub fn static_files(dir: PathBuf) -> Router<AppState> {
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ))
            .service(ServeDir::new(dir)),
    )
}

/// Where the static files are: `SEXTANT_STATIC_DIR`, else `./static`, else the source tree's.
pub fn static_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SEXTANT_STATIC_DIR") {
        return PathBuf::from(dir);
    }
    let here = PathBuf::from("static");
    if here.join("css").is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("static")
}

/// A short hash of the stylesheet and our own scripts, so a changed file gets a new URL under
/// immutable caching (htmx carries its version in its name).
pub fn asset_version(dir: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for file in ["css/sextant.css", "js/rating.js"] {
        hash.update(std::fs::read(dir.join(file)).unwrap_or_default());
    }
    hash.finalize()
        .iter()
        .take(5)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Only a local path may follow a login or a language switch: `/x`, never `//host`, `/\host`
/// or `https://…`.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| next.to_string())
}

/// The client's ip: the socket peer, or with `SEXTANT_TRUST_PROXY` the last `X-Forwarded-For`
/// hop (the one our own proxy added).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let trust_proxy = AppState::from_ref(state).config.trust_proxy;
        let forwarded = trust_proxy
            .then(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.rsplit(',').next())
                    .and_then(|v| v.trim().parse().ok())
            })
            .flatten();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(forwarded.or(peer)))
    }
}

/// Where this server is reached, for links people pass on: `SEXTANT_PUBLIC_URL`, else the
/// request's own Host.
#[derive(Clone, Debug)]
pub struct PublicOrigin(pub String);

impl<S> FromRequestParts<S> for PublicOrigin
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let config = AppState::from_ref(state).config.clone();
        if let Some(url) = &config.public_url {
            return Ok(PublicOrigin(url.trim_end_matches('/').to_string()));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = own_scheme(&config, &parts.headers);
        Ok(PublicOrigin(format!("{scheme}://{host}")))
    }
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    next: Option<String>,
}

/// The language switch: a cookie that sticks for a year, then back where the person was.
pub async fn set_lang(Form(form): Form<LangForm>) -> Response {
    let lang = Lang::parse(&form.lang).unwrap_or(Lang::ZhCn);
    let target = safe_next(form.next.as_deref()).unwrap_or_else(|| "/".into());
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        lang.code()
    );
    let mut response = Redirect::to(&target).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A file kept in object storage sent back as it was stored: `content_type` (never sniffed),
/// `disposition`, sandboxed by `csp`, same-origin only, not kept by shared caches. `bytes` is
/// its stored size (no more is read).
pub async fn stored_file(
    storage: &crate::storage::Storage,
    key: &str,
    bytes: i64,
    content_type: &'static str,
    disposition: &str,
    csp: &'static str,
) -> crate::error::AppResult<Response> {
    use crate::error::AppError;
    let body = storage
        .prefix(key, u64::try_from(bytes).unwrap_or_default())
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let disposition =
        HeaderValue::from_str(disposition).map_err(|e| AppError::Internal(e.into()))?;
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::{own_scheme, safe_next};
    use crate::config::Config;
    use axum::http::HeaderMap;

    #[test]
    fn the_own_scheme_comes_from_the_public_url_then_a_trusted_proxy_then_secure_cookies() {
        let mut config = Config::for_tests("postgres://unused".into());
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(own_scheme(&config, &HeaderMap::new()), "http");
        // An untrusted header changes nothing.
        assert_eq!(own_scheme(&config, &proxied), "http");
        config.cookie_secure = true;
        assert_eq!(own_scheme(&config, &HeaderMap::new()), "https");
        config.cookie_secure = false;
        config.trust_proxy = true;
        assert_eq!(own_scheme(&config, &proxied), "https");
        config.public_url = Some("http://sextant.example".into());
        assert_eq!(own_scheme(&config, &proxied), "http");
        config.public_url = Some("HTTPS://sextant.example/".into());
        assert_eq!(own_scheme(&config, &HeaderMap::new()), "https");
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/t/lumi/")), Some("/t/lumi/".into()));
        assert_eq!(safe_next(Some("https://evil.example")), None);
        assert_eq!(safe_next(Some("//evil.example/x")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(Some("/ok\r\nSet-Cookie: x")), None);
        assert_eq!(safe_next(Some("javascript:alert(1)")), None);
        assert_eq!(safe_next(None), None);
    }
}
