//! `sextant seed-demo`: believable demo data. Idempotent — running it again updates in place and
//! resets the demo passwords to the fixed ones it prints.

pub mod campaigns;
pub mod creators;
pub mod fulfilment;
pub mod orders;
pub mod performance;
pub mod ratings;
pub mod review;
pub mod settlement;

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit;
use crate::auth::password::PasswordService;
use crate::auth::repo as users;
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::{Db, SystemScope};

#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
    pub role: String,
    pub tenant: Option<String>,
    pub tenant_slug: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub users: Vec<DemoUser>,
}

struct DemoTenant {
    slug: &'static str,
    display_name: &'static str,
    legal_name: &'static str,
    licence: &'static str,
    categories: &'static [&'static str],
    markets: &'static [&'static str],
    currency: &'static str,
    fee_rate: &'static str,
    shops: &'static [DemoShop],
    people: &'static [(&'static str, &'static str, &'static str)],
    /// `active`, `pending` (awaiting approval) or `suspended`.
    status: &'static str,
    status_reason: Option<&'static str>,
    /// Whether the company profile has been completed.
    profile_complete: bool,
}

struct DemoShop {
    name: &'static str,
    platform: &'static str,
    url: &'static str,
    time_zone: &'static str,
    date_order: &'static str,
    currency: &'static str,
}

/// The demo staff; the first account manager serves the working sellers, the second none yet
/// (the admin home lists them as waiting for an assignment). Two finance people: a settlement is
/// sent to review by one and finalized by the other (maker and checker).
const STAFF: [(&str, &str, PlatformRole, &str); 5] = [
    (
        "admin@sextant.example",
        "李静 Li Jing",
        PlatformRole::Admin,
        "admin-demo-2026",
    ),
    (
        "am@sextant.example",
        "张伟 Zhang Wei",
        PlatformRole::AccountManager,
        "am-demo-2026",
    ),
    (
        "finance@sextant.example",
        "刘洋 Liu Yang",
        PlatformRole::Finance,
        "finance-demo-2026",
    ),
    (
        "am2@sextant.example",
        "王芳 Wang Fang",
        PlatformRole::AccountManager,
        "am2-demo-2026",
    ),
    (
        "finance2@sextant.example",
        "陈静 Chen Jing",
        PlatformRole::Finance,
        "finance2-demo-2026",
    ),
];

/// A creator pool file uploaded and checked but not yet imported (the admin home lists it): three
/// new creators and one row the import refuses.
const DEMO_POOL_FILE: &str = "demo-pool-december.csv";
const DEMO_POOL_CSV: &str = "handle,display_name,followers,country,markets,languages,categories\n\
    demo.newcomer01,Newcomer One,23000,US,US,en,home_kitchen\n\
    demo.newcomer02,Newcomer Two,41000,GB,GB,en,home_decor\n\
    demo.newcomer03,Newcomer Three,lots,US,US,en,beauty\n\
    demo.newcomer04,Newcomer Four,88000,DE,DE,de,outdoor\n";

