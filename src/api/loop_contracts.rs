//! `/api/v1` writes of the contract and its fulfilment (issue 19): terms from an approved
//! shortlist entry, a change or amendment of terms, the events the account manager records on the
//! collaboration page (the creator's answer, the sample, a cancellation or breach), and
//! fulfilment records with their corrections. Each calls the page's action
//! (`contracts::actions`, `fulfilment::actions`): the same roles, checks, moves and audit entries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::domain::Scope;
use super::extract::{ApiJson, ApiWriter, PathId};
use super::v1::{WriteRefusals, answer_json, in_tenant};
use crate::contracts::actions::{
    self as contract_actions, AmendTerms, CreateCollaboration, RecordCollaborationEvent,
};
use crate::contracts::domain::{ContractEvent, TermsInput};
use crate::error::{DomainError, DomainResult};
use crate::evidence::actions::EvidenceUpload;
use crate::fulfilment::actions::{
    CorrectFulfilmentRecord, RecordFulfilmentEvent, correct_fulfilment_record,
    record_fulfilment_event,
};
use crate::fulfilment::domain::{CorrectionAction, correction_action};
use crate::state::AppState;
use crate::web::PublicOrigin;
use crate::web::front::problem_json;
use crate::web::lang::Lang;

/// A term as the form types it: a string (`"1,200.50"`, `"12.5%"`, `"2026-03-01"`) or a JSON
/// number, which is read as the same digits typed; null or absent is None.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Typed(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Text>::deserialize(d)?.map(|t| match t {
        Text::Typed(s) => s,
        Text::Number(n) => n.to_string(),
    }))
}

/// A body with the fields of the terms form beside its own: every term optional, one left out
/// (or null) taking the value the page's form shows before anything is typed. Unknown fields are
/// refused, so a misspelt term is never silently the default.
macro_rules! with_terms {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// `fixed`, `commission_only` or `fixed_plus_commission`.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "fixed_plus_commission")]
            pub fee_model: Option<String>,
            /// The fixed fee, in `fixed_fee_currency` (`"1,200.50"` or a number); empty for
            /// commission only.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "800")]
            pub fixed_fee: Option<String>,
            /// ISO 4217 code of a shop currency (`USD`, `CNY`, …).
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "USD")]
            pub fixed_fee_currency: Option<String>,
            /// Percent (`"12.5"`, `"12.5%"`); empty or 0 for a fixed fee.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "10")]
            pub commission_rate: Option<String>,
            /// The agency's service fee, percent (5–20).
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "12")]
            pub service_fee_rate: Option<String>,
            /// Videos (0–50; videos and LIVE sessions not both 0).
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "2")]
            pub videos: Option<String>,
            /// LIVE sessions (0–50).
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "0")]
            pub live_sessions: Option<String>,
            /// `YYYY-MM-DD`, after today and within two years.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "2027-01-31")]
            pub publish_deadline: Option<String>,
            /// Days the post stays live (1–365; empty: 30).
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub min_days_live: Option<String>,
            /// Revisions included (0–10; empty: 2).
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub revisions_included: Option<String>,
            /// `organic_only`, `paid_ads_until` or `no_secondary_use`.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub usage_rights: Option<String>,
            /// `YYYY-MM-DD`, only with `paid_ads_until`.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub paid_ads_until: Option<String>,
            /// The sample's SKU (when the campaign needs a sample).
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub sample_sku: Option<String>,
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub sample_qty: Option<String>,
            /// The sample's cost, in `sample_cost_currency`.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub sample_cost: Option<String>,
            /// Sending the sample, in `sample_cost_currency`.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub sample_shipping: Option<String>,
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub sample_cost_currency: Option<String>,
            /// `agency` (the settlement bills the sample to the seller) or `seller`.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub sample_paid_by: Option<String>,
            /// Other agreed costs: one amount, in `other_costs_currency`, with its label.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub other_costs: Option<String>,
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub other_costs_currency: Option<String>,
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>)]
            pub other_costs_label: Option<String>,
            /// Unique in the company; letters and digits, stored upper-case.
            #[serde(default, deserialize_with = "text")]
            #[schema(value_type = Option<String>, example = "LUMIHANA10")]
            pub discount_code: Option<String>,
        }

        impl $name {
            /// The form as the call fills it in over `shown` (what the page's form shows).
            fn terms_over(&self, shown: TermsInput) -> TermsInput {
                let mut input = shown;
                with_terms!(@over self, input, fee_model, fixed_fee, fixed_fee_currency,
                    commission_rate, service_fee_rate, videos, live_sessions, publish_deadline,
                    min_days_live, revisions_included, usage_rights, paid_ads_until, sample_sku,
                    sample_qty, sample_cost, sample_shipping, sample_cost_currency,
                    sample_paid_by, other_costs, other_costs_currency, other_costs_label,
                    discount_code);
                input
            }
        }
    };
    (@over $self:ident, $input:ident, $($term:ident),*) => {
        $(if let Some(value) = &$self.$term {
            $input.$term = value.clone();
        })*
    };
}

