//! Reading evidence files out of a multipart form, for any feature's handler: each file at most
//! [`MAX_EVIDENCE_BYTES`] + 1 bytes is kept (so the action refuses a larger one with its
//! message); the rest of a larger file is read and dropped, so the browser gets the page with
//! the message rather than a reset connection.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use bytes::{Bytes, BytesMut};

use super::actions::{EvidenceUpload, MAX_EVIDENCE_BYTES};

/// At most this many files per form.
pub const MAX_EVIDENCE_FILES: usize = 5;
/// The body limit for a route that takes evidence files: every file at its limit, and room for
/// the other fields.
pub const EVIDENCE_BODY_LIMIT: usize =
    MAX_EVIDENCE_FILES * (MAX_EVIDENCE_BYTES + 64 * 1024) + (1 << 20);

/// One file field as an upload; a larger file keeps only its first `MAX_EVIDENCE_BYTES + 1`
/// bytes (enough for the action to say "too big"). None when the body broke off.
pub async fn read_evidence(mut field: Field<'_>) -> Option<EvidenceUpload> {
    let filename = field.file_name().unwrap_or_default().to_string();
    let mut kept = BytesMut::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                let room = (MAX_EVIDENCE_BYTES + 1).saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(_) => return None,
        }
    }
    Some(EvidenceUpload {
        filename,
        bytes: kept.freeze(),
    })
}

/// A multipart form with evidence files: its text fields (the first value of each name), the
/// files sent under `file_field` (a file input left empty sends an empty part with no name,
/// which is skipped), and whether the body broke off or had more than [`MAX_EVIDENCE_FILES`].
#[derive(Debug, Default)]
pub struct EvidenceForm {
    pub fields: HashMap<String, String>,
    pub files: Vec<EvidenceUpload>,
    /// The message key for the `evidence` field when the files could not all be read.
    pub files_error: Option<&'static str>,
}

impl EvidenceForm {
    /// A text field's value ("" when absent).
    pub fn text(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// Reads the whole form.
pub async fn read_evidence_form(mut multipart: Multipart, file_field: &str) -> EvidenceForm {
    let mut form = EvidenceForm::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                form.files_error = Some("evidence.error.upload_broken");
                break;
            }
        };
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        if name == file_field {
            let Some(file) = read_evidence(field).await else {
                form.files_error = Some("evidence.error.upload_broken");
                break;
            };
            if file.filename.is_empty() && file.bytes.is_empty() {
                continue;
            }
            if form.files.len() == MAX_EVIDENCE_FILES {
                form.files_error = Some("evidence.error.too_many");
                continue;
            }
            form.files.push(file);
        } else {
            let value = field.text().await.unwrap_or_default();
            form.fields.entry(name).or_insert(value);
        }
    }
    form
}

/// A file's bytes, for tests that build uploads by hand.
pub fn upload(filename: &str, bytes: impl Into<Bytes>) -> EvidenceUpload {
    EvidenceUpload {
        filename: filename.to_string(),
        bytes: bytes.into(),
    }
}
