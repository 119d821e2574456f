//! Settlement (issue 16): a month computed from contracts, posts, orders and fulfilment records;
//! rates; maker and checker; periods in order; append-only finalized rows and the hash that
//! catches an edit behind the app's back; payments; exports read back; roles and tenant
//! isolation; bad input beside its field with nothing stored.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_decimal::Decimal;
use sextant::auth::Actor;
use sextant::db::SystemScope;
use sextant::error::DomainError;
use sextant::settlement::actions::{
    self, AdjustmentInput, PaymentInput, PeriodOf, SetRates, parse_period,
};
use sextant::settlement::repo::{self, TenantRow};
use sextant::web::lang::Lang;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

use crate::support::*;

pub(crate) const FINANCE2: (&str, &str) = ("finance2@sextant.example", "finance2-demo-2026");

pub(crate) fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(crate) fn month(code: &str) -> Date {
    parse_period(code).unwrap()
}

/// A tenant of the demo's people (no demo campaigns), with one campaign of our own, a TikTok
/// Shop and a Shopify shop: every collaboration, post and order below is placed by hand, so each
/// month holds exactly what a test puts in it.
pub(crate) struct Fx {
    pub app: TestApp,
    pub tenant: Uuid,
    pub campaign: Uuid,
    pub tiktok: Uuid,
    pub shopify: Uuid,
    pub creators: Vec<Uuid>,
}

/// Terms as stored, in the shape `contracts::domain::Terms` reads.
pub(crate) fn terms(fee: Option<(&str, &str)>, commission: &str, videos: u32) -> serde_json::Value {
    let model = match (fee.is_some(), commission != "0") {
        (true, true) => "fixed_plus_commission",
        (true, false) => "fixed",
        _ => "commission_only",
    };
    serde_json::json!({
        "fee_model": model,
        "fixed_fee": fee.map(|f| f.0),
        "fixed_fee_currency": fee.map(|f| f.1),
        "commission_rate": commission,
        "service_fee_rate": "0.1",
        "videos": videos,
        "live_sessions": 0,
        "publish_deadline": "2026-09-30",
        "min_days_live": 30,
        "revisions_included": 2,
        "usage_rights": "organic_only",
        "paid_ads_until": null,
        "sample": null,
        "discount_code": "X",
    })
}

