//! The state every handler can reach.

use std::sync::Arc;

use crate::auth::password::PasswordService;
use crate::config::Config;
use crate::db::Db;
use crate::matching::pool::PoolCache;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub passwords: Arc<PasswordService>,
    pub asset_version: String,
    /// The creator pool as matching ranks it, in memory.
    pub creator_pool: Arc<PoolCache>,
}
