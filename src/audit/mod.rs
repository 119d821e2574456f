//! The audit trail (SPEC §12): one table, one function every change goes through. Rows are never
//! updated or deleted (the database refuses it).

pub mod pages;
pub mod repo;
pub mod trail;

use axum::Router;
use axum::routing::get;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// The trail's pages: the owner's and the admins'.
pub fn router() -> Router<crate::state::AppState> {
    Router::new()
        .route("/t/{tenant_slug}/audit", get(pages::tenant_page))
        .route("/admin/audit", get(pages::admin_page))
}

/// One audit entry. Inside a tenant-scoped transaction `tenant_id` must be that tenant (RLS
/// checks it); platform events (no tenant) are written from a system scope.
#[derive(Debug, Clone)]
pub struct Entry {
    pub tenant_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub actor_label: String,
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub ip: Option<String>,
}

impl Entry {
    /// An entry about one entity; the builder methods below fill in who, where and what changed.
    pub fn new(
        action: &'static str,
        entity_type: &'static str,
        entity_id: Option<String>,
    ) -> Entry {
        Entry {
            tenant_id: None,
            actor_id: None,
            actor_label: String::new(),
            action,
            entity_type,
            entity_id,
            before: None,
            after: None,
            ip: None,
        }
    }

    /// Done by a signed-in person.
    pub fn by(self, user: &crate::auth::CurrentUser) -> Entry {
        self.actor(Some(user.id), user.label())
    }

    /// Done by someone (or something: a command) named `label`.
    pub fn actor(mut self, id: Option<Uuid>, label: String) -> Entry {
        self.actor_id = id;
        self.actor_label = label;
        self
    }

    /// In a tenant (None: a platform event).
    pub fn tenant(mut self, tenant_id: Option<Uuid>) -> Entry {
        self.tenant_id = tenant_id;
        self
    }

    pub fn before(mut self, value: Value) -> Entry {
        self.before = Some(value);
        self
    }

    pub fn after(mut self, value: Value) -> Entry {
        self.after = Some(value);
        self
    }

    pub fn ip(mut self, ip: Option<String>) -> Entry {
        self.ip = ip;
        self
    }
}

/// Writes one entry (the only way in: the table refuses updates and deletes).
pub async fn record(conn: &mut PgConnection, entry: Entry) -> Result<(), sqlx::Error> {
    repo::insert(conn, entry).await
}