impl Fx {
    pub(crate) async fn new() -> Fx {
        let app = TestApp::with_demo_size(sextant::seed::DemoSize {
            creators: 12,
            campaigns: false,
        })
        .await;
        let tenant = app.tenant_id("lumi").await;
        let mut c = app.owner_conn().await;
        let campaign = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO campaigns (tenant_id, id, code, state, title, data) \
             VALUES ($1, $2, 'LUMI-SETTLE', 'running', 'Settlement test', '{}')",
        )
        .bind(tenant)
        .bind(campaign)
        .execute(&mut c)
        .await
        .unwrap();
        let shop = |platform: &'static str| {
            sqlx::query_scalar::<_, Uuid>(
                "SELECT id FROM shops WHERE tenant_id = $1 AND platform = $2 ORDER BY name LIMIT 1",
            )
            .bind(tenant)
            .bind(platform)
        };
        let tiktok = shop("tiktok_shop").fetch_one(&mut c).await.unwrap();
        let shopify = shop("shopify").fetch_one(&mut c).await.unwrap();
        let creators = sqlx::query_scalar("SELECT id FROM creators ORDER BY handle LIMIT 6")
            .fetch_all(&mut c)
            .await
            .unwrap();
        Fx {
            app,
            tenant,
            campaign,
            tiktok,
            shopify,
            creators,
        }
    }

    pub(crate) async fn conn(&self) -> PgConnection {
        self.app.owner_conn().await
    }

    /// A collaboration of creator `n` in `state`, created at `created` (which starts the
    /// tenant's first period), under `terms`.
    pub(crate) async fn collab(
        &self,
        n: usize,
        state: &str,
        created: &str,
        terms: serde_json::Value,
    ) -> Uuid {
        let mut c = self.conn().await;
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, \
             discount_code, link_slug, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz)",
        )
        .bind(self.tenant)
        .bind(id)
        .bind(self.campaign)
        .bind(self.creators[n])
        .bind(state)
        .bind(format!("CODE{n}"))
        .bind(format!("settle{n}x"))
        .bind(created)
        .execute(&mut c)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms) \
             VALUES ($1, $2, 1, $3)",
        )
        .bind(self.tenant)
        .bind(id)
        .bind(terms)
        .execute(&mut c)
        .await
        .unwrap();
        id
    }

    pub(crate) async fn post(&self, collab: Uuid, published: &str) {
        let mut c = self.conn().await;
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6::timestamptz)",
        )
        .bind(self.tenant)
        .bind(id)
        .bind(collab)
        .bind(format!(
            "https://www.tiktok.invalid/@x/video/{}",
            id.as_u128()
        ))
        .bind(id.to_string())
        .bind(published)
        .execute(&mut c)
        .await
        .unwrap();
    }

    /// An imported batch of `shop` exported at `exported`.
    pub(crate) async fn import(&self, shop: Uuid, exported: &str) -> Uuid {
        let mut c = self.conn().await;
        let upload = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO uploads (tenant_id, id, purpose, filename, bytes, sha256, storage_key) \
             VALUES ($1, $2, 'orders', $3, 1, 'x', $4)",
        )
        .bind(self.tenant)
        .bind(upload)
        .bind(format!("orders-{exported}.csv"))
        .bind(format!("tenants/{}/orders/{upload}", self.tenant))
        .execute(&mut c)
        .await
        .unwrap();
        let id = Uuid::now_v7();
        let format = if shop == self.tiktok {
            "tiktok_affiliate"
        } else {
            "shopify"
        };
        sqlx::query(
            "INSERT INTO order_imports (tenant_id, id, shop_id, upload_id, format, exported_at, \
             state) VALUES ($1, $2, $3, $4, $5, $6::timestamptz, 'imported')",
        )
        .bind(self.tenant)
        .bind(id)
        .bind(shop)
        .bind(upload)
        .bind(format)
        .bind(exported)
        .execute(&mut c)
        .await
        .unwrap();
        id
    }

    /// One order line in `import`, attributed to `collab`, paid at `paid`: TikTok lines carry
    /// their actual commission base and payment; Shopify lines their subtotal.
    pub(crate) async fn order(&self, import: Uuid, collab: Option<Uuid>, o: Order<'_>) {
        let mut c = self.conn().await;
        let shop: Uuid = sqlx::query_scalar("SELECT shop_id FROM order_imports WHERE id = $1")
            .bind(import)
            .fetch_one(&mut c)
            .await
            .unwrap();
        let exported: time::OffsetDateTime =
            sqlx::query_scalar("SELECT exported_at FROM order_imports WHERE id = $1")
                .bind(import)
                .fetch_one(&mut c)
                .await
                .unwrap();
        let tiktok = shop == self.tiktok;
        sqlx::query(
            "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, line_key, \
             exported_at, placed_at, status, currency, amount, refunded_amount, fully_refunded, \
             commission_rate, paid_at, actual_commission_base, actual_commission, subtotal) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, 'completed', $8, $9, $10, $11, \
                     $12, $7::timestamptz, $13, $14, $15)",
        )
        .bind(self.tenant)
        .bind(import)
        .bind(shop)
        .bind(o.key)
        .bind(if tiktok { "sku" } else { "" })
        .bind(exported)
        .bind(o.paid)
        .bind(o.currency)
        .bind(d(o.amount))
        .bind(if o.refunded {
            d(o.amount)
        } else {
            Decimal::ZERO
        })
        .bind(o.refunded)
        .bind(o.export_rate.map(d))
        .bind(tiktok.then(|| d(o.amount)))
        .bind(o.actual.map(d))
        .bind((!tiktok).then(|| d(o.amount)))
        .execute(&mut c)
        .await
        .unwrap();
        if let Some(collab) = collab {
            sqlx::query(
                "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
                 collaboration_id, attributed_by) VALUES ($1, $2, $3, $4, $5, 'person') \
                 ON CONFLICT DO NOTHING",
            )
            .bind(self.tenant)
            .bind(shop)
            .bind(o.key)
            .bind(if tiktok { "sku" } else { "" })
            .bind(collab)
            .execute(&mut c)
            .await
            .unwrap();
        }
    }

    pub(crate) async fn tenant_row(&self) -> TenantRow {
        let mut tx = self.app.db.system_tx(SystemScope::Cli).await.unwrap();
        repo::tenant_by_slug(&mut tx, "lumi")
            .await
            .unwrap()
            .unwrap()
    }

    pub(crate) async fn finance(&self, who: &str) -> Actor {
        self.app.staff_actor(who).await
    }

    /// Runs a finance action in a system scope; commits when it succeeds.
    pub(crate) async fn run<T>(
        &self,
        who: &str,
        f: impl AsyncFnOnce(&mut PgConnection, &Actor, &TenantRow) -> Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let actor = self.finance(who).await;
        let tenant = self.tenant_row().await;
        let mut tx = self.app.db.system_tx(SystemScope::Cli).await.unwrap();
        let out = f(&mut tx, &actor, &tenant).await;
        if out.is_ok() {
            tx.commit().await.unwrap();
        }
        out
    }

    pub(crate) async fn rate(&self, period: &str, currency: &str, rate: &str) {
        let p = month(period);
        self.run(FINANCE.0, async |tx, a, _| {
            actions::set_rates(
                tx,
                a,
                SetRates {
                    period: Some(p),
                    rates: vec![(currency.into(), "CNY".into(), rate.into())],
                },
            )
            .await
        })
        .await
        .unwrap();
    }

    /// Computes, sends to review (finance) and finalizes (finance2) a month.
    pub(crate) async fn settle(&self, period: &str) -> Uuid {
        let p = month(period);
        self.run(FINANCE.0, async |tx, a, t| {
            actions::compute_draft(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: p,
                },
            )
            .await
        })
        .await
        .unwrap();
        self.run(FINANCE.0, async |tx, a, t| {
            actions::send_to_review(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: p,
                },
            )
            .await
        })
        .await
        .unwrap();
        self.run(FINANCE2.0, async |tx, a, t| {
            actions::finalize(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: p,
                },
            )
            .await
        })
        .await
        .unwrap()
    }

    /// The stored lines of a finalized settlement: (handle's creator index, component,
    /// currency, amount, payable).
    pub(crate) async fn lines(
        &self,
        settlement: Uuid,
    ) -> Vec<(Uuid, String, String, Decimal, bool)> {
        let mut c = self.conn().await;
        sqlx::query_as(
            "SELECT collaboration_id, component, currency::text, amount, payable \
               FROM settlement_lines WHERE settlement_id = $1 ORDER BY collaboration_id, component, currency",
        )
        .bind(settlement)
        .fetch_all(&mut c)
        .await
        .unwrap()
    }
}

