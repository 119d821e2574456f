//! The collaboration page's "fulfilment records" section, rendered in the page's tenant
//! transaction: the records (with their corrections and evidence), the form to record one and
//! a correction form per record that counts. The contracts page includes it as HTML.

use askama::Template;
use uuid::Uuid;

use super::domain::{Kind, Severity};
use super::repo;
use crate::error::{AppError, AppResult};
use crate::evidence::domain::EvidenceType;
use crate::evidence::form::MAX_EVIDENCE_FILES;
use crate::tenants::TenantCtx;
use crate::web::fmt;
use crate::web::forms::FormErrors;
use crate::web::lang::Lang;

/// What the record form holds when it comes back with messages.
#[derive(Debug, Clone, Default)]
pub struct RecordForm {
    pub kind: String,
    pub severity: String,
    pub note: String,
    pub occurred_on: String,
    pub errors: FormErrors,
}

/// A correction form that came back with messages, for its record.
#[derive(Debug, Clone, Default)]
pub struct CorrectionForm {
    pub record_id: Uuid,
    pub action: String,
    pub note: String,
    pub reason: String,
    pub errors: FormErrors,
}

pub struct FileView {
    pub id: Uuid,
    pub filename: String,
    pub image: bool,
}

pub struct RecordView {
    pub id: Uuid,
    pub kind: String,
    pub severity_code: String,
    pub severity: String,
    pub note: String,
    /// "3 days late".
    pub late: Option<String>,
    pub occurred: String,
    pub by: String,
    pub at: String,
    pub automatic: bool,
    pub points: String,
    pub money: String,
    /// "Corrects an earlier record: <reason>".
    pub correction_reason: Option<String>,
    pub is_correction: bool,
    pub withdrawn: bool,
    /// Who superseded it (it counts no more).
    pub superseded_by: Option<String>,
    pub counts: bool,
    pub files: Vec<FileView>,
}

#[derive(Template)]
#[template(path = "fulfilment/_section.html")]
struct Section<'a> {
    tr: Lang,
    slug: &'a str,
    id: Uuid,
    can_record: bool,
    records: Vec<RecordView>,
    kinds: Vec<(String, String)>,
    severities: Vec<(String, String)>,
    form: RecordForm,
    correction: CorrectionForm,
    evidence_help: String,
}

/// The section's HTML; `form` and `correction` carry a refused form back with its messages.
pub async fn collaboration(
    ctx: &mut TenantCtx,
    id: Uuid,
    lang: Lang,
    form: Option<RecordForm>,
    correction: Option<CorrectionForm>,
) -> AppResult<String> {
    let rows = repo::records_of(&mut ctx.tx, ctx.tenant.id, id).await?;
    let zone = ctx.tenant.time_zone.clone();
    let records = rows
        .into_iter()
        .map(|r| {
            let kind = Kind::parse(&r.kind);
            let severity = Severity::parse(&r.severity);
            let files: Vec<(Uuid, String, Option<String>)> =
                serde_json::from_value(r.files).unwrap_or_default();
            let money = match (r.money_amount, r.money_currency.as_deref(), r.money_percent) {
                (Some(a), Some(c), _) => fmt::money(a, c),
                (_, _, Some(p)) => lang.t_with(
                    "fulfilment.money_percent",
                    &[("percent", p.normalize().to_string().as_str())],
                ),
                _ => String::new(),
            };
            RecordView {
                id: r.id,
                kind: kind.map(|k| lang.t(k.label_key())).unwrap_or(r.kind),
                severity_code: r.severity.clone(),
                severity: severity
                    .map(|s| lang.t(s.label_key()))
                    .unwrap_or(r.severity),
                note: r.note,
                late: r.days_late.map(|d| {
                    lang.t_with("fulfilment.days_late", &[("days", d.to_string().as_str())])
                }),
                occurred: fmt::datetime(r.occurred_at, &zone),
                by: r.recorded_by_label,
                at: fmt::datetime(r.recorded_at, &zone),
                automatic: r.automatic,
                points: r.points.normalize().to_string(),
                money,
                correction_reason: r.correction_reason,
                is_correction: r.supersedes.is_some(),
                withdrawn: r.withdrawn,
                counts: !r.withdrawn && r.superseded_by.is_none(),
                superseded_by: r.superseded_by_label,
                files: files
                    .into_iter()
                    .map(|(id, filename, content_type)| FileView {
                        id,
                        filename,
                        image: content_type
                            .as_deref()
                            .and_then(EvidenceType::from_content_type)
                            .is_some_and(EvidenceType::is_image),
                    })
                    .collect(),
            }
        })
        .collect();
    let section = Section {
        tr: lang,
        slug: &ctx.tenant.slug,
        id,
        can_record: ctx.require(super::actions::RECORDERS).is_ok(),
        records,
        kinds: Kind::ALL
            .into_iter()
            .filter(|k| k.by_hand())
            .map(|k| (k.code().to_string(), lang.t(k.label_key())))
            .collect(),
        severities: Severity::ALL
            .into_iter()
            .map(|s| (s.code().to_string(), lang.t(s.label_key())))
            .collect(),
        form: form.unwrap_or_default(),
        correction: correction.unwrap_or_default(),
        evidence_help: lang.t_with(
            "fulfilment.evidence_help",
            &[("max", MAX_EVIDENCE_FILES.to_string().as_str())],
        ),
    };
    section
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("fulfilment section: {e}")))
}
