//! Forms: the posted fields (repeated keys kept, as checkboxes need) and the messages shown next to
//! fields when something is wrong.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use crate::error::AppError;
use crate::kernel::FieldErrors;
use crate::web::lang::Lang;

/// A posted `application/x-www-form-urlencoded` body read into a typed form (`serde_html_form`:
/// repeated keys fill `Vec` fields, so checkbox groups work). Form types hold what a person typed,
/// mostly strings with `#[serde(default)]`; the domain validates them into the actions' input, so
/// the JSON API can take the same types as `Json<T>`. A body that does not fit the type (only a
/// hand-made request can send one) is a 422 naming no field.
#[derive(Debug, Clone, Default)]
pub struct Form<T>(pub T);

impl<S, T> FromRequest<S> for Form<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A body over the limit (2 MB unless the route says otherwise) is the sender's fault: a
        // message, never a 500. Other read failures are the connection's.
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                let mut errors = FieldErrors::new();
                errors.insert(String::new(), "error.form_too_large");
                AppError::Invalid(errors)
            } else {
                AppError::Internal(anyhow::anyhow!("cannot read the form: {e}"))
            }
        })?;
        serde_html_form::from_bytes(&body).map(Form).map_err(|e| {
            tracing::debug!(error = %e, "a form body that does not fit its type");
            let mut errors = FieldErrors::new();
            errors.insert(String::new(), "error.bad_form");
            AppError::Invalid(errors)
        })
    }
}

/// A list field that must also read from a flattened form (`#[serde(flatten)]` buffers a key
/// posted once as one value, not a list): one value or several, as a list.
pub fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(
        match <OneOrMany as serde::Deserialize>::deserialize(deserializer)? {
            OneOrMany::One(value) => vec![value],
            OneOrMany::Many(values) => values,
        },
    )
}

/// Messages per field, already in the page's language, plus whether the form had any.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    messages: BTreeMap<String, String>,
}

impl FormErrors {
    pub fn new(lang: Lang, keys: &BTreeMap<String, &'static str>) -> FormErrors {
        FormErrors {
            messages: keys.iter().map(|(f, k)| (f.clone(), lang.t(k))).collect(),
        }
    }

    pub fn none() -> FormErrors {
        FormErrors::default()
    }

    /// Adds a message (already translated) for a field.
    pub fn add(&mut self, field: &str, message: String) {
        self.messages.insert(field.to_string(), message);
    }

    pub fn get(&self, field: &str) -> Option<&String> {
        self.messages.get(field)
    }

    pub fn has(&self, field: &str) -> bool {
        self.messages.contains_key(field)
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// (field, message) for the summary at the top of a form, which links each to its field.
    pub fn entries(&self) -> Vec<(&str, &str)> {
        self.messages
            .iter()
            .map(|(f, m)| (f.as_str(), m.as_str()))
            .collect()
    }
}

/// A checkbox or option: value, label, chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// Checkboxes (or options) for `values`, labelled `{label_prefix}.{value}` in the page's language
/// (or by the value itself when the prefix is empty), checked where `chosen` has them.
pub fn choices(lang: Lang, values: &[&str], label_prefix: &str, chosen: &[String]) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: (*v).to_string(),
            label: if label_prefix.is_empty() {
                (*v).to_string()
            } else {
                lang.t(&format!("{label_prefix}.{v}"))
            },
            checked: chosen.iter().any(|c| c == v),
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[derive(serde::Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Typed {
        name: String,
        markets: Vec<String>,
        note: Option<String>,
    }

    #[test]
    fn typed_forms_read_repeated_keys_into_lists_and_missing_fields_as_defaults() {
        let t: Typed =
            serde_html_form::from_bytes(b"markets=US&markets=GB&name=Lumi+Home").unwrap();
        assert_eq!(t.markets, vec!["US", "GB"]);
        assert_eq!(t.name, "Lumi Home");
        assert_eq!(t.note, None);
        let empty: Typed = serde_html_form::from_bytes(b"").unwrap();
        assert_eq!(empty, Typed::default());
    }
}