pub(crate) struct Order<'a> {
    pub key: &'a str,
    pub currency: &'a str,
    pub amount: &'a str,
    pub paid: &'a str,
    pub refunded: bool,
    pub actual: Option<&'a str>,
    pub export_rate: Option<&'a str>,
}

pub(crate) fn order<'a>(
    key: &'a str,
    currency: &'a str,
    amount: &'a str,
    paid: &'a str,
) -> Order<'a> {
    Order {
        key,
        currency,
        amount,
        paid,
        refunded: false,
        actual: None,
        export_rate: None,
    }
}

fn refused<T: std::fmt::Debug>(r: Result<T, DomainError>, key: &str) {
    match r {
        Err(DomainError::Refused(k)) => assert_eq!(k, key),
        other => panic!("expected refusal {key}, got {other:?}"),
    }
}

fn find<'a>(
    lines: &'a [(Uuid, String, String, Decimal, bool)],
    collab: Uuid,
    component: &str,
) -> Vec<&'a (Uuid, String, String, Decimal, bool)> {
    lines
        .iter()
        .filter(|l| l.0 == collab && l.1 == component)
        .collect()
}

#[tokio::test]
async fn a_month_settles_from_its_contract_posts_orders_and_records_and_its_hash_verifies() {
    let fx = Fx::new().await;
    // 600 USD for one video + 10% commission, rated (it moves to settled when finalized).
    let a = fx
        .collab(
            0,
            "rated",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("600.00", "USD")), "0.1", 1),
        )
        .await;
    fx.post(a, "2026-09-10T12:00:00+08:00").await;
    let tt = fx.import(fx.tiktok, "2026-10-02T00:00:00Z").await;
    fx.order(
        tt,
        Some(a),
        Order {
            actual: Some("9.00"),
            export_rate: Some("0.1"),
            ..order("T-1", "USD", "100.00", "2026-09-12T10:00:00+08:00")
        },
    )
    .await;
    let sh = fx.import(fx.shopify, "2026-10-02T00:00:00Z").await;
    fx.order(
        sh,
        Some(a),
        order("#1001", "USD", "250.00", "2026-09-20T10:00:00+08:00"),
    )
    .await;
    // Paid in October: not September's.
    fx.order(
        sh,
        Some(a),
        order("#1002", "USD", "80.00", "2026-10-01T00:30:00+08:00"),
    )
    .await;
    fx.rate("2026-09", "USD", "7.1").await;
    let s = fx.settle("2026-09").await;

    let lines = fx.lines(s).await;
    let fee = find(&lines, a, "fixed_fee");
    assert_eq!(
        (fee[0].2.as_str(), fee[0].3, fee[0].4),
        ("USD", d("600.0000"), true)
    );
    let commission = find(&lines, a, "commission");
    assert_eq!(commission.len(), 2, "TikTok's and the shop's: {lines:?}");
    let tiktok = commission.iter().find(|l| !l.4).unwrap();
    assert_eq!(tiktok.3, d("10"), "platform-paid, shown but not payable");
    let shop = commission.iter().find(|l| l.4).unwrap();
    assert_eq!(
        shop.3,
        d("25"),
        "10% of 250 paid through the agency; #1002 is October's"
    );
    // Service fee 10% of fee + all commission (platform-paid included): 10% × 635 = 63.5.
    assert_eq!(find(&lines, a, "service_fee")[0].3, d("63.5"));

    let mut c = fx.conn().await;
    let (total_seller, total_creators, hash, prev): (Decimal, Decimal, String, String) =
        sqlx::query_as(
            "SELECT total_seller, total_creators, hash, previous_hash FROM settlements WHERE id = $1",
        )
        .bind(s)
        .fetch_one(&mut c)
        .await
        .unwrap();
    // Seller: (600 + 25 + 63.5) × 7.1 = 4260 + 177.5 + 450.85 = 4888.35; creators 4437.5.
    assert_eq!(total_seller, d("4888.35"));
    assert_eq!(total_creators, d("4437.50"));
    assert_eq!(prev, "", "the tenant's first settlement");
    assert_eq!(hash.len(), 64);
    let state: String = sqlx::query_scalar("SELECT state FROM collaborations WHERE id = $1")
        .bind(a)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(
        state, "settled",
        "rated → settled when its settlement is finalized"
    );

    let v = fx
        .run(FINANCE.0, async |tx, a, t| {
            actions::verify(tx, a, t, s).await
        })
        .await
        .unwrap();
    assert!(v.ok(), "{v:?}");
}

