//! The state every handler can reach: the database, settings, passwords and uploads, plus each
//! feature's running parts (caches, writers, workers). A feature registers its parts from its own
//! `mod.rs` (`start`) and reads them back through its own accessor; this file names none of them.

use std::sync::Arc;

use crate::auth::password::PasswordService;
use crate::config::Config;
use crate::db::Db;
use crate::storage::Storage;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub passwords: Arc<PasswordService>,
    pub asset_version: String,
    /// Uploaded files (local folder or S3-compatible bucket).
    pub storage: Storage,
    runtime: Arc<Runtime>,
}

/// The features' running parts, by type, registered once at startup.
#[derive(Default)]
pub struct Runtime {
    parts: axum::http::Extensions,
}

impl Runtime {
    /// Registers a feature's part (one value per type).
    pub fn insert<T: Clone + Send + Sync + 'static>(&mut self, part: T) {
        self.parts.insert(part);
    }
}

impl AppState {
    pub fn new(
        db: Db,
        config: Arc<Config>,
        passwords: Arc<PasswordService>,
        asset_version: String,
        storage: Storage,
        runtime: Runtime,
    ) -> AppState {
        AppState {
            db,
            config,
            passwords,
            asset_version,
            storage,
            runtime: Arc::new(runtime),
        }
    }

    /// A part a feature registered at startup. Every feature is started by `app::state`, so a
    /// missing part is a programming error, not a request's.
    pub fn part<T: Clone + Send + Sync + 'static>(&self) -> &T {
        self.runtime.parts.get::<T>().unwrap_or_else(|| {
            panic!(
                "runtime part {} was not registered at startup",
                std::any::type_name::<T>()
            )
        })
    }
}