with_terms! {
    /// Terms for an approved shortlist entry: the fields of the page's terms form. A term left
    /// out takes what the form pre-fills (the tenant's fee model and service fee, the creator's
    /// quote as the fixed fee, the campaign's commission and publishing window's end, one video,
    /// 30 days live, 2 revisions, organic use only, one sample unit when the campaign needs one, a
    /// discount code from the creator's handle).
    pub struct NewCollaboration {
        pub campaign_id: Uuid,
        /// The shortlist entry, approved by the seller, with no collaboration yet.
        pub entry_id: Uuid,
    }
}

with_terms! {
    /// New terms for a collaboration: the fields of the page's terms form, each left out keeping
    /// the current version's value. After the creator accepted, the change is an amendment and
    /// needs its `reason`.
    pub struct TermsChange {
        /// Why the terms change (required once accepted).
        #[serde(default)]
        pub reason: String,
    }
}

/// A collaboration after a write: where it stands, for the next step.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CollaborationAnswer {
    pub id: Uuid,
    /// The state code (`proposed`, `accepted`, `sample_shipped`, …).
    pub state: String,
    /// The current version of its terms.
    pub version: i32,
    /// A change of terms made after acceptance (an amendment with its reason).
    pub amendment: bool,
    pub discount_code: String,
    /// The tracked link for the creator's bio or cart.
    pub tracked_link: String,
    /// The collaboration's page.
    pub page: String,
}

/// The collaboration as it stands in the caller's transaction, as answered.
async fn answer_of(
    tx: &mut sqlx::PgConnection,
    tenant: &crate::tenants::Tenant,
    origin: &str,
    id: Uuid,
    amendment: bool,
) -> DomainResult<CollaborationAnswer> {
    let row = crate::contracts::repo::collaboration(tx, tenant.id, id, false)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(CollaborationAnswer {
        id,
        state: row.state.code().to_string(),
        version: row.current_version,
        amendment,
        discount_code: row.discount_code,
        tracked_link: format!("{origin}/r/{}", row.link_slug),
        page: format!("/t/{}/collaborations/{id}", tenant.slug),
    })
}

const IDEMPOTENCY: &str = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.";

/// `POST /api/v1/collaborations` (the account manager's staff token): the terms form of the
/// shortlist page, through `create_collaboration`.
#[utoipa::path(post, path = "/api/v1/collaborations", tag = "loop", request_body = NewCollaboration,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY)),
    responses(
        (status = 201, description = "The collaboration, proposed, with version 1 of its terms, its discount code and tracked link (a seller's token: 403, as on the page; an entry not approved, or another company's: 404; a creator who already has one in the campaign, or a code taken: 422 on `discount_code`)", body = CollaborationAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn create_collaboration_api(
    State(state): State<AppState>,
    lang: Lang,
    origin: PublicOrigin,
    ApiWriter(api): ApiWriter,
    ApiJson(body): ApiJson<NewCollaboration>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let (campaign_id, entry_id) = (body.campaign_id, body.entry_id);
            // Another company's or an unapproved entry has no form: the action refuses it.
            let shown = contract_actions::proposed_terms_for(tx, tenant.id, campaign_id, entry_id)
                .await?
                .unwrap_or_default();
            let input = CreateCollaboration {
                campaign_id,
                entry_id,
                terms: body.terms_over(shown),
            };
            let id = contract_actions::create_collaboration(tx, &actor, input).await?;
            answer_of(tx, &tenant, &origin.0, id, false).await
        })
    })
    .await;
    answer_json(StatusCode::CREATED, done)
}