#[tokio::test]
async fn a_refund_after_finalizing_appears_once_in_the_next_period() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "tracking",
            "2026-09-02T10:00:00+08:00",
            terms(None, "0.1", 1),
        )
        .await;
    let sh = fx.import(fx.shopify, "2026-10-01T00:00:00Z").await;
    fx.order(
        sh,
        Some(a),
        order("#2001", "USD", "300.00", "2026-09-15T10:00:00+08:00"),
    )
    .await;
    for p in ["2026-09", "2026-10", "2026-11"] {
        fx.rate(p, "USD", "7").await;
    }
    let sep = fx.settle("2026-09").await;
    assert_eq!(find(&fx.lines(sep).await, a, "commission")[0].3, d("30"));
    // A later export: the order was refunded after September was finalized.
    let later = fx.import(fx.shopify, "2026-10-20T00:00:00Z").await;
    fx.order(
        later,
        Some(a),
        Order {
            refunded: true,
            ..order("#2001", "USD", "300.00", "2026-09-15T10:00:00+08:00")
        },
    )
    .await;
    let oct = fx.settle("2026-10").await;
    let lines = fx.lines(oct).await;
    assert_eq!(find(&lines, a, "commission")[0].3, d("-30"), "{lines:?}");
    assert_eq!(find(&lines, a, "service_fee")[0].3, d("-3"));
    // Once: November holds nothing more for it.
    let nov = fx.settle("2026-11").await;
    assert!(find(&fx.lines(nov).await, a, "commission").is_empty());
}

#[tokio::test]
async fn a_missing_rate_blocks_review_and_names_the_currency() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("500.00", "EUR")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-05T12:00:00+08:00").await;
    let p = month("2026-09");
    fx.run(FINANCE.0, async |tx, a, t| {
        actions::compute_draft(
            tx,
            a,
            PeriodOf {
                tenant: t,
                period: p,
            },
        )
        .await
    })
    .await
    .unwrap();
    let draft = fx
        .run(FINANCE.0, async |tx, _, t| {
            Ok(repo::draft(tx, t.id, p, false).await?)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft.missing_rates, vec!["EUR".to_string()]);
    assert_eq!(
        draft.total_seller, None,
        "no totals while a rate is missing"
    );
    refused(
        fx.run(FINANCE.0, async |tx, a, t| {
            actions::send_to_review(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: p,
                },
            )
            .await
        })
        .await,
        actions::E_MISSING_RATE,
    );
    // The page names the currency, in both languages.
    let client = fx.app.login(FINANCE.0, FINANCE.1).await;
    for lang in ["zh-CN", "en"] {
        let html = fx
            .app
            .get_ok_in(&client, "/finance/t/lumi/periods/2026-09", lang)
            .await;
        let l = Lang::parse(lang).unwrap();
        let message = l.t_with(
            "settlement.error.missing_rate_named",
            &[("currencies", "EUR"), ("period", "2026-09"), ("to", "CNY")],
        );
        assert!(html.contains(&message), "{lang}: {message}");
    }
    // With the rate, the draft has its totals.
    fx.rate("2026-09", "EUR", "7.8").await;
    fx.run(FINANCE.0, async |tx, a, t| {
        actions::compute_draft(
            tx,
            a,
            PeriodOf {
                tenant: t,
                period: p,
            },
        )
        .await
    })
    .await
    .unwrap();
    let draft = fx
        .run(FINANCE.0, async |tx, _, t| {
            Ok(repo::draft(tx, t.id, p, false).await?)
        })
        .await
        .unwrap()
        .unwrap();
    // 500 + 10% service = 550 EUR × 7.8.
    assert_eq!(draft.total_seller, Some(d("4290.0000")));
}

#[tokio::test]
async fn maker_and_checker_are_two_people_and_periods_finalize_in_order() {
    let fx = Fx::new().await;
    // Created in August, first post in September: August is an empty month.
    let a = fx
        .collab(
            0,
            "published",
            "2026-08-20T10:00:00+08:00",
            terms(Some(("100.00", "CNY")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-05T12:00:00+08:00").await;
    let (aug, sep) = (month("2026-08"), month("2026-09"));
    for p in [aug, sep] {
        fx.run(FINANCE.0, async |tx, a, t| {
            actions::compute_draft(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: p,
                },
            )
            .await
        })
        .await
        .unwrap();
        fx.run(FINANCE.0, async |tx, a, t| {
            actions::send_to_review(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: p,
                },
            )
            .await
        })
        .await
        .unwrap();
    }
    // September before August: refused.
    refused(
        fx.run(FINANCE2.0, async |tx, a, t| {
            actions::finalize(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: sep,
                },
            )
            .await
        })
        .await,
        actions::E_OUT_OF_ORDER,
    );
    // The maker cannot check.
    refused(
        fx.run(FINANCE.0, async |tx, a, t| {
            actions::finalize(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: aug,
                },
            )
            .await
        })
        .await,
        actions::E_SAME_PERSON,
    );
    // An account manager is not finance at all.
    let am = fx.app.staff_actor(ACCOUNT_MANAGER.0).await;
    let tenant = fx.tenant_row().await;
    let mut tx = fx.app.db.system_tx(SystemScope::Cli).await.unwrap();
    let r = actions::finalize(
        &mut tx,
        &am,
        PeriodOf {
            tenant: &tenant,
            period: aug,
        },
    )
    .await;
    assert!(matches!(r, Err(DomainError::Forbidden)), "{r:?}");
    drop(tx);
    // The empty month finalizes empty, and September chains to it.
    let first = fx
        .run(FINANCE2.0, async |tx, a, t| {
            actions::finalize(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: aug,
                },
            )
            .await
        })
        .await
        .unwrap();
    assert!(fx.lines(first).await.is_empty());
    // September's draft was computed before August was finalized: stale, recompute first.
    refused(
        fx.run(FINANCE2.0, async |tx, a, t| {
            actions::finalize(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: sep,
                },
            )
            .await
        })
        .await,
        actions::E_STALE,
    );
    let second = fx.settle("2026-09").await;
    let mut c = fx.conn().await;
    let hashes: Vec<(String, String)> =
        sqlx::query_as("SELECT hash, previous_hash FROM settlements ORDER BY period")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(hashes[1].1, hashes[0].0, "September chains to August");
    assert_eq!(fx.lines(second).await.len(), 2, "fee and service fee");
    // An adjustment by the would-be checker bars them from finalizing.
    let oct = month("2026-10");
    let collab = a.to_string();
    fx.run(FINANCE2.0, async |tx, who, t| {
        actions::add_adjustment(
            tx,
            who,
            PeriodOf {
                tenant: t,
                period: oct,
            },
            AdjustmentInput {
                collaboration: collab.clone(),
                currency: "CNY".into(),
                amount: "-20".into(),
                reason: "Goodwill credit".into(),
            },
        )
        .await
    })
    .await
    .unwrap();
    fx.run(FINANCE.0, async |tx, a, t| {
        actions::send_to_review(
            tx,
            a,
            PeriodOf {
                tenant: t,
                period: oct,
            },
        )
        .await
    })
    .await
    .unwrap();
    refused(
        fx.run(FINANCE2.0, async |tx, a, t| {
            actions::finalize(
                tx,
                a,
                PeriodOf {
                    tenant: t,
                    period: oct,
                },
            )
            .await
        })
        .await,
        actions::E_ADJUSTED_BY_CHECKER,
    );
}