const TENANTS: [DemoTenant; 4] = [
    DemoTenant {
        slug: "lumi",
        display_name: "露米家居 Lumi Home",
        legal_name: "深圳市露米家居科技有限公司",
        licence: "91440300MA5G8K2X7Q",
        categories: &["home_kitchen", "home_decor"],
        markets: &["US", "GB"],
        currency: "CNY",
        fee_rate: "0.12",
        shops: &[
            DemoShop {
                name: "Lumi Home US · TikTok Shop",
                platform: "tiktok_shop",
                url: "https://shop.lumi-home.invalid/us",
                time_zone: "America/Los_Angeles",
                date_order: "MDY",
                currency: "USD",
            },
            DemoShop {
                name: "Lumi Home UK · TikTok Shop",
                platform: "tiktok_shop",
                url: "https://shop.lumi-home.invalid/uk",
                time_zone: "Europe/London",
                date_order: "DMY",
                currency: "GBP",
            },
            DemoShop {
                name: "lumihome.invalid · Shopify",
                platform: "shopify",
                url: "https://lumihome.invalid",
                time_zone: "America/New_York",
                date_order: "YMD",
                currency: "USD",
            },
        ],
        people: &[
            ("owner@lumi-home.example", "林晓 Lin Xiao", "owner"),
            (
                "operator@lumi-home.example",
                "陈一鸣 Chen Yiming",
                "operator",
            ),
            ("viewer@lumi-home.example", "王芳 Wang Fang", "viewer"),
        ],
        status: "active",
        status_reason: None,
        profile_complete: true,
    },
    DemoTenant {
        slug: "nordpeak",
        display_name: "北峰户外 Nordpeak Outdoor",
        legal_name: "杭州北峰户外用品有限公司",
        licence: "91330106MA2H3T9L4E",
        categories: &["outdoor", "sports"],
        markets: &["US", "DE", "GB"],
        currency: "USD",
        fee_rate: "0.10",
        shops: &[
            DemoShop {
                name: "Nordpeak US · TikTok Shop",
                platform: "tiktok_shop",
                url: "https://shop.nordpeak.invalid/us",
                time_zone: "America/Chicago",
                date_order: "MDY",
                currency: "USD",
            },
            DemoShop {
                name: "Nordpeak EU · Shopify",
                platform: "shopify",
                url: "https://eu.nordpeak.invalid",
                time_zone: "Europe/Berlin",
                date_order: "DMY",
                currency: "EUR",
            },
            DemoShop {
                name: "Nordpeak DE · Amazon",
                platform: "amazon",
                url: "https://amazon-de.nordpeak.invalid/store",
                time_zone: "Europe/Berlin",
                date_order: "DMY",
                currency: "EUR",
            },
        ],
        people: &[
            ("owner@nordpeak.example", "赵磊 Zhao Lei", "owner"),
            ("operator@nordpeak.example", "孙婷 Sun Ting", "operator"),
            ("viewer@nordpeak.example", "周杰 Zhou Jie", "viewer"),
        ],
        status: "active",
        status_reason: None,
        profile_complete: true,
    },
    DemoTenant {
        slug: "dawnlight",
        display_name: "晨光美妆 Dawnlight Beauty",
        legal_name: "广州晨光化妆品有限公司",
        licence: "91440101MA9W4R7C2K",
        categories: &["beauty"],
        markets: &["US", "MY", "PH"],
        currency: "USD",
        fee_rate: "0.15",
        shops: &[DemoShop {
            name: "Dawnlight US · TikTok Shop",
            platform: "tiktok_shop",
            url: "https://shop.dawnlight.invalid/us",
            time_zone: "America/Los_Angeles",
            date_order: "MDY",
            currency: "USD",
        }],
        people: &[("owner@dawnlight.example", "黄丽 Huang Li", "owner")],
        status: "pending",
        status_reason: None,
        profile_complete: false,
    },
    DemoTenant {
        slug: "toyfort",
        display_name: "潮玩部落 Toyfort",
        legal_name: "义乌市潮玩部落贸易有限公司",
        licence: "91330782MA2E8N5P6U",
        categories: &["toys"],
        markets: &["US", "GB", "DE"],
        currency: "CNY",
        fee_rate: "0.08",
        shops: &[DemoShop {
            name: "Toyfort UK · TikTok Shop",
            platform: "tiktok_shop",
            url: "https://shop.toyfort.invalid/uk",
            time_zone: "Europe/London",
            date_order: "DMY",
            currency: "GBP",
        }],
        people: &[("owner@toyfort.example", "吴强 Wu Qiang", "owner")],
        status: "suspended",
        status_reason: Some("服务协议到期未续签 / Service agreement ran out, not renewed"),
        profile_complete: true,
    },
];

/// How much demo data to make: the command line makes the full pool; tests make what they need.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    pub creators: usize,
    /// Campaigns in every state, with shortlists and collaborations (needs creators).
    pub campaigns: bool,
}

impl DemoSize {
    /// What `sextant seed-demo` and `serve --demo` make.
    pub const FULL: DemoSize = DemoSize {
        creators: 2_000,
        campaigns: true,
    };
    /// People, tenants and shops only.
    pub const PEOPLE: DemoSize = DemoSize {
        creators: 0,
        campaigns: false,
    };

    /// Whether the demo gets its rating history (`ratings`: past campaigns, ratings, tiers and
    /// the confirmed blacklist entry): the full demo does. The smaller demos that tests start
    /// from leave it out, so that their own ratings fixtures start from a tenant nobody has
    /// rated yet (their closed demo campaign stays in evaluating, its ratings due).
    pub fn rating_history(&self) -> bool {
        self.campaigns && self.creators >= RATING_HISTORY_MIN_CREATORS
    }
}

/// The smallest pool that gets the demo's rating history (the full demo's).
pub const RATING_HISTORY_MIN_CREATORS: usize = 1_000;

