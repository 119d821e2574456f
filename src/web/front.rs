//! Which front door a request came through, so one action's answer can be rendered for it: a
//! full page, an htmx partial, or JSON (`application/problem+json` for errors).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ErrorDetail;
use crate::web::lang::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    /// A browser asking for a whole page (forms without script).
    Page,
    /// htmx swapping a part of the page (`HX-Request`).
    Htmx,
    /// A program: it sent JSON or accepts JSON before HTML.
    Json,
}

impl Front {
    pub fn of(headers: &HeaderMap) -> Front {
        let has = |name, what: &str| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains(what))
        };
        if has(CONTENT_TYPE, "json") || (has(ACCEPT, "json") && !has(ACCEPT, "text/html")) {
            Front::Json
        } else if headers.contains_key("hx-request") {
            Front::Htmx
        } else {
            Front::Page
        }
    }

    /// A page (or a partial) renders form errors itself; JSON gets problem+json.
    pub fn is_json(self) -> bool {
        self == Front::Json
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Front {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Front::of(&parts.headers))
    }
}

/// The key of the page heading and message for a status (`error.<code>.title` / `.message`).
pub fn status_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "error.400",
        401 => "error.401",
        403 => "error.403",
        404 => "error.404",
        409 => "error.409",
        413 => "error.413",
        415 => "error.415",
        422 => "error.422",
        429 => "error.429",
        503 => "error.503",
        _ => "error.500",
    }
}

/// Each wrong field with its message in the reader's language, in field order.
pub fn field_messages(lang: Lang, detail: Option<&ErrorDetail>) -> Vec<(String, String)> {
    match detail {
        Some(ErrorDetail::Invalid(errors)) => errors
            .iter()
            .map(|(field, key)| (field.clone(), lang.t(key)))
            .collect(),
        _ => Vec::new(),
    }
}

/// An RFC 9457 problem document: the status, a title and detail in the reader's language, and
/// for invalid input every field with its code and message.
pub fn problem_json(lang: Lang, status: StatusCode, detail: Option<&ErrorDetail>) -> Response {
    problem_response(status, &problem_value(lang, status, detail))
}

/// The problem document itself (so a caller may add members, e.g. a parser's `reason`). Fields
/// of a batch (`items[10].views`) are listed in their natural order, row by row.
pub fn problem_value(lang: Lang, status: StatusCode, detail: Option<&ErrorDetail>) -> Value {
    let key = status_key(status);
    let mut body = json!({
        "type": "about:blank",
        "title": lang.t(&format!("{key}.title")),
        "status": status.as_u16(),
        "detail": lang.t(&format!("{key}.message")),
    });
    match detail {
        Some(ErrorDetail::Invalid(errors)) => {
            body["type"] = Value::from("/problems/invalid-input");
            let mut errors: Vec<(&String, &&str)> = errors.iter().collect();
            errors.sort_by_cached_key(|(field, _)| natural_key(field));
            body["errors"] = errors
                .iter()
                .map(|(field, key)| json!({ "field": field, "code": key, "message": lang.t(key) }))
                .collect();
        }
        Some(ErrorDetail::Refused(key)) => {
            body["type"] = Value::from("/problems/refused");
            body["code"] = Value::from(*key);
            body["detail"] = Value::from(lang.t(key));
        }
        None => {}
    }
    body
}

/// A field name with its numbers compared as numbers (`items[2]` before `items[10]`).
fn natural_key(field: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in field.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}

/// A problem document as the answer, `application/problem+json`.
pub fn problem_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_front_door_is_read_from_the_headers() {
        assert_eq!(Front::of(&headers(&[])), Front::Page);
        assert_eq!(
            Front::of(&headers(&[(
                "accept",
                "text/html,application/xhtml+xml,*/*"
            )])),
            Front::Page
        );
        assert_eq!(Front::of(&headers(&[("hx-request", "true")])), Front::Htmx);
        assert_eq!(
            Front::of(&headers(&[("accept", "application/json")])),
            Front::Json
        );
        assert_eq!(
            Front::of(&headers(&[("content-type", "application/json")])),
            Front::Json
        );
    }
}