#[tokio::test]
async fn finalized_rows_refuse_change_and_an_edit_behind_the_apps_back_fails_verification() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("100.00", "CNY")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-05T12:00:00+08:00").await;
    let s = fx.settle("2026-09").await;
    fx.run(FINANCE.0, async |tx, a, t| {
        actions::record_payment(
            tx,
            a,
            t,
            s,
            PaymentInput {
                paid_on: "2026-10-05".into(),
                amount: "50".into(),
                reference: "BANK-1".into(),
            },
        )
        .await
    })
    .await
    .unwrap();
    // As the app's role (tenant scope): UPDATE, DELETE and TRUNCATE all refused.
    for sql in [
        "UPDATE settlements SET total_seller = 1",
        "DELETE FROM settlements",
        "TRUNCATE settlements CASCADE",
        "UPDATE settlement_lines SET amount = 1",
        "DELETE FROM settlement_lines",
        "TRUNCATE settlement_lines",
        "UPDATE settlement_payments SET amount = 1",
        "DELETE FROM settlement_payments",
        "TRUNCATE settlement_payments",
    ] {
        let mut tx = fx.app.db.tenant_tx(fx.tenant, None).await.unwrap();
        let r = sqlx::query(sql).execute(&mut *tx).await;
        assert!(r.is_err(), "{sql} must be refused");
    }
    // Even the owner of the tables is refused while the triggers are on.
    let mut c = fx.conn().await;
    assert!(
        sqlx::query("UPDATE settlement_lines SET amount = amount + 1")
            .execute(&mut c)
            .await
            .is_err()
    );
    // A superuser who disables the trigger and edits one amount is caught by verify.
    sqlx::query("ALTER TABLE settlement_lines DISABLE TRIGGER settlement_lines_append_only")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE settlement_lines SET amount = amount + 1 \
          WHERE id = (SELECT id FROM settlement_lines WHERE settlement_id = $1 LIMIT 1)",
    )
    .bind(s)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query("ALTER TABLE settlement_lines ENABLE ALWAYS TRIGGER settlement_lines_append_only")
        .execute(&mut c)
        .await
        .unwrap();
    let v = fx
        .run(FINANCE.0, async |tx, a, t| {
            actions::verify(tx, a, t, s).await
        })
        .await
        .unwrap();
    assert!(!v.hash_matches && v.chain_matches, "{v:?}");
    // The button says so on the page, and the check is audited.
    let client = fx.app.login(FINANCE.0, FINANCE.1).await;
    let res = fx
        .app
        .post_form(&client, "/finance/t/lumi/periods/2026-09/verify", &[])
        .await;
    assert_eq!(res.status(), 303);
    let html = fx
        .app
        .get_ok_in(&client, "/finance/t/lumi/periods/2026-09", "en")
        .await;
    assert!(html.contains(&Lang::parse("en").unwrap().t("settlement.verify.broken")));
    let audit = fx.app.audit_of(&s.to_string()).await;
    assert!(
        audit
            .iter()
            .any(|(action, _, after)| action == "settlement.verify"
                && after.as_ref().unwrap()["hash_matches"] == false),
        "{audit:?}"
    );
}