/// Demo reference rates (labelled as reference rates wherever they are used).
const REFERENCE_RATES: &[(&str, &str, &str)] = &[
    ("USD", "CNY", "7.1200"),
    ("GBP", "USD", "1.2700"),
    ("EUR", "USD", "1.0850"),
    ("USD", "JPY", "149.50"),
    ("USD", "IDR", "15650"),
    ("USD", "THB", "35.80"),
    ("USD", "MYR", "4.6800"),
    ("USD", "PHP", "56.20"),
    ("USD", "VND", "24350"),
    ("USD", "SGD", "1.3400"),
    ("USD", "MXN", "17.10"),
    ("USD", "BRL", "4.9500"),
    ("USD", "SAR", "3.7500"),
    ("USD", "AED", "3.6725"),
];

/// Creates or refreshes the demo staff, tenants, members, shops (and, by `size`, creators and
/// reference rates) in one transaction.
pub async fn seed_demo_with(
    db: &Db,
    passwords: &PasswordService,
    size: DemoSize,
) -> anyhow::Result<DemoReport> {
    let mut report = DemoReport { users: Vec::new() };
    let mut tx = db.system_tx(SystemScope::Cli).await?;

    let mut am_id = None;
    let mut am_user = None;
    for (email, name, role, password) in STAFF {
        let hash = passwords.hash(password).await?;
        let id = users::upsert(&mut tx, email, name, &hash, Some(role)).await?;
        if role == PlatformRole::AccountManager && am_id.is_none() {
            am_id = Some(id);
            am_user = Some(CurrentUser {
                id,
                email: email.into(),
                display_name: name.into(),
                platform_role: Some(role),
            });
        }
        report.users.push(DemoUser {
            email: email.into(),
            password: password.into(),
            role: role.as_str().into(),
            tenant: None,
            tenant_slug: None,
        });
    }

    // The pool file waiting for confirmation, once (a second seeding finds it).
    let waiting: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM creator_imports WHERE filename = $1 AND status = 'validated')",
    )
    .bind(DEMO_POOL_FILE)
    .fetch_one(&mut *tx)
    .await?;
    if let (false, Some(am)) = (waiting, am_user.as_ref()) {
        crate::creators::actions::upload_creator_import(
            &mut tx,
            &crate::auth::Actor::user(am),
            crate::creators::actions::UploadCreatorImport {
                filename: DEMO_POOL_FILE.into(),
                content: DEMO_POOL_CSV.as_bytes().to_vec(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo pool file: {e:?}"))?;
    }

    let mut working: Vec<(Uuid, &str, CurrentUser)> = Vec::new();
    for t in &TENANTS {
        let tenant_id = upsert_tenant(&mut tx, t).await?;
        for shop in t.shops {
            upsert_shop(&mut tx, tenant_id, shop).await?;
        }
        for &(email, name, role) in t.people {
            let password = format!("{role}-demo-2026");
            let hash = passwords.hash(&password).await?;
            let user_id = users::upsert(&mut tx, email, name, &hash, None).await?;
            sqlx::query(
                "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
            report.users.push(DemoUser {
                email: email.into(),
                password,
                role: role.into(),
                tenant: Some(t.display_name.into()),
                tenant_slug: Some(t.slug.into()),
            });
            if role == "owner" && t.status == "active" {
                working.push((
                    tenant_id,
                    t.slug,
                    CurrentUser {
                        id: user_id,
                        email: email.into(),
                        display_name: name.into(),
                        platform_role: None,
                    },
                ));
            }
        }
        // The account manager serves the tenants that are working with the agency.
        if let Some(am) = am_id.filter(|_| t.status != "pending") {
            sqlx::query(
                "INSERT INTO am_assignments (tenant_id, user_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant_id)
            .bind(am)
            .execute(&mut *tx)
            .await?;
        }
    }

    if size.creators > 0 {
        creators::seed_creators(&mut tx, size.creators).await?;
        for (from, to, rate) in REFERENCE_RATES {
            sqlx::query(
                "INSERT INTO reference_rates (id, rate_date, from_ccy, to_ccy, rate) \
                 VALUES ($1, current_date - 1, $2, $3, $4::numeric) \
                 ON CONFLICT (rate_date, from_ccy, to_ccy) DO UPDATE SET rate = EXCLUDED.rate",
            )
            .bind(Uuid::now_v7())
            .bind(from)
            .bind(to)
            .bind(rate)
            .execute(&mut *tx)
            .await?;
        }
        for (tenant_id, slug, owner) in working.iter().filter(|_| size.campaigns) {
            let cast = campaigns::Cast::of(&mut tx, *tenant_id, owner, am_user.as_ref()).await?;
            campaigns::seed_campaigns(&mut tx, *tenant_id, slug, &cast).await?;
            performance::seed_performance(&mut tx, *tenant_id).await?;
            review::seed_review(&mut tx, *tenant_id, &cast).await?;
        }
        deactivate_one_creator(&mut tx, am_user.as_ref()).await?;
    }

    audit::record(
        &mut tx,
        audit::Entry::new("demo.seed", "platform", None)
            .actor(None, "sextant seed-demo".into())
            .after(serde_json::json!({ "users": report.users.len() })),
    )
    .await?;
    tx.commit().await?;
    if size.creators > 0 && size.campaigns {
        orders::seed_orders(db).await?;
        fulfilment::seed_fulfilment(db).await?;
        if size.rating_history() {
            ratings::seed_ratings(db).await?;
            settlement::seed_settlements(db).await?;
        }
    }
    Ok(report)
}

/// Why the demo's one deactivated creator left the pool (also how a second seeding knows it).
const DEMO_DEACTIVATION: &str = "账号已注销 / The account was closed on TikTok";

/// Deactivates one creator nobody has shortlisted or booked, once, so the pool shows a creator
/// out of matching with its status history.
async fn deactivate_one_creator(
    tx: &mut PgConnection,
    am: Option<&CurrentUser>,
) -> anyhow::Result<()> {
    let done: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM creator_status_changes WHERE reason = $1)",
    )
    .bind(DEMO_DEACTIVATION)
    .fetch_one(&mut *tx)
    .await?;
    let Some(am) = am.filter(|_| !done) else {
        return Ok(());
    };
    let free: Option<Uuid> = sqlx::query_scalar(
        "SELECT c.id FROM creators c WHERE c.active \
           AND NOT EXISTS (SELECT 1 FROM shortlist_entries e WHERE e.creator_id = c.id) \
           AND NOT EXISTS (SELECT 1 FROM collaborations l WHERE l.creator_id = c.id) \
         ORDER BY c.handle DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = free {
        crate::creators::actions::set_creator_active(
            tx,
            &crate::auth::Actor::user(am),
            crate::creators::actions::SetCreatorActive {
                creator_id: id,
                active: false,
                reason: DEMO_DEACTIVATION.into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo deactivation: {e:?}"))?;
    }
    Ok(())
}

/// The people, tenants and shops of the demo (what most tests start from).
pub async fn seed_demo(db: &Db, passwords: &PasswordService) -> anyhow::Result<DemoReport> {
    seed_demo_with(db, passwords, DemoSize::PEOPLE).await
}

async fn upsert_tenant(conn: &mut PgConnection, t: &DemoTenant) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO tenants (id, slug, display_name, legal_name, business_licence_no, \
           main_categories, target_markets, status, settlement_currency, service_fee_rate, \
           status_reason, profile_completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $10, $8, $9::numeric, $11, \
           CASE WHEN $12 THEN now() END) \
         ON CONFLICT (slug) DO UPDATE SET display_name = EXCLUDED.display_name, \
           legal_name = EXCLUDED.legal_name, business_licence_no = EXCLUDED.business_licence_no, \
           main_categories = EXCLUDED.main_categories, target_markets = EXCLUDED.target_markets, \
           status = EXCLUDED.status, status_reason = EXCLUDED.status_reason, \
           settlement_currency = EXCLUDED.settlement_currency, \
           service_fee_rate = EXCLUDED.service_fee_rate, \
           profile_completed_at = CASE WHEN $12 THEN coalesce(tenants.profile_completed_at, now()) END, \
           updated_at = now() \
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(t.slug)
    .bind(t.display_name)
    .bind(t.legal_name)
    .bind(t.licence)
    .bind(t.categories)
    .bind(t.markets)
    .bind(t.currency)
    .bind(t.fee_rate)
    .bind(t.status)
    .bind(t.status_reason)
    .bind(t.profile_complete)
    .fetch_one(conn)
    .await
}

async fn upsert_shop(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    s: &DemoShop,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO shops (tenant_id, id, name, platform, url, time_zone, date_order, currency) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET platform = EXCLUDED.platform, \
           url = EXCLUDED.url, time_zone = EXCLUDED.time_zone, date_order = EXCLUDED.date_order, \
           currency = EXCLUDED.currency",
    )
    .bind(tenant_id)
    .bind(Uuid::now_v7())
    .bind(s.name)
    .bind(s.platform)
    .bind(s.url)
    .bind(s.time_zone)
    .bind(s.date_order)
    .bind(s.currency)
    .execute(conn)
    .await?;
    Ok(())
}
