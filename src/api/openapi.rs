//! The API's description: OpenAPI 3.1 generated from the handlers and types themselves
//! (`utoipa`), served at `/api/v1/openapi.json`, and the reference page at `/api/v1/reference`,
//! rendered by our own template from that same document (Swagger UI and Redoc need inline styles
//! and scripts the strict CSP forbids).

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{loop_contracts, loop_intake, loop_ratings, reads, v1};
use crate::state::AppState;
use crate::web::lang::Lang;
use crate::web::layout::Layout;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sextant API",
        version = "1",
        description = "Creator collaborations for cross-border sellers and their agency: the same \
            actions as the pages, for your ERP, BI and scraping tools. Authenticate with an API \
            token (Authorization: Bearer sxt_…) made by the company's owner on Settings → API \
            tokens; a read token reads, a write token also writes. An account manager's staff \
            token (My API tokens) names the company in each request with the header \
            `Sextant-Tenant: <company slug>` and reaches only the companies the person is \
            assigned to at that moment. Errors are \
            application/problem+json naming each field that failed. Lists are paged with \
            `cursor` (the `next_cursor` of the page before) and `limit` (1–500, default 100); \
            with `updated_since` a list answers only what changed (first an RFC 3339 time, then \
            the `next_updated_since` of the pull before: each change exactly once, in the order \
            made, and what left the list as tombstones in `deleted`). \
            Every POST takes an `Idempotency-Key`. Each token may make a number of requests a \
            minute (429 with Retry-After past it)."
    ),
    paths(
        reads::campaigns,
        reads::collaborations,
        reads::collaboration,
        reads::creators,
        reads::shops,
        reads::posts,
        reads::fulfilment_records,
        reads::ratings,
        reads::tiers,
        reads::tier_history,
        reads::settlements,
        reads::settlement_export,
        reads::order_imports,
        v1::create_post_api,
        v1::ingest_snapshots_api,
        v1::ingest_orders_api,
        loop_contracts::create_collaboration_api,
        loop_contracts::change_terms_api,
        loop_contracts::record_event_api,
        loop_contracts::record_fulfilment_api,
        loop_contracts::correct_fulfilment_api,
        loop_intake::create_campaign_api,
        loop_intake::update_campaign_api,
        loop_intake::submit_campaign_api,
        loop_intake::transition_campaign_api,
        loop_intake::candidates_api,
        loop_intake::send_shortlist_api,
        loop_intake::shortlist_api,
        loop_intake::decide_entry_api,
        loop_intake::another_round_api,
        loop_intake::approve_shortlist_api,
        loop_intake::creators_batch_api,
        loop_ratings::open_rating_api,
        loop_ratings::assign_raters_api,
        loop_ratings::submit_scorecard_api,
        loop_ratings::close_rating_api,
        loop_ratings::add_blacklist_api,
        loop_ratings::decide_blacklist_api,
        loop_ratings::override_tier_api,
    ),
    components(schemas(v1::Problem, v1::ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "loop", description = "Campaigns, collaborations and the creators offered"),
        (name = "intake", description = "A seller's campaign requests: drafts, submitting, the state's moves"),
        (name = "matching", description = "The account manager's ranked candidates and the shortlist sent"),
        (name = "shortlist", description = "The seller's answers to a shortlist"),
        (name = "creators", description = "The agency's creator pool"),
        (name = "tracking", description = "Posts, metric snapshots and orders coming in"),
        (name = "rating", description = "Fulfilment records, ratings and tiers"),
        (name = "settlement", description = "Settlement statements and their exports"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Added to what is there (replacing `components` would drop every schema).
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sxt_ token")
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json`: the document (public: it holds no data).
pub async fn spec() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// One operation as the reference page lists it.
pub struct OperationView {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub tag: String,
    pub summary: String,
    pub description: String,
    pub params: Vec<FieldView>,
    pub body: Option<String>,
    pub responses: Vec<ResponseView>,
}

pub struct ResponseView {
    pub status: String,
    pub description: String,
    pub schema: Option<String>,
}

/// A parameter or a schema's property.
pub struct FieldView {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

pub struct SchemaView {
    pub name: String,
    pub description: String,
    pub fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "api/reference.html")]
struct ReferencePage {
    layout: Layout,
    title: String,
    version: String,
    description: String,
    operations: Vec<OperationView>,
    schemas: Vec<SchemaView>,
}

/// The name of a `$ref`erenced schema.
fn ref_name(v: &Value) -> Option<String> {
    v.get("$ref")?
        .as_str()?
        .rsplit('/')
        .next()
        .map(str::to_string)
}

/// A property's type in words: `string (uuid)`, `array of SnapshotRecord`, `integer | null`.
pub fn kind_of(v: &Value) -> String {
    if let Some(name) = ref_name(v) {
        return name;
    }
    if let Some(any) = v.get("oneOf").and_then(Value::as_array) {
        let parts: Vec<String> = any.iter().map(kind_of).collect();
        return parts.join(" | ");
    }
    let base = match v.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!(
                "array of {}",
                v.get("items").map(kind_of).unwrap_or_default()
            )
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    };
    let mut extra = Vec::new();
    if let Some(f) = v.get("format").and_then(Value::as_str) {
        extra.push(f.to_string());
    }
    if let Some(p) = v.get("pattern").and_then(Value::as_str) {
        extra.push(format!("pattern {p}"));
    }
    for (key, word) in [("minimum", "≥"), ("maximum", "≤")] {
        if let Some(n) = v.get(key) {
            extra.push(format!("{word} {n}"));
        }
    }
    if extra.is_empty() {
        base
    } else {
        format!("{base} ({})", extra.join(", "))
    }
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The document as the page shows it: operations in the document's order, then every schema.
pub fn views(doc: &Value) -> (Vec<OperationView>, Vec<SchemaView>) {
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let params = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| FieldView {
                                name: format!("{} ({})", text(p.get("name")), text(p.get("in"))),
                                kind: p.get("schema").map(kind_of).unwrap_or_default(),
                                required: p
                                    .get("required")
                                    .and_then(Value::as_bool)
                                    .unwrap_or(false),
                                description: text(p.get("description")),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = op
                    .pointer("/requestBody/content/application~1json/schema")
                    .map(kind_of);
                let responses =
                    op.get("responses")
                        .and_then(Value::as_object)
                        .map(|rs| {
                            rs.iter()
                                .map(|(status, r)| ResponseView {
                                    status: status.clone(),
                                    description: text(r.get("description")),
                                    schema: r.get("content").and_then(Value::as_object).and_then(
                                        |c| c.values().next()?.get("schema").map(kind_of),
                                    ),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                let tag = op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                operations.push(OperationView {
                    anchor: format!(
                        "{method}-{}",
                        path.trim_matches('/').replace(['/', '{', '}'], "-")
                    ),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    tag,
                    summary: text(op.get("summary")),
                    description: text(op.get("description")),
                    params,
                    body,
                    responses,
                });
            }
        }
    }
    let mut schemas = Vec::new();
    if let Some(all) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in all {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(field, p)| FieldView {
                            name: field.clone(),
                            kind: kind_of(p),
                            required: required.contains(&field.as_str()),
                            description: text(p.get("description")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            schemas.push(SchemaView {
                name: name.clone(),
                description: text(schema.get("description")),
                fields,
            });
        }
    }
    (operations, schemas)
}

/// `GET /api/v1/reference`: the reference, from the same document, in the reader's language
/// around it (the operations' own words are the document's, in English).
pub async fn reference(State(state): State<AppState>, lang: Lang) -> Response {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let (operations, schemas) = views(&doc);
    let page = ReferencePage {
        layout: Layout::public(&state, lang, "api.reference.title", "/api/v1/reference"),
        title: text(doc.pointer("/info/title")),
        version: text(doc.pointer("/info/version")),
        description: text(doc.pointer("/info/description")),
        operations,
        schemas,
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "api reference: render failed");
            crate::web::front::problem_json(
                lang,
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_bearer_and_every_route() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for path in [
            "/api/v1/campaigns",
            "/api/v1/posts",
            "/api/v1/snapshots",
            "/api/v1/orders",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path}");
        }
        assert!(doc["components"]["schemas"].get("Problem").is_some());
        let (ops, schemas) = views(&doc);
        let orders = ops.iter().find(|o| o.path == "/api/v1/orders").unwrap();
        assert_eq!(orders.method, "POST");
        assert_eq!(orders.body.as_deref(), Some("OrderBatch"));
        assert!(
            orders
                .params
                .iter()
                .any(|p| p.name.starts_with("Idempotency-Key"))
        );
        assert!(orders.responses.iter().any(|r| r.status == "422"));
        let line = schemas
            .iter()
            .find(|s| s.name == "OrderLineRecord")
            .unwrap();
        let amount = line.fields.iter().find(|f| f.name == "amount").unwrap();
        assert!(
            amount.required && amount.kind.contains("pattern"),
            "{}",
            amount.kind
        );
    }

    #[test]
    fn kinds_read_as_words() {
        let v: Value = serde_json::json!({"type": ["integer", "null"], "format": "int64"});
        assert_eq!(kind_of(&v), "integer | null (int64)");
        let v: Value =
            serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/X"}});
        assert_eq!(kind_of(&v), "array of X");
    }
}