/// `POST /api/v1/collaborations/{id}/terms` (the account manager): the collaboration page's
/// terms form, through `amend_terms` — a new version every time (history is never rewritten).
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/terms", tag = "loop", request_body = TermsChange,
    params(
        ("id" = Uuid, Path, description = "The collaboration"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY),
    ),
    responses(
        (status = 200, description = "The new version (an amendment once accepted); a settled, cancelled or breached contract is 403, as its page", body = CollaborationAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn change_terms_api(
    State(state): State<AppState>,
    lang: Lang,
    origin: PublicOrigin,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
    ApiJson(body): ApiJson<TermsChange>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let shown = contract_actions::current_terms_input(tx, tenant.id, id)
                .await?
                .unwrap_or_default();
            let input = AmendTerms {
                collaboration_id: id,
                terms: body.terms_over(shown),
                reason: body.reason.trim().to_string(),
            };
            let changed = contract_actions::amend_terms(tx, &actor, input).await?;
            answer_of(tx, &tenant, &origin.0, id, changed.amendment).await
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// What the account manager records on the collaboration page (its event form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollaborationEventKind {
    /// The creator accepted the terms (proposed → accepted; the campaign starts running).
    Accepted,
    /// The creator declined (proposed → cancelled).
    Declined,
    /// The sample is on its way: `carrier` and `tracking_number` required.
    SampleShipped,
    /// The creator has the sample.
    SampleDelivered,
    /// The contract ends before rated: `reason` required.
    Cancel,
    /// The creator broke the contract (not while proposed): `reason` required.
    Breach,
}

impl CollaborationEventKind {
    /// The name the page's form sends (`ContractEvent::by_hand` reads it).
    pub fn code(self) -> &'static str {
        match self {
            CollaborationEventKind::Accepted => "accepted",
            CollaborationEventKind::Declined => "declined",
            CollaborationEventKind::SampleShipped => "sample_shipped",
            CollaborationEventKind::SampleDelivered => "sample_delivered",
            CollaborationEventKind::Cancel => "cancel",
            CollaborationEventKind::Breach => "breach",
        }
    }
}

/// One event of the collaboration page's form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollaborationEvent {
    pub kind: CollaborationEventKind,
    /// With `sample_shipped`.
    #[serde(default)]
    pub carrier: String,
    /// With `sample_shipped`.
    #[serde(default)]
    pub tracking_number: String,
    /// With `cancel` and `breach` (kept with the move).
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/collaborations/{id}/events` (the account manager): the creator's answer, the
/// sample, a cancellation or breach, through `record_collaboration_event`. One route with a
/// `kind`, as the page has one form with an event select: a step the state table refuses is 409
/// with the page's message code (`contract.state_error.*`).
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/events", tag = "loop", request_body = CollaborationEvent,
    params(
        ("id" = Uuid, Path, description = "The collaboration"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY),
    ),
    responses(
        (status = 200, description = "The event recorded; the collaboration in its new state", body = CollaborationAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn record_event_api(
    State(state): State<AppState>,
    lang: Lang,
    origin: PublicOrigin,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
    ApiJson(body): ApiJson<CollaborationEvent>,
) -> Response {
    let reason = body.reason.trim().to_string();
    let Some(event) = ContractEvent::by_hand(
        body.kind.code(),
        &body.carrier,
        &body.tracking_number,
        &reason,
    ) else {
        return problem_json(lang, StatusCode::NOT_FOUND, None);
    };
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let input = RecordCollaborationEvent {
                collaboration_id: id,
                event,
                reason,
            };
            contract_actions::record_collaboration_event(tx, &actor, input).await?;
            answer_of(tx, &tenant, &origin.0, id, false).await
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// An evidence file sent inside the JSON body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFile {
    /// The file's name as kept (cleaned; its extension follows its content).
    #[serde(default)]
    pub filename: String,
    /// The bytes, standard base64: a PNG, JPEG, WebP or PDF of at most 10 MB (the whole body
    /// stays under 8 MiB).
    pub content_base64: String,
}

/// A fulfilment event, as the collaboration page's record form takes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFulfilmentRecord {
    /// `script_deviation`, `core_feature_missing`, `cart_link_missing`,
    /// `revision_limit_exceeded`, `post_removed_early`, `compliance_issue` or `slow_response`
    /// (`late_publish` and `no_publish` are recorded by the deadline job).
    #[serde(default)]
    pub kind: String,
    /// `minor`, `major` or `severe` (severe proposes a blacklist entry).
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub note: String,
    /// `YYYY-MM-DD`, not in the future; empty: now.
    #[serde(default)]
    pub occurred_on: String,
    /// Up to 5 files, as the form's evidence field (optional, as on the page).
    #[serde(default)]
    pub evidence: Vec<EvidenceFile>,
}

/// A fulfilment record made or corrected.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FulfilmentAnswer {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    /// The record this one supersedes (a correction).
    pub supersedes: Option<Uuid>,
    /// A withdrawal: the corrected record counts no more and nothing replaces it.
    pub withdrawn: bool,
    /// Evidence files kept with it.
    pub evidence_files: usize,
}

/// `POST /api/v1/collaborations/{id}/fulfilment-records` (owner, operator or the account
/// manager): the collaboration page's record form, through `record_fulfilment_event` — its worth
/// frozen under the current deduction policy, the creator's tier recomputed.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/fulfilment-records", tag = "rating",
    request_body = NewFulfilmentRecord,
    params(
        ("id" = Uuid, Path, description = "The collaboration"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY),
    ),
    responses(
        (status = 201, description = "The record (a collaboration still proposed, or cancelled: 409 `fulfilment.error.state`, as on the page)", body = FulfilmentAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn record_fulfilment_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
    ApiJson(body): ApiJson<NewFulfilmentRecord>,
) -> Response {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut files = Vec::with_capacity(body.evidence.len());
    for (i, file) in body.evidence.into_iter().enumerate() {
        let Ok(bytes) = engine.decode(file.content_base64.trim()) else {
            let mut errors = crate::kernel::FieldErrors::new();
            errors.insert(
                format!("evidence[{i}].content_base64"),
                "api.contracts.error.base64",
            );
            return super::v1::problem_of(lang, DomainError::Invalid(errors));
        };
        files.push(EvidenceUpload {
            filename: file.filename,
            bytes: bytes.into(),
        });
    }
    let evidence_files = files.len();
    let input = RecordFulfilmentEvent {
        collaboration_id: id,
        kind: body.kind,
        severity: body.severity,
        note: body.note,
        occurred_on: body.occurred_on,
        files,
    };
    let actor = api.actor.clone();
    let storage = state.storage.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move { record_fulfilment_event(tx, &storage, &actor, input).await })
    })
    .await;
    match done {
        Ok(record) => (
            StatusCode::CREATED,
            Json(FulfilmentAnswer {
                id: record,
                collaboration_id: id,
                supersedes: None,
                withdrawn: false,
                evidence_files,
            }),
        )
            .into_response(),
        Err(refused) => refused,
    }
}

/// A correction of a record that counts, as the record's correction form takes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilmentCorrection {
    /// `withdraw`, or the replacement's severity (`minor`, `major`, `severe`; same kind).
    #[serde(default)]
    pub action: String,
    /// The replacement's note (empty: the corrected record's note is kept).
    #[serde(default)]
    pub note: String,
    /// Why (required).
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/fulfilment-records/{id}/correct` (owner, operator or the account manager): the
/// record's correction form, through `correct_fulfilment_record` — a new record that supersedes
/// this one (records are never edited); a record already corrected is 422 on `reason`, as on the
/// page.
#[utoipa::path(post, path = "/api/v1/fulfilment-records/{id}/correct", tag = "rating",
    request_body = FulfilmentCorrection,
    params(
        ("id" = Uuid, Path, description = "The record to correct"),
        ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY),
    ),
    responses(
        (status = 201, description = "The correcting record, which supersedes the one named", body = FulfilmentAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn correct_fulfilment_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
    ApiJson(body): ApiJson<FulfilmentCorrection>,
) -> Response {
    let withdrawn = correction_action(&body.action) == Ok(CorrectionAction::Withdraw);
    let input = CorrectFulfilmentRecord {
        record_id: id,
        action: body.action,
        note: body.note,
        reason: body.reason,
    };
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let record = correct_fulfilment_record(tx, &actor, input).await?;
            let collaboration = crate::fulfilment::repo::target(tx, tenant.id, record)
                .await?
                .ok_or(DomainError::NotFound)?
                .collaboration_id;
            Ok((record, collaboration))
        })
    })
    .await;
    match done {
        Ok((record, collaboration_id)) => (
            StatusCode::CREATED,
            Json(FulfilmentAnswer {
                id: record,
                collaboration_id,
                supersedes: Some(id),
                withdrawn,
                evidence_files: 0,
            }),
        )
            .into_response(),
        Err(refused) => refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_is_one_the_page_form_records() {
        for kind in [
            CollaborationEventKind::Accepted,
            CollaborationEventKind::Declined,
            CollaborationEventKind::SampleShipped,
            CollaborationEventKind::SampleDelivered,
            CollaborationEventKind::Cancel,
            CollaborationEventKind::Breach,
        ] {
            let event = ContractEvent::by_hand(kind.code(), "UPS", "1Z", "late")
                .unwrap_or_else(|| panic!("{kind:?}"));
            assert!(event.is_by_hand());
            assert_eq!(event.code(), kind.code());
            let parsed: CollaborationEventKind =
                serde_json::from_value(serde_json::json!(kind.code())).unwrap();
            assert_eq!(parsed, kind);
        }
    }

    #[test]
    fn a_term_is_read_from_a_string_or_a_number_and_a_left_out_one_keeps_the_form_value() {
        let body: TermsChange = serde_json::from_value(serde_json::json!({
            "fixed_fee": 1200.5, "videos": "3", "commission_rate": null, "reason": "more"
        }))
        .unwrap();
        let shown = TermsInput {
            fixed_fee: "800".into(),
            commission_rate: "10".into(),
            videos: "1".into(),
            ..Default::default()
        };
        let terms = body.terms_over(shown);
        assert_eq!(
            (
                terms.fixed_fee.as_str(),
                terms.videos.as_str(),
                terms.commission_rate.as_str()
            ),
            ("1200.5", "3", "10")
        );
        assert!(
            serde_json::from_value::<TermsChange>(serde_json::json!({"fixed_fees": "1"})).is_err(),
            "a misspelt term is refused"
        );
    }
}