#[tokio::test]
async fn a_deduction_above_the_creators_pay_carries_forward_and_a_sample_the_agency_paid_is_billed()
{
    let fx = Fx::new().await;
    let mut t = terms(Some(("100.00", "USD")), "0", 1);
    t["sample"] = serde_json::json!({
        "sku": "LAMP-01", "qty": 1, "cost": "20.00", "shipping": "5.00",
        "cost_currency": "USD", "paid_by_agency": true,
    });
    let a = fx
        .collab(0, "published", "2026-09-02T10:00:00+08:00", t)
        .await;
    fx.post(a, "2026-09-05T12:00:00+08:00").await;
    let mut c = fx.conn().await;
    sqlx::query(
        "UPDATE collaborations SET sample_shipped_at = '2026-09-03T10:00:00+08:00' WHERE id = $1",
    )
    .bind(a)
    .execute(&mut c)
    .await
    .unwrap();
    // A fulfilment record worth 130 USD (more than the 100 USD the creator earns).
    sqlx::query(
        "INSERT INTO deduction_policies (tenant_id, id, version, rules) \
         VALUES ($1, $2, 1, '[]') ON CONFLICT DO NOTHING",
    )
    .bind(fx.tenant)
    .bind(Uuid::now_v7())
    .execute(&mut c)
    .await
    .unwrap();
    let creator: Uuid = sqlx::query_scalar("SELECT creator_id FROM collaborations WHERE id = $1")
        .bind(a)
        .fetch_one(&mut c)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO fulfilment_records (tenant_id, id, collaboration_id, creator_id, kind, \
         severity, occurred_at, policy_version, points, money_amount, money_currency, \
         recorded_by_label, recorded_at) VALUES ($1, $2, $3, $4, 'cart_link_missing', 'major', \
         '2026-09-06T10:00:00+08:00', 1, 1, 130, 'USD', 'test', '2026-09-06T10:00:00+08:00')",
    )
    .bind(fx.tenant)
    .bind(Uuid::now_v7())
    .bind(a)
    .bind(creator)
    .execute(&mut c)
    .await
    .unwrap();
    fx.rate("2026-09", "USD", "7").await;
    fx.rate("2026-10", "USD", "7").await;
    let sep = fx.settle("2026-09").await;
    let lines = fx.lines(sep).await;
    assert_eq!(
        find(&lines, a, "sample_cost")[0].3,
        d("25"),
        "cost + shipping"
    );
    assert_eq!(
        find(&lines, a, "deduction")[0].3,
        d("-100"),
        "never below zero"
    );
    // October: no pay, so the 30 still owed is carried again (no line taken from nothing).
    let oct = fx.settle("2026-10").await;
    assert!(find(&fx.lines(oct).await, a, "deduction").is_empty());
    let _ = creator;
}

