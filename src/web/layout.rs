//! What every page shares: language, the signed-in person, navigation for their role, the
//! tenant switcher and flash messages.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::auth::{CurrentUser, PlatformRole};
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::{Access, Tenant};
use crate::web::lang::Lang;

const FLASH_KEY: &str = "flash";

/// A one-time message shown on the next page. `key` is a catalogue key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    pub kind: String,
    pub key: String,
}

pub async fn flash(session: &Session, kind: &str, key: &str) -> AppResult<()> {
    let mut list: Vec<Flash> = session.get(FLASH_KEY).await?.unwrap_or_default();
    list.push(Flash {
        kind: kind.into(),
        key: key.into(),
    });
    session.insert(FLASH_KEY, list).await?;
    Ok(())
}

pub struct NavItem {
    pub href: String,
    pub label: String,
    pub active: bool,
}

pub struct TenantLink {
    pub slug: String,
    pub name: String,
    pub current: bool,
}

pub struct Layout {
    pub lang: Lang,
    pub title: String,
    pub user_name: Option<String>,
    pub role_label: Option<String>,
    pub nav: Vec<NavItem>,
    pub tenant_name: Option<String>,
    pub tenant_slug: Option<String>,
    pub switcher: Vec<TenantLink>,
    pub flashes: Vec<(String, String)>,
    pub path: String,
    pub asset_v: String,
}

impl Layout {
    /// The colour class of a status chip for a state's code or label key (`web::labels::tone`).
    pub fn tone(&self, code_or_key: &str) -> &'static str {
        crate::web::labels::tone(code_or_key)
    }

    pub fn t(&self, key: impl AsRef<str>) -> String {
        self.lang.t(key.as_ref())
    }

    /// The current tenant's slug ("" outside a tenant).
    pub fn tenant_slug(&self) -> &str {
        self.tenant_slug.as_deref().unwrap_or("")
    }

    /// A page for someone not signed in (login, errors).
    pub fn public(state: &AppState, lang: Lang, title_key: &str, path: &str) -> Layout {
        Layout {
            lang,
            title: lang.t(title_key),
            user_name: None,
            role_label: None,
            nav: Vec::new(),
            tenant_name: None,
            tenant_slug: None,
            switcher: Vec::new(),
            flashes: Vec::new(),
            path: path.to_string(),
            asset_v: state.asset_version.clone(),
        }
    }

    /// Shows (and forgets) the flash messages waiting in the session.
    pub async fn take_flashes(&mut self, session: &Session) -> AppResult<()> {
        let flashes: Vec<Flash> = session.remove(FLASH_KEY).await?.unwrap_or_default();
        self.flashes = flashes
            .into_iter()
            .map(|f| (f.kind, self.lang.t(&f.key)))
            .collect();
        Ok(())
    }

    /// A page for a signed-in person, inside a tenant or on a staff console.
    pub async fn for_user(
        state: &AppState,
        session: &Session,
        lang: Lang,
        user: &CurrentUser,
        tenant: Option<(&Tenant, Access)>,
        title_key: &str,
        path: &str,
    ) -> AppResult<Layout> {
        let mut layout = Layout::public(state, lang, title_key, path);
        layout.user_name = Some(user.display_name.clone());
        layout.role_label = Some(match (tenant, user.platform_role) {
            (Some((_, access)), _) => lang.t(access.label_key()),
            (None, Some(role)) => lang.t(role.label_key()),
            (None, None) => String::new(),
        });
        layout.take_flashes(session).await?;

        let links = crate::tenants::repo::tenants_of_user(&state.db, user).await?;
        layout.switcher = links
            .into_iter()
            .map(|(slug, name)| TenantLink {
                current: tenant.is_some_and(|(t, _)| t.slug == slug),
                slug,
                name,
            })
            .collect();

        let mut nav: Vec<NavItem> = Vec::new();
        let mut item = |href: String, key: &str| {
            nav.push(NavItem {
                active: false,
                href,
                label: lang.t(key),
            })
        };
        match user.platform_role {
            Some(PlatformRole::Admin) => {
                item("/admin".into(), "nav.admin_console");
                item("/admin/tenants".into(), "nav.admin_tenants");
                item("/admin/staff".into(), "nav.admin_staff");
                item("/admin/creators".into(), "nav.creator_pool");
                item("/admin/rates".into(), "nav.reference_rates");
                item("/admin/matching-weights".into(), "nav.matching_weights");
                item("/admin/tiers/predict".into(), "nav.tier_predict");
                item("/admin/checklists".into(), "nav.checklists");
                item("/admin/audit".into(), "nav.audit_log");
            }
            Some(PlatformRole::AccountManager) => {
                item("/am".into(), "nav.work_queue");
                item("/admin/creators".into(), "nav.creator_pool");
                item("/admin/tiers/predict".into(), "nav.tier_predict");
                item("/account/api-tokens".into(), "nav.staff_api_tokens");
            }
            Some(PlatformRole::Finance) => {
                item("/finance".into(), "nav.finance");
                item("/finance/rates".into(), "nav.fx_rates");
                item("/finance/payouts".into(), "nav.payouts");
            }
            None => {}
        }
        if let Some((t, access)) = tenant {
            layout.tenant_name = Some(t.display_name.clone());
            layout.tenant_slug = Some(t.slug.clone());
            let base = format!("/t/{}", t.slug);
            item(format!("{base}/"), "nav.home");
            let active = t.status.is_active();
            if active {
                item(format!("{base}/campaigns"), "nav.campaigns");
                item(format!("{base}/creators"), "nav.creators");
                item(format!("{base}/shops"), "nav.shops");
                item(format!("{base}/orders/imports"), "nav.orders");
                item(format!("{base}/ratings/consistency"), "nav.ratings");
                if matches!(access, Access::Owner | Access::AccountManager) {
                    item(format!("{base}/settlements"), "nav.settlements");
                }
            }
            if access == Access::Owner {
                if active {
                    item(format!("{base}/members"), "nav.members");
                    item(format!("{base}/settings/scorecard"), "nav.scorecard");
                    item(format!("{base}/settings/deductions"), "nav.deductions");
                    item(format!("{base}/settings/api-tokens"), "nav.api_tokens");
                    item(format!("{base}/settings/webhooks"), "nav.webhooks");
                    item(format!("{base}/audit"), "nav.audit_log");
                }
                item(format!("{base}/settings/profile"), "nav.profile");
            }
        }
        // The current page's item: the longest one whose path the page is at or under.
        let current = nav
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                let prefix = n.href.trim_end_matches('/');
                path == n.href || path == prefix || path.starts_with(&format!("{prefix}/"))
            })
            .max_by_key(|(_, n)| n.href.len())
            .map(|(i, _)| i);
        if let Some(i) = current {
            nav[i].active = true;
        }
        layout.nav = nav;
        Ok(layout)
    }
}
