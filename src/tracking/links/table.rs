//! The slug table the redirect answers from: every tracked link with its finished target URL,
//! held in memory and reloaded when the `tracked_links` cache version moves (checked every second, and at
//! once when a slug is not found, so a link created a moment ago already works).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sqlx::PgConnection;
use uuid::Uuid;

use super::repo::{self, LinkRow};
use crate::db::{Db, SystemScope};

/// Where one slug leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    pub tenant_id: Uuid,
    pub collaboration_id: Uuid,
    /// The product URL with the UTM parameters of SPEC §5.
    pub location: String,
}

/// SPEC §5: `utm_source=tiktok`, `utm_medium=creator`, `utm_campaign=<campaign code>`,
/// `utm_content=<creator handle>`, replacing any UTM parameters the product URL already has and
/// keeping the rest (and its fragment). None when the product URL is missing or not http(s).
pub fn target_url(product_url: &str, campaign_code: &str, handle: &str) -> Option<String> {
    let mut url = url::Url::parse(product_url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("utm_source", "tiktok")
        .append_pair("utm_medium", "creator")
        .append_pair("utm_campaign", campaign_code)
        .append_pair("utm_content", handle);
    Some(url.into())
}

fn target_of(row: LinkRow) -> Option<(String, Arc<LinkTarget>)> {
    let location = target_url(
        row.product_url.as_deref()?,
        row.campaign_code.as_deref().unwrap_or(""),
        &row.handle,
    )?;
    Some((
        row.link_slug,
        Arc::new(LinkTarget {
            tenant_id: row.tenant_id,
            collaboration_id: row.collaboration_id,
            location,
        }),
    ))
}

struct Snapshot {
    version: i64,
    slugs: HashMap<String, Arc<LinkTarget>>,
}

/// Every tracked link, by slug.
pub struct LinkTable {
    current: RwLock<Arc<Snapshot>>,
    reload: tokio::sync::Mutex<()>,
}

impl Default for LinkTable {
    fn default() -> Self {
        LinkTable {
            current: RwLock::new(Arc::new(Snapshot {
                version: -1,
                slugs: HashMap::new(),
            })),
            reload: tokio::sync::Mutex::new(()),
        }
    }
}

impl LinkTable {
    /// From memory only: never waits on the database.
    pub fn get(&self, slug: &str) -> Option<Arc<LinkTarget>> {
        self.snapshot().slugs.get(slug).cloned()
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn len(&self) -> usize {
        self.snapshot().slugs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reloads the table if the links changed since it was loaded; true if it did.
    pub async fn refresh(&self, db: &Db) -> Result<bool, sqlx::Error> {
        let _one_at_a_time = self.reload.lock().await;
        let mut tx = db.system_tx(SystemScope::RedirectLookup).await?;
        let version = repo::links_version(&mut tx).await?;
        if version == self.snapshot().version {
            return Ok(false);
        }
        let slugs = load(&mut tx).await?;
        tx.commit().await?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(Snapshot { version, slugs });
        Ok(true)
    }

    /// A slug memory does not know: reload if the links changed, then look again.
    pub async fn get_or_refresh(
        &self,
        db: &Db,
        slug: &str,
    ) -> Result<Option<Arc<LinkTarget>>, sqlx::Error> {
        if let Some(t) = self.get(slug) {
            return Ok(Some(t));
        }
        self.refresh(db).await?;
        Ok(self.get(slug))
    }
}

async fn load(conn: &mut PgConnection) -> Result<HashMap<String, Arc<LinkTarget>>, sqlx::Error> {
    // Read after the version: the rows are at least as new as it, so a change committed in
    // between is loaded now and reloaded (harmlessly) at the next check.
    let rows = repo::all_links(conn).await?;
    Ok(rows.into_iter().filter_map(target_of).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_carries_the_utm_parameters_and_keeps_the_rest() {
        assert_eq!(
            target_url(
                "https://shop.lumi.invalid/p/1?variant=2&utm_source=old#reviews",
                "LUMI-2026-001",
                "anna.home"
            )
            .as_deref(),
            Some(
                "https://shop.lumi.invalid/p/1?variant=2&utm_source=tiktok&utm_medium=creator\
                 &utm_campaign=LUMI-2026-001&utm_content=anna.home#reviews"
            )
        );
        assert_eq!(
            target_url("http://x.invalid", "C 1&2", "h").as_deref(),
            Some(
                "http://x.invalid/?utm_source=tiktok&utm_medium=creator&utm_campaign=C+1%262&utm_content=h"
            )
        );
    }

    #[test]
    fn no_target_without_a_web_address() {
        for bad in [
            "",
            "not a url",
            "javascript:alert(1)",
            "ftp://x.invalid/f",
            "mailto:a@b.c",
        ] {
            assert_eq!(target_url(bad, "C", "h"), None, "{bad}");
        }
    }
}