#[tokio::test]
async fn payments_never_exceed_what_is_due_and_paid_is_their_sum() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("100.00", "CNY")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-05T12:00:00+08:00").await;
    fx.settle("2026-09").await;
    // Seller owes 110 CNY (fee + 10% service).
    let client = fx.app.login(FINANCE.0, FINANCE.1).await;
    let path = "/finance/t/lumi/periods/2026-09/payments";
    let en = Lang::parse("en").unwrap();
    for (form, field, key) in [
        (
            ("2026-10-05", "110.01", "B-1"),
            "amount",
            "settlement.error.payment_above_due",
        ),
        (
            ("2026-10-05", "0", "B-1"),
            "amount",
            "settlement.error.payment_amount",
        ),
        (
            ("2026-10-05", "10.001", "B-1"),
            "amount",
            "settlement.error.payment_amount",
        ),
        (
            ("5/10/2026", "10", "B-1"),
            "paid_on",
            "settlement.error.payment_date",
        ),
        (
            ("2026-10-05", "10", "  "),
            "reference",
            "settlement.error.reference",
        ),
    ] {
        let res = client
            .post(fx.app.url(path))
            .header("accept-language", "en")
            .form(&[
                ("paid_on", form.0),
                ("amount", form.1),
                ("reference", form.2),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{form:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("data-field=\"{field}\">{}", en.t(key))),
            "{form:?}: {key} beside {field}"
        );
    }
    let mut c = fx.conn().await;
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM settlement_payments")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(none, 0, "nothing stored");
    for amount in ["60", "50"] {
        let res = fx
            .app
            .post_form(
                &client,
                path,
                &[
                    ("paid_on", "2026-10-05"),
                    ("amount", amount),
                    ("reference", "B"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let html = fx
        .app
        .get_ok_in(&client, "/finance/t/lumi/periods/2026-09", "en")
        .await;
    assert!(html.contains("data-status=\"paid\""), "60 + 50 = 110 due");
}

#[tokio::test]
async fn bad_rates_and_adjustments_are_refused_beside_their_field_with_nothing_stored() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("100.00", "USD")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-05T12:00:00+08:00").await;
    let client = fx.app.login(FINANCE.0, FINANCE.1).await;
    let en = Lang::parse("en").unwrap();
    for (raw, key) in [
        ("0", "settlement.error.rate_positive"),
        ("-7.1", "settlement.error.rate_positive"),
        ("7.123456789012", "settlement.error.rate_decimals"),
        ("seven", "settlement.error.rate_number"),
    ] {
        let res = client
            .post(fx.app.url("/finance/rates"))
            .header("accept-language", "en")
            .form(&[
                ("period", "2026-09"),
                ("rate.USD.CNY", raw),
                ("rate.EUR.CNY", "7.8"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{raw}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("data-field=\"rate.USD.CNY\">{}", en.t(key))),
            "{raw}: {key}"
        );
    }
    let mut c = fx.conn().await;
    let rates: i64 = sqlx::query_scalar("SELECT count(*) FROM fx_rates")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(rates, 0, "the good EUR rate is not stored beside a bad one");

    let path = "/finance/t/lumi/periods/2026-09/adjustments";
    let collab = a.to_string();
    for (form, field, key) in [
        (
            (collab.as_str(), "CNY", "50", ""),
            "reason",
            "settlement.error.reason",
        ),
        (
            (collab.as_str(), "CNY", "0", "why"),
            "amount",
            "settlement.error.amount",
        ),
        (
            (collab.as_str(), "JPY", "1.5", "why"),
            "amount",
            "settlement.error.amount",
        ),
        (
            (collab.as_str(), "XXX1", "5", "why"),
            "currency",
            "settlement.error.currency",
        ),
        (
            (&Uuid::now_v7().to_string()[..], "CNY", "5", "why"),
            "collaboration",
            "settlement.error.collaboration",
        ),
    ] {
        let res = client
            .post(fx.app.url(path))
            .header("accept-language", "en")
            .form(&[
                ("collaboration", form.0),
                ("currency", form.1),
                ("amount", form.2),
                ("reason", form.3),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{form:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("data-field=\"{field}\">{}", en.t(key))),
            "{form:?}: {key} beside {field}"
        );
    }
    let adjustments: i64 = sqlx::query_scalar("SELECT count(*) FROM settlement_adjustments")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(adjustments, 0);
    // Finalizing out of order says so on the page.
    let res = client
        .post(fx.app.url("/finance/t/lumi/periods/2026-10/finalize"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(&en.t("settlement.error.out_of_order"))
    );
}

/// The CSV's data rows (BOM checked and stripped).
fn csv_rows(bytes: &[u8]) -> Vec<csv::StringRecord> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    r.records().map(Result::unwrap).collect()
}

#[tokio::test]
async fn exports_read_back_equal_the_page_and_the_seller_downloads_the_same_file() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("600.00", "USD")), "0.1", 1),
        )
        .await;
    let b = fx
        .collab(
            1,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("30000", "JPY")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-10T12:00:00+08:00").await;
    fx.post(b, "2026-09-11T12:00:00+08:00").await;
    let tt = fx.import(fx.tiktok, "2026-10-02T00:00:00Z").await;
    fx.order(
        tt,
        Some(a),
        order("T-9", "USD", "100.00", "2026-09-12T10:00:00+08:00"),
    )
    .await;
    fx.rate("2026-09", "USD", "7.1234").await;
    fx.rate("2026-09", "JPY", "0.0475").await;
    let s = fx.settle("2026-09").await;
    let stored = fx.lines(s).await;

    let finance = fx.app.login(FINANCE.0, FINANCE.1).await;
    let csv_path = "/finance/t/lumi/periods/2026-09/export.csv";
    let res = finance
        .get(fx.app.url(csv_path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("sextant-settlement-lumi-2026-09-finalized.csv"),
        "{disposition}"
    );
    let finance_bytes = res.bytes().await.unwrap();
    let rows = csv_rows(&finance_bytes);
    assert_eq!(rows.len(), stored.len());
    let hash: String = {
        let mut c = fx.conn().await;
        sqlx::query_scalar("SELECT hash FROM settlements WHERE id = $1")
            .bind(s)
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    let page = fx
        .app
        .get_ok_in(&finance, "/finance/t/lumi/periods/2026-09", "en")
        .await;
    for r in &rows {
        assert_eq!(&r[16], hash.as_str(), "the hash on every line");
        // Every amount in the file is on the page, with its currency.
        let amount: Decimal = r[10].parse().unwrap();
        let shown = sextant::web::fmt::money(amount, &r[9]);
        assert!(page.contains(&shown), "{shown} on the page");
    }
    let jpy = rows.iter().find(|r| &r[9] == "JPY").unwrap();
    assert_eq!(&jpy[10], "30000", "JPY has no minor units");
    assert_eq!(&jpy[12], "1425.00", "30000 × 0.0475");

    // XLSX: a summary with the hash and totals, typed money on the lines, totals rows.
    let res = finance
        .get(fx.app.url("/finance/t/lumi/periods/2026-09/export.xlsx"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut book = Xlsx::new(Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let names = book.sheet_names();
    let summary = book.worksheet_range(&names[0]).unwrap();
    assert!(
        summary
            .rows()
            .any(|r| r.get(1) == Some(&Data::String(hash.clone())))
    );
    let lines = book.worksheet_range(&names[1]).unwrap();
    let lines: Vec<_> = lines.rows().collect();
    assert_eq!(
        lines.len(),
        1 + stored.len() + 2,
        "header, lines, two totals rows"
    );
    let total_seller: Decimal = {
        let mut c = fx.conn().await;
        sqlx::query_scalar("SELECT total_seller FROM settlements WHERE id = $1")
            .bind(s)
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    let totals_row = &lines[1 + stored.len()];
    assert_eq!(
        totals_row[12],
        Data::Float(total_seller.to_string().parse().unwrap())
    );
    for (row, line) in lines[1..=stored.len()].iter().zip(&rows) {
        let amount: f64 = line[10].parse().unwrap();
        assert_eq!(row[10], Data::Float(amount), "typed money equals the CSV");
    }

    // The seller's owner downloads the very same file.
    let owner = fx.app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let list = fx.app.get_ok_in(&owner, "/t/lumi/settlements", "en").await;
    assert!(list.contains("2026-09"));
    let seller_csv = format!("/t/lumi/settlements/{s}/export.csv");
    let res = owner
        .get(fx.app.url(&seller_csv))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap(), finance_bytes);
}

#[tokio::test]
async fn a_seller_sees_only_its_own_finalized_settlements_and_other_tenants_get_404() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("100.00", "CNY")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-05T12:00:00+08:00").await;
    let s = fx.settle("2026-09").await;
    // October is a draft: finance's only.
    let oct = month("2026-10");
    fx.run(FINANCE.0, async |tx, a, t| {
        actions::compute_draft(
            tx,
            a,
            PeriodOf {
                tenant: t,
                period: oct,
            },
        )
        .await
    })
    .await
    .unwrap();
    let line: Uuid = {
        let mut c = fx.conn().await;
        sqlx::query_scalar("SELECT id FROM settlement_lines WHERE settlement_id = $1 LIMIT 1")
            .bind(s)
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    let owner = fx.app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let list = fx.app.get_ok_in(&owner, "/t/lumi/settlements", "en").await;
    assert!(
        list.contains("2026-09") && !list.contains("2026-10"),
        "only finalized"
    );
    let line_page = fx
        .app
        .get_ok_in(
            &owner,
            &format!("/t/lumi/settlements/{s}/lines/{line}"),
            "en",
        )
        .await;
    assert!(
        line_page.contains("v1"),
        "the contract version it came from"
    );
    // Operators and viewers do not see the money.
    let operator = fx.app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    assert_eq!(
        fx.app.status_of(&operator, "/t/lumi/settlements").await,
        403
    );
    // The account manager may look, not act: finance's pages are closed to them.
    let am = fx.app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    assert_eq!(
        fx.app
            .status_of(&am, &format!("/t/lumi/settlements/{s}"))
            .await,
        200
    );
    assert_eq!(
        fx.app
            .status_of(&am, "/finance/t/lumi/periods/2026-09")
            .await,
        403
    );
    let res = fx
        .app
        .post_form(&am, "/finance/t/lumi/periods/2026-10/finalize", &[])
        .await;
    assert_eq!(res.status(), 403);

    // Another tenant's owner: every URL is 404, under its own slug and under Lumi's.
    let nordpeak = fx.app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for path in [
        format!("/t/nordpeak/settlements/{s}"),
        format!("/t/nordpeak/settlements/{s}/lines/{line}"),
        format!("/t/nordpeak/settlements/{s}/export.csv"),
        format!("/t/nordpeak/settlements/{s}/export.xlsx"),
        format!("/t/lumi/settlements/{s}"),
        format!("/t/lumi/settlements/{s}/export.csv"),
    ] {
        assert_eq!(fx.app.status_of(&nordpeak, &path).await, 404, "{path}");
    }
    let res = fx
        .app
        .post_form(
            &nordpeak,
            &format!("/t/nordpeak/settlements/{s}/verify"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 404);
    // Finance under the wrong tenant's slug: 404 as well.
    let finance = fx.app.login(FINANCE.0, FINANCE.1).await;
    assert_eq!(
        fx.app
            .status_of(&finance, &format!("/finance/t/nordpeak/lines/{line}"))
            .await,
        404
    );
    let res = fx
        .app
        .post_form(
            &finance,
            "/finance/t/nordpeak/periods/2026-09/payments",
            &[
                ("paid_on", "2026-10-01"),
                ("amount", "1"),
                ("reference", "x"),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);

    // Finance sees Lumi only through the audited system scope, and Lumi's log says so.
    fx.app
        .get_ok(&finance, "/finance/t/lumi/periods/2026-09")
        .await;
    let mut c = fx.conn().await;
    let scopes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'scope.open' AND entity_id = 'finance_period' \
            AND actor_id = (SELECT id FROM users WHERE email = $1)",
    )
    .bind(FINANCE.0)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(scopes >= 1);
    let views: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'finance.view' AND tenant_id = $1",
    )
    .bind(fx.tenant)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(views >= 1);
}

#[tokio::test]
async fn the_payout_view_shows_what_each_creator_is_owed_per_currency_across_tenants() {
    let fx = Fx::new().await;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("600.00", "USD")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-10T12:00:00+08:00").await;
    fx.rate("2026-09", "USD", "7").await;
    fx.settle("2026-09").await;
    let finance = fx.app.login(FINANCE.0, FINANCE.1).await;
    let html = fx
        .app
        .get_ok_in(&finance, "/finance/payouts?period=2026-09", "en")
        .await;
    let handle: String = {
        let mut c = fx.conn().await;
        sqlx::query_scalar("SELECT handle FROM creators WHERE id = $1")
            .bind(fx.creators[0])
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert!(html.contains(&format!("@{handle}")));
    assert!(
        html.contains(&sextant::web::fmt::money(d("600"), "USD")),
        "owed in USD, not converted"
    );
    let res = finance
        .get(fx.app.url(&format!(
            "/finance/payouts/{}/export.csv?period=2026-09",
            fx.creators[0]
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rows = csv_rows(&res.bytes().await.unwrap());
    assert_eq!(
        rows.len(),
        1,
        "the fixed fee; the service fee is not the creator's"
    );
    assert_eq!(&rows[0][10], "600.00");
}
