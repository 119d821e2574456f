//! The state every handler can reach.

use std::sync::Arc;

use crate::auth::password::PasswordService;
use crate::config::Config;
use crate::db::Db;
use crate::links::clicks::ClickLog;
use crate::links::table::LinkTable;
use crate::matching::pool::PoolCache;
use crate::orders::jobs::ImportWorker;
use crate::storage::Storage;
use crate::tracking::clicks::DailyKey;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub passwords: Arc<PasswordService>,
    pub asset_version: String,
    /// The creator pool as matching ranks it, in memory.
    pub creator_pool: Arc<PoolCache>,
    /// Tracked links by slug, in memory.
    pub links: Arc<LinkTable>,
    /// Clicks waiting for the next batch write.
    pub clicks: ClickLog,
    /// Today's key for visitor hashes (from the server secret).
    pub visitor_key: Arc<DailyKey>,
    /// Uploaded files (local folder or S3-compatible bucket).
    pub storage: Storage,
    /// The order import worker (wake it after queueing a job).
    pub import_worker: ImportWorker,
}
