//! Sync over the API's lists (issue 19): `updated_since` — first a time, then the
//! `next_updated_since` of the pull before — answers each change exactly once, in the order
//! made, even when transactions commit out of order or while a client pages; rows that left a
//! list (an undone import batch) come back as tombstones.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::api::{make_token, problem};
use super::api_ingest::{order_line, post, shop_of};
use crate::support::*;

const EVERYTHING: &str = "1970-01-01T00:00:00Z";

async fn get(app: &TestApp, token: &str, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
    app.client()
        .get(app.url(path))
        .header("Authorization", format!("Bearer {token}"))
        .query(query)
        .send()
        .await
        .unwrap()
}

/// One whole pull: every page of `path` changed since `since`; the items, the tombstones, how
/// many pages it took and the `next_updated_since` of its last page.
struct Pull {
    items: Vec<Value>,
    deleted: Vec<Value>,
    pages: usize,
    next: String,
}

impl Pull {
    fn ids(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Pages one pull; `between` runs after each page but the last (to change things meanwhile).
async fn pull_with<F, Fut>(
    app: &TestApp,
    token: &str,
    path: &str,
    since: &str,
    limit: &str,
    mut between: F,
) -> Pull
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut pull = Pull {
        items: Vec::new(),
        deleted: Vec::new(),
        pages: 0,
        next: String::new(),
    };
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("updated_since", since), ("limit", limit)];
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let res = get(app, token, path, &query).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let page: Value = res.json().await.unwrap();
        pull.pages += 1;
        pull.items
            .extend(page["items"].as_array().unwrap().iter().cloned());
        pull.deleted.extend(
            page["deleted"]
                .as_array()
                .expect("a sync page has deleted")
                .iter()
                .cloned(),
        );
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert!(
                    page["next_updated_since"].is_null(),
                    "only the last page hands out the next start: {page}"
                );
                cursor = Some(c.to_string());
                between(pull.pages).await;
            }
            None => {
                pull.next = page["next_updated_since"]
                    .as_str()
                    .expect("the last page hands out the next start")
                    .to_string();
                return pull;
            }
        }
    }
}

async fn pull(app: &TestApp, token: &str, path: &str, since: &str, limit: &str) -> Pull {
    pull_with(app, token, path, since, limit, |_| async {}).await
}

