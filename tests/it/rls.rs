//! Row-level security holds on its own, even when a query forgets to scope by tenant.

use sextant::db::{Db, SystemScope};
use sqlx::{Connection, Row};
use uuid::Uuid;

use crate::support::*;

async fn tenant_id(db: &Db, slug: &str) -> Uuid {
    sextant::tenants::repo::tenant_by_slug(db.pool(), slug)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn an_unscoped_select_in_a_tenant_transaction_sees_only_that_tenant_even_on_a_reused_connection()
 {
    let app = TestApp::with_demo().await;
    // One connection, so the second transaction surely reuses the first one's connection.
    let db = Db::connect(&app.database_url, 1).await.unwrap();
    let lumi = tenant_id(&db, "lumi").await;
    let nordpeak = tenant_id(&db, "nordpeak").await;

    for (tenant, other) in [(lumi, nordpeak), (nordpeak, lumi), (lumi, nordpeak)] {
        let mut tx = db.tenant_tx(tenant, None).await.unwrap();
        for table in ["shops", "memberships", "am_assignments"] {
            let rows = sqlx::query(&format!("SELECT tenant_id FROM {table}"))
                .fetch_all(&mut *tx)
                .await
                .unwrap();
            assert!(!rows.is_empty(), "{table} has rows for the tenant");
            for row in rows {
                let seen: Uuid = row.get("tenant_id");
                assert_eq!(seen, tenant, "{table} leaked a row of {other}");
            }
        }
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn outside_any_scope_tenant_tables_show_nothing() {
    let app = TestApp::with_demo().await;
    let db = Db::connect(&app.database_url, 1).await.unwrap();
    // Serve a tenant first on the only connection, then query without a scope.
    let lumi = tenant_id(&db, "lumi").await;
    let mut tx = db.tenant_tx(lumi, None).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM shops")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 3);
    tx.commit().await.unwrap();

    for table in ["shops", "memberships", "am_assignments", "audit_log"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} is visible outside a scope");
    }
    // The pool works as the app role, which is neither a superuser nor the owner.
    let (role, superuser): (String, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(role, "sextant_app");
    assert!(!superuser);
}

#[tokio::test]
async fn an_insert_with_another_tenants_id_is_refused() {
    let app = TestApp::with_demo().await;
    let lumi = tenant_id(&app.db, "lumi").await;
    let nordpeak = tenant_id(&app.db, "nordpeak").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let err = sqlx::query(
        "INSERT INTO shops (tenant_id, id, name, platform, url, time_zone, date_order, currency) \
         VALUES ($1, $2, 'Planted', 'shopify', 'https://x.invalid', 'UTC', 'YMD', 'USD')",
    )
    .bind(nordpeak)
    .bind(Uuid::now_v7())
    .execute(&mut *tx)
    .await
    .expect_err("RLS must refuse a row of another tenant");
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    // Nor can a tenant transaction move its own row into another tenant.
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let err = sqlx::query("UPDATE shops SET tenant_id = $1")
        .bind(nordpeak)
        .execute(&mut *tx)
        .await
        .expect_err("RLS must refuse moving a row out");
    assert!(err.to_string().contains("row-level security"), "{err}");
}

#[tokio::test]
async fn a_tenant_transaction_cannot_update_or_delete_another_tenants_rows() {
    let app = TestApp::with_demo().await;
    let lumi = tenant_id(&app.db, "lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let updated = sqlx::query("UPDATE shops SET name = name || ' (x)'")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    let deleted = sqlx::query("DELETE FROM memberships WHERE role = 'nobody'")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(updated, 3, "only lumi's three shops");
    assert_eq!(deleted, 0);
    drop(tx);
}

#[tokio::test]
async fn the_audit_log_is_append_only_even_for_the_system_scope() {
    let app = TestApp::with_demo().await;
    let mut tx = app.db.system_tx(SystemScope::Cli).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(n >= 1, "seeding wrote an audit entry");
    let err = sqlx::query("UPDATE audit_log SET action = 'forged'")
        .execute(&mut *tx)
        .await
        .expect_err("no update");
    assert!(err.to_string().contains("permission denied"), "{err}");
    drop(tx);
    let mut tx = app.db.system_tx(SystemScope::Cli).await.unwrap();
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(&mut *tx)
            .await
            .is_err()
    );
    drop(tx);

    // Even the owner of the table (the migrating superuser) is refused by the triggers.
    use sqlx::Connection;
    let mut owner = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    let err = sqlx::query("UPDATE audit_log SET action = 'forged'")
        .execute(&mut owner)
        .await
        .expect_err("trigger refuses");
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = sqlx::query("TRUNCATE audit_log")
        .execute(&mut owner)
        .await
        .expect_err("no truncate");
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn tenant_audit_entries_are_visible_to_that_tenant_only() {
    let app = TestApp::with_demo().await;
    let lumi = tenant_id(&app.db, "lumi").await;
    let nordpeak = tenant_id(&app.db, "nordpeak").await;
    for tenant in [lumi, nordpeak] {
        let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
        sextant::audit::record(
            &mut tx,
            sextant::audit::Entry {
                tenant_id: Some(tenant),
                actor_id: None,
                actor_label: "test".into(),
                action: "test.change",
                entity_type: "tenant",
                entity_id: Some(tenant.to_string()),
                before: Some(serde_json::json!({"a": 1})),
                after: Some(serde_json::json!({"a": 2})),
                ip: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // A tenant transaction cannot write an entry for another tenant, nor a platform entry.
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let entry = |tenant_id| sextant::audit::Entry {
        tenant_id,
        actor_id: None,
        actor_label: "test".into(),
        action: "test.forged",
        entity_type: "tenant",
        entity_id: None,
        before: None,
        after: None,
        ip: None,
    };
    assert!(
        sextant::audit::record(&mut tx, entry(Some(nordpeak)))
            .await
            .is_err()
    );
    drop(tx);
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    assert!(sextant::audit::record(&mut tx, entry(None)).await.is_err());
    drop(tx);

    // The owner's audit page shows Lumi's entry and nothing of Nordpeak's or the platform's.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = owner
        .get(app.url("/t/lumi/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&lumi.to_string()));
    assert!(!page.contains(&nordpeak.to_string()));
    assert!(!page.contains("demo.seed") && !page.contains("auth.login"));
}

#[tokio::test]
async fn every_table_with_a_tenant_id_has_row_level_security_forced_and_a_policy() {
    let app = TestApp::spawn().await;
    let mut c = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    // Tables (not views) of the schema with a tenant_id column, and how each is guarded.
    let tables: Vec<(String, bool, bool, i64)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity, \
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND EXISTS ( \
                SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                   AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
          ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    for expected in [
        "post_view_days",
        "link_click_days",
        "metric_snapshots",
        "order_lines",
    ] {
        assert!(
            tables.iter().any(|t| t.0 == expected),
            "{expected} not found among {tables:?}"
        );
    }
    // No exceptions: one-time links too (found by their token's hash in the system scope).
    assert!(tables.iter().any(|t| t.0 == "one_time_links"));
    let unguarded: Vec<&String> = tables
        .iter()
        .filter(|(_, enabled, forced, policies)| !(*enabled && *forced && *policies > 0))
        .map(|t| &t.0)
        .collect();
    assert!(unguarded.is_empty(), "without forced RLS: {unguarded:?}");
}