/// Every item of a plain list (no sync), by id.
async fn listed(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let page: Value = get(app, token, path, &[("limit", "500")])
        .await
        .json()
        .await
        .unwrap();
    assert!(page["next_cursor"].is_null(), "{path} fits one page");
    assert!(
        page.get("deleted").is_none(),
        "a plain list has no tombstones"
    );
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["id"]
                .as_str()
                .or_else(|| i["creator"]["id"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn campaigns_of(app: &TestApp, slug: &str) -> Vec<Uuid> {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT c.id FROM campaigns c JOIN tenants t ON t.id = c.tenant_id
          WHERE t.slug = $1 ORDER BY c.id",
    )
    .bind(slug)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

async fn retitle(app: &TestApp, id: Uuid, title: &str) {
    let mut conn = app.owner_conn().await;
    sqlx::query("UPDATE campaigns SET title = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(title)
        .execute(&mut conn)
        .await
        .unwrap();
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn every_list_syncs_from_a_time_and_answers_what_the_plain_list_has() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let read = make_token(&app, &owner, "BI", "read").await;
    for path in [
        "/api/v1/campaigns",
        "/api/v1/collaborations",
        "/api/v1/creators",
        "/api/v1/shops",
        "/api/v1/posts",
        "/api/v1/fulfilment-records",
        "/api/v1/ratings",
        "/api/v1/tiers",
        "/api/v1/settlements",
        "/api/v1/order-imports",
    ] {
        let plain = sorted(listed(&app, &read, path).await);
        let first = pull(&app, &read, path, EVERYTHING, "500").await;
        let synced: Vec<String> = first
            .items
            .iter()
            .map(|i| {
                i["id"]
                    .as_str()
                    .or_else(|| i["creator"]["id"].as_str())
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            sorted(synced),
            plain,
            "{path}: a first pull is the whole list"
        );
        // Nothing changed since: the next pull is empty.
        let again = pull(&app, &read, path, &first.next, "500").await;
        assert!(
            again.items.is_empty() && again.deleted.is_empty(),
            "{path}: {:?}",
            again.items
        );
    }
    // The demo has lists long enough to page.
    assert!(listed(&app, &read, "/api/v1/campaigns").await.len() > 2);
}

#[tokio::test]
async fn a_client_pulling_twice_sees_each_change_once_and_undone_batches_as_tombstones() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let read = make_token(&app, &owner, "BI", "read").await;
    let write = make_token(&app, &owner, "ERP", "write").await;
    let ours = campaigns_of(&app, "lumi").await;
    let theirs = campaigns_of(&app, "nordpeak").await;

    // The first pull, two at a time: every campaign once, over several pages.
    let first = pull(&app, &read, "/api/v1/campaigns", EVERYTHING, "2").await;
    assert!(first.pages > 1);
    let mut all = first.ids();
    all.dedup();
    assert_eq!(all.len(), first.items.len(), "no item twice");
    assert_eq!(
        sorted(first.ids()),
        sorted(ours.iter().map(Uuid::to_string).collect())
    );

    // One campaign changed, one written as it was, and another company's changed.
    retitle(&app, ours[1], "Spring lamps, second wave").await;
    let mut conn = app.owner_conn().await;
    sqlx::query("UPDATE campaigns SET title = title WHERE id = $1")
        .bind(ours[0])
        .execute(&mut conn)
        .await
        .unwrap();
    retitle(&app, theirs[0], "Not yours").await;
    let second = pull(&app, &read, "/api/v1/campaigns", &first.next, "2").await;
    assert_eq!(second.ids(), [ours[1].to_string()]);
    assert_eq!(second.items[0]["title"], "Spring lamps, second wave");
    assert!(second.deleted.is_empty());
    let third = pull(&app, &read, "/api/v1/campaigns", &second.next, "2").await;
    assert!(third.items.is_empty(), "{:?}", third.items);

    // Import batches: an orders call shows up once; undone on the page, it leaves the list and
    // the next pull answers it as a tombstone.
    let start = pull(&app, &read, "/api/v1/order-imports", EVERYTHING, "100").await;
    let shop = shop_of(&app, "lumi").await;
    let body = json!({
        "shop_id": shop, "as_of": "2026-11-03T00:00:00Z",
        "lines": [order_line("SYNC-1", "25.90", "shipped")],
    });
    let res = post(&app, "/api/v1/orders", &write, None, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let import_id = res.json::<Value>().await.unwrap()["import_id"]
        .as_str()
        .unwrap()
        .to_string();
    let added = pull(&app, &read, "/api/v1/order-imports", &start.next, "100").await;
    assert_eq!(added.ids(), [import_id.as_str()]);
    assert_eq!(added.items[0]["source"], "api");
    assert_eq!(added.items[0]["state"], "imported");
    assert!(added.deleted.is_empty());

    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/orders/imports/{import_id}/undo"),
            &[],
        )
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    let undone = pull(&app, &read, "/api/v1/order-imports", &added.next, "100").await;
    assert!(undone.items.is_empty(), "{:?}", undone.items);
    assert_eq!(undone.deleted.len(), 1);
    assert_eq!(undone.deleted[0]["id"], import_id.as_str());
    assert!(undone.deleted[0]["deleted_at"].as_str().is_some());
    assert!(
        !listed(&app, &read, "/api/v1/order-imports")
            .await
            .contains(&import_id),
        "an undone batch is not listed"
    );
    let after = pull(&app, &read, "/api/v1/order-imports", &undone.next, "100").await;
    assert!(after.items.is_empty() && after.deleted.is_empty());

    // A time works for a first pull too: only what changed after it.
    let recent = pull(
        &app,
        &read,
        "/api/v1/campaigns",
        "2999-01-01T00:00:00+08:00",
        "10",
    )
    .await;
    assert!(recent.items.is_empty());
}

#[tokio::test]
async fn changes_committed_late_or_while_a_client_pages_come_once_in_the_next_pull() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let read = make_token(&app, &owner, "BI", "read").await;
    let ids = campaigns_of(&app, "lumi").await;
    assert!(ids.len() >= 4);
    let start = pull(&app, &read, "/api/v1/campaigns", EVERYTHING, "100").await;

    // A transaction that began before the pull and commits after its first page: with a
    // timestamp its change would look older than the pull and be lost.
    let mut late = app.owner_conn().await;
    sqlx::query("BEGIN").execute(&mut late).await.unwrap();
    sqlx::query("UPDATE campaigns SET title = 'late' WHERE id = $1")
        .bind(ids[3])
        .execute(&mut late)
        .await
        .unwrap();
    for (n, id) in ids[..3].iter().enumerate() {
        retitle(&app, *id, &format!("changed {n}")).await;
    }

    // Paged one at a time; after the first page, the first campaign changes again and the late
    // transaction commits.
    let late = std::sync::Arc::new(tokio::sync::Mutex::new(Some(late)));
    let first_id = ids[0];
    let app_ref = &app;
    let during = pull_with(&app, &read, "/api/v1/campaigns", &start.next, "1", |page| {
        let late = late.clone();
        async move {
            if page == 1 {
                retitle(app_ref, first_id, "changed again").await;
                let mut conn = late.lock().await.take().unwrap();
                sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
            }
        }
    })
    .await;
    assert_eq!(
        sorted(during.ids()),
        sorted(ids[..3].iter().map(Uuid::to_string).collect()),
        "the three changes, each once; nothing committed after the pull began"
    );
    let titles: Vec<&str> = during
        .items
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(!titles.contains(&"changed again"), "{titles:?}");

    let next = pull(&app, &read, "/api/v1/campaigns", &during.next, "1").await;
    assert_eq!(
        sorted(next.ids()),
        sorted(vec![ids[0].to_string(), ids[3].to_string()]),
        "what committed meanwhile comes in the next pull, once"
    );
    let titles: Vec<&str> = next
        .items
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"changed again") && titles.contains(&"late"));
    let quiet = pull(&app, &read, "/api/v1/campaigns", &next.next, "1").await;
    assert!(quiet.items.is_empty());
}

#[tokio::test]
async fn a_bad_updated_since_or_cursor_is_named() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let read = make_token(&app, &owner, "BI", "read").await;
    let some_id = Uuid::now_v7().to_string();
    for (query, field) in [
        (vec![("updated_since", "yesterday")], "updated_since"),
        (vec![("updated_since", "2026-12-01")], "updated_since"),
        (vec![("updated_since", "9:3:")], "updated_since"),
        (
            vec![("updated_since", EVERYTHING), ("cursor", some_id.as_str())],
            "cursor",
        ),
        (
            vec![("updated_since", EVERYTHING), ("cursor", "djF8eHx4")],
            "cursor",
        ),
    ] {
        let (status, p) = problem(get(&app, &read, "/api/v1/collaborations", &query).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query:?}");
        assert_eq!(p["errors"][0]["field"], field, "{query:?}: {p}");
    }
    // A sub-list does not sync: its cursor is an id.
    let res = get(
        &app,
        &read,
        "/api/v1/tiers/01900000-0000-7000-8000-000000000001/history",
        &[("cursor", "djF8eHx4")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
