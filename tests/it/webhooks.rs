//! Outgoing webhooks (issue 19, item 3): the owner's page adds an endpoint (a Sextant one's secret
//! shown once), the loop's actions queue events in their own transaction, the worker delivers
//! them signed — or as a group bot's message — retries a failing target on the schedule and then
//! marks it failed, never follows a redirect, and reaches no private address unless allowed.
//! Every target is a stub server on 127.0.0.1 started by the test: nothing leaves the machine.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sextant::error::DomainError;
use sextant::webhooks::actions::{self, CreateEndpoint, Event, Reach};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::*;

/// A request the stub received.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A receiver on 127.0.0.1: records every request and answers the status set (a 302 points at
/// `/elsewhere`), with `answer` as its body.
#[derive(Clone)]
struct Stub {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    answer: Arc<Mutex<String>>,
}

impl Stub {
    async fn start() -> Stub {
        let stub = Stub {
            url: String::new(),
            received: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            answer: Arc::new(Mutex::new(String::new())),
        };
        async fn record(
            State(stub): State<Stub>,
            OriginalUri(uri): OriginalUri,
            headers: HeaderMap,
            body: Bytes,
        ) -> axum::response::Response {
            stub.received.lock().unwrap().push(Received {
                path: uri.to_string(),
                headers,
                body: body.to_vec(),
            });
            let status = AxumStatus::from_u16(stub.status.load(Ordering::SeqCst)).unwrap();
            let answer = stub.answer.lock().unwrap().clone();
            if status.is_redirection() {
                return (status, [("location", "/elsewhere")], answer).into_response();
            }
            (status, answer).into_response()
        }
        let router = axum::Router::new()
            .fallback(record)
            .with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Stub {
            url: format!("http://{addr}/hook"),
            ..stub
        }
    }

    fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Adds an endpoint on the owner's page; answers the page.
async fn add(
    app: &TestApp,
    owner: &reqwest::Client,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let res = app
        .post_form(owner, "/t/lumi/settings/webhooks", fields)
        .await;
    (res.status(), res.text().await.unwrap())
}

fn shown_secret(page: &str) -> String {
    let marker = "data-testid=\"secret-value\">";
    let start = page.find(marker).expect("the secret shown") + marker.len();
    page[start..start + page[start..].find('<').unwrap()].to_string()
}

async fn endpoint_id(app: &TestApp, url: &str) -> Uuid {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE url = $1")
        .bind(url)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// (event, state, attempts, last_status) of every delivery, oldest first.
async fn deliveries(app: &TestApp) -> Vec<(String, String, i32, Option<i32>)> {
    let mut conn = app.owner_conn().await;
    sqlx::query_as(
        "SELECT event, state, attempts, last_status FROM webhook_deliveries ORDER BY created_at, id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn tick(app: &TestApp, now: OffsetDateTime) -> sextant::webhooks::worker::Ticked {
    sextant::webhooks::deliverer(&app.state)
        .tick(now)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sent_shortlist_is_queued_with_the_action_and_delivered_signed_to_the_owners_endpoint() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await;
    let stub = Stub::start().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let (status, page) = add(
        &app,
        &owner,
        &[
            ("url", stub.url.as_str()),
            ("format", "sextant"),
            ("events", "shortlist.sent"),
            ("events", "shortlist.decided"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let secret = shown_secret(&page);
    assert!(secret.starts_with("whsec_"), "{secret}");
    // Shown once: the list does not show it again.
    let list = app.get_ok(&owner, "/t/lumi/settings/webhooks").await;
    assert!(list.contains(&stub.url) && !list.contains(&secret));
    assert!(list.contains("推荐名单已送达"), "events are labelled");
    let audited = app
        .audit_of(&endpoint_id(&app, &stub.url).await.to_string())
        .await;
    assert_eq!(audited[0].0, "webhook.create");

    // The account manager sends a shortlist through the real action: one delivery, queued in
    // the action's transaction (none before it commits).
    let campaign = app.campaign_in("lumi", "matching").await;
    let lumi = app.tenant_id("lumi").await;
    let am = app.actor(ACCOUNT_MANAGER.0, "lumi").await;
    let mut tx = app.tx_for(&am).await;
    let row = sextant::campaigns::repo::get(&mut tx, lumi, campaign)
        .await
        .unwrap()
        .unwrap();
    let ask = sextant::matching::repo::ask_of(&row.campaign());
    let rates = sextant::matching::repo::ReferenceRates::load(&mut tx)
        .await
        .unwrap();
    let pool = sextant::matching::repo::candidates(&mut tx, lumi, campaign, &ask)
        .await
        .unwrap();
    let best = sextant::matching::domain::rank(
        &pool,
        &ask,
        &sextant::matching::domain::Weights::default(),
        &rates,
        2,
    );
    assert!(!best.is_empty(), "a candidate to send");
    let picks = best
        .iter()
        .map(|(id, _)| sextant::matching::actions::Pick {
            creator_id: *id,
            note: String::new(),
        })
        .collect();
    let sent = sextant::matching::actions::send_shortlist(
        &mut tx,
        &am,
        sextant::matching::actions::SendShortlist {
            campaign_id: campaign,
            picks,
        },
    )
    .await
    .unwrap();
    assert!(deliveries(&app).await.is_empty(), "not before the commit");
    tx.commit().await.unwrap();
    assert_eq!(
        deliveries(&app).await,
        vec![("shortlist.sent".into(), "pending".into(), 0, None)]
    );

    let done = tick(&app, OffsetDateTime::now_utc()).await;
    assert_eq!(done.delivered, 1, "{done:?}");
    let got = stub.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.path, "/hook");
    assert_eq!(header(r, "content-type"), "application/json");
    assert_eq!(header(r, "sextant-event"), "shortlist.sent");
    let delivery: Uuid = header(r, "sextant-delivery").parse().unwrap();
    let ts = header(r, "sextant-timestamp");
    // The signature, computed here from the secret shown, the timestamp and the raw body.
    let expected = format!(
        "t={ts},v1={}",
        hmac_hex(
            secret.as_bytes(),
            &[ts.as_bytes(), b".", r.body.as_slice()].concat()
        )
    );
    assert_eq!(header(r, "sextant-signature"), expected);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["type"], "shortlist.sent");
    assert_eq!(body["tenant"]["slug"], "lumi");
    assert_eq!(body["data"]["campaign_id"], campaign.to_string());
    assert_eq!(body["data"]["round"], sent.round);
    assert_eq!(
        body["data"]["creators"].as_array().unwrap().len(),
        sent.creators.len()
    );
    let link = body["data"]["url"].as_str().unwrap();
    assert!(
        link.starts_with("http://")
            && link.ends_with(&format!("/t/lumi/campaigns/{campaign}/shortlist")),
        "{link}"
    );
    Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        deliveries(&app).await,
        vec![("shortlist.sent".into(), "delivered".into(), 1, Some(200))]
    );
    let mut conn = app.owner_conn().await;
    let logged: (i32, Option<i32>, Option<String>) = sqlx::query_as(
        "SELECT attempt, status, error FROM webhook_attempts WHERE delivery_id = $1",
    )
    .bind(delivery)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(logged, (1, Some(200), None));
    // A second tick sends nothing again.
    assert_eq!(tick(&app, OffsetDateTime::now_utc()).await.delivered, 0);
    assert_eq!(stub.received().len(), 1);

    // The seller's answer is an event too: one creator rejected with a reason.
    let entry: Uuid = sqlx::query_scalar(
        "SELECT id FROM shortlist_entries WHERE campaign_id = $1 AND decision IS NULL LIMIT 1",
    )
    .bind(campaign)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let seller = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&seller).await;
    sextant::campaigns::actions::decide_entry(
        &mut tx,
        &seller,
        sextant::campaigns::actions::DecideEntry {
            campaign_id: campaign,
            entry_id: entry,
            decision: Some(sextant::campaigns::domain::Decision::Reject),
            reason: "Audience too young".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    tick(&app, OffsetDateTime::now_utc()).await;
    let got = stub.received();
    assert_eq!(got.len(), 2);
    let body: serde_json::Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(body["type"], "shortlist.decided");
    assert_eq!(body["data"]["decision"], "reject");
    assert_eq!(body["data"]["entry_id"], entry.to_string());
    assert_eq!(body["data"]["reason"], "Audience too young");

    // The log page lists both, labelled.
    let id = endpoint_id(&app, &stub.url).await;
    let log = app
        .get_ok(&owner, &format!("/t/lumi/settings/webhooks/{id}"))
        .await;
    assert!(
        log.contains("推荐名单已答复") && log.contains("已送达"),
        "{log}"
    );
    assert!(!log.contains(">shortlist.sent<"), "no raw codes");
}

#[tokio::test]
async fn a_failing_target_is_retried_on_the_schedule_then_marked_failed_with_every_try_logged() {
    let app = TestApp::with_demo().await;
    let stub = Stub::start().await;
    stub.set_status(500);
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let (status, _) = add(
        &app,
        &owner,
        &[
            ("url", stub.url.as_str()),
            ("format", "sextant"),
            ("events", "tier.changed"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = endpoint_id(&app, &stub.url).await;
    let res = app
        .post_form(&owner, &format!("/t/lumi/settings/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let start = OffsetDateTime::now_utc();
    let minutes = |m: i64| start + time::Duration::minutes(m);
    // Tried at once, then 1, 5, 30, 120 and 360 minutes after each failure.
    let mut at = 0;
    for (i, wait) in [0, 1, 5, 30, 120, 360].into_iter().enumerate() {
        at += wait;
        if wait > 0 {
            // Not a moment before it is due.
            let early = tick(&app, minutes(at) - time::Duration::seconds(5)).await;
            assert_eq!(early, Default::default(), "try {} came early", i + 1);
        }
        let done = tick(&app, minutes(at)).await;
        assert_eq!(stub.received().len(), i + 1, "try {}", i + 1);
        if i < 5 {
            assert_eq!(done.retrying, 1, "{done:?}");
        } else {
            assert_eq!(done.failed, 1, "{done:?}");
        }
    }
    assert_eq!(
        deliveries(&app).await,
        vec![("ping".into(), "failed".into(), 6, Some(500))]
    );
    // Nothing more, however long one waits.
    assert_eq!(tick(&app, minutes(60 * 24 * 7)).await, Default::default());
    assert_eq!(stub.received().len(), 6);
    let mut conn = app.owner_conn().await;
    let tries: Vec<(i32, Option<i32>, Option<String>, OffsetDateTime)> =
        sqlx::query_as("SELECT attempt, status, error, at FROM webhook_attempts ORDER BY attempt")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        tries.iter().map(|t| t.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert!(
        tries
            .iter()
            .all(|t| t.1 == Some(500) && t.2.as_deref() == Some("HTTP 500"))
    );
    let gaps: Vec<i64> = tries
        .windows(2)
        .map(|w| (w[1].3 - w[0].3).whole_minutes())
        .collect();
    assert_eq!(gaps, vec![1, 5, 30, 120, 360]);
    let log = app
        .get_ok(&owner, &format!("/t/lumi/settings/webhooks/{id}"))
        .await;
    assert!(log.contains("失败") && log.contains("HTTP 500"), "{log}");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_counts_as_a_failed_try() {
    let app = TestApp::with_demo().await;
    let stub = Stub::start().await;
    stub.set_status(302);
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    add(
        &app,
        &owner,
        &[
            ("url", stub.url.as_str()),
            ("format", "wecom"),
            ("events", "post.late"),
        ],
    )
    .await;
    let id = endpoint_id(&app, &stub.url).await;
    app.post_form(&owner, &format!("/t/lumi/settings/webhooks/{id}/test"), &[])
        .await;
    let done = tick(&app, OffsetDateTime::now_utc()).await;
    assert_eq!(done.retrying, 1, "{done:?}");
    let got = stub.received();
    assert_eq!(got.len(), 1, "the redirect's target was never asked");
    assert_eq!(got[0].path, "/hook");
    assert_eq!(
        deliveries(&app).await,
        vec![("ping".into(), "pending".into(), 1, Some(302))]
    );
}

#[tokio::test]
async fn a_private_or_local_address_is_refused_without_the_flag_when_entered_and_when_sent() {
    let app = TestApp::with_demo().await;
    let stub = Stub::start().await;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;
    let strict = Reach {
        allow_private: false,
    };
    for url in [
        stub.url.as_str(),
        "http://localhost:9/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hook",
        "http://0.0.0.0/",
    ] {
        let mut tx = app.tx_for(&owner).await;
        let refused = actions::create_endpoint(
            &mut tx,
            &owner,
            CreateEndpoint {
                url: url.into(),
                format: "sextant".into(),
                events: vec!["tier.changed".into()],
                ..Default::default()
            },
            "http://127.0.0.1",
            strict,
        )
        .await;
        assert!(
            matches!(&refused, Err(DomainError::Invalid(e))
                if e.get("url") == Some(&"webhooks.error.url_private")),
            "{url}: {:?}",
            refused.as_ref().err()
        );
    }

    // Entered while allowed, then sent by a worker that does not allow it: refused as it sends,
    // and the stub hears nothing.
    let mut tx = app.tx_for(&owner).await;
    actions::create_endpoint(
        &mut tx,
        &owner,
        CreateEndpoint {
            url: stub.url.clone(),
            format: "sextant".into(),
            events: vec!["tier.changed".into()],
            ..Default::default()
        },
        "http://127.0.0.1",
        Reach {
            allow_private: true,
        },
    )
    .await
    .unwrap();
    let localhost = stub.url.replace("127.0.0.1", "localhost");
    actions::create_endpoint(
        &mut tx,
        &owner,
        CreateEndpoint {
            url: localhost,
            format: "sextant".into(),
            events: vec!["tier.changed".into()],
            ..Default::default()
        },
        "http://127.0.0.1",
        Reach {
            allow_private: true,
        },
    )
    .await
    .unwrap();
    let lumi = app.tenant_id("lumi").await;
    let queued = actions::enqueue(
        &mut tx,
        lumi,
        Event::TierChanged {
            creator_id: Uuid::now_v7(),
            from: Some("B".into()),
            to: Some("A".into()),
            cause: "test".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(queued, 2);
    tx.commit().await.unwrap();
    let strict_worker = sextant::webhooks::worker::Deliverer::new(app.db.clone(), false).unwrap();
    let done = strict_worker.tick(OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(done.retrying, 2, "{done:?}");
    assert!(
        stub.received().is_empty(),
        "nothing reached the private address"
    );
    let mut conn = app.owner_conn().await;
    let errors: Vec<Option<String>> =
        sqlx::query_scalar("SELECT last_error FROM webhook_deliveries ORDER BY endpoint_id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(
        errors
            .iter()
            .all(|e| e.as_deref().is_some_and(|e| !e.is_empty())),
        "{errors:?}"
    );
}

#[tokio::test]
async fn group_bots_get_a_sentence_in_chinese_with_a_link_signed_their_way() {
    let app = TestApp::with_demo().await;
    let stub = Stub::start().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let feishu = format!("{}/feishu", stub.url);
    let dingtalk = format!("{}/dingtalk?access_token=abc", stub.url);
    let wecom = format!("{}/wecom?key=k", stub.url);
    for (url, format, secret) in [
        (feishu.as_str(), "feishu", "feishu-secret"),
        (dingtalk.as_str(), "dingtalk", "SECding"),
        (wecom.as_str(), "wecom", ""),
    ] {
        let (status, page) = add(
            &app,
            &owner,
            &[
                ("url", url),
                ("format", format),
                ("events", "settlement.finalized"),
                ("secret", secret),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            !page.contains("data-testid=\"secret-value\""),
            "bots get no secret shown"
        );
        let id = endpoint_id(&app, url).await;
        app.post_form(&owner, &format!("/t/lumi/settings/webhooks/{id}/test"), &[])
            .await;
    }
    *stub.answer.lock().unwrap() = r#"{"code":0,"errcode":0}"#.into();
    let done = tick(&app, OffsetDateTime::now_utc()).await;
    assert_eq!(done.delivered, 3, "{done:?}");
    let got = stub.received();
    let find = |p: &str| got.iter().find(|r| r.path.starts_with(p)).unwrap().clone();
    let link = format!("http://{}/t/lumi/settings/webhooks", app.addr);

    let f = find("/hook/feishu");
    let body: serde_json::Value = serde_json::from_slice(&f.body).unwrap();
    assert_eq!(body["msg_type"], "text");
    let text = body["content"]["text"].as_str().unwrap();
    assert!(
        text.contains("Sextant 测试通知") && text.ends_with(&link),
        "{text}"
    );
    let ts = body["timestamp"].as_str().unwrap();
    let key = format!("{ts}\nfeishu-secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(b"");
    use base64::Engine;
    let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(body["sign"], sign);

    let d = find("/hook/dingtalk");
    let body: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body["msgtype"], "text");
    assert!(body["text"]["content"].as_str().unwrap().ends_with(&link));
    let query: Vec<(String, String)> = url::Url::parse(&format!("http://x{}", d.path))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("access_token"), "abc");
    let ms = get("timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(b"SECding").unwrap();
    mac.update(format!("{ms}\nSECding").as_bytes());
    assert_eq!(
        get("sign"),
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );

    let w = find("/hook/wecom");
    let body: serde_json::Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(body["msgtype"], "text");
    assert!(
        body["text"]["content"]
            .as_str()
            .unwrap()
            .contains("测试通知")
    );
    assert!(header(&w, "sextant-signature").is_empty());

    // A bot that answers 200 with an error code has not taken it.
    *stub.answer.lock().unwrap() = r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#.into();
    let id = endpoint_id(&app, &wecom).await;
    app.post_form(&owner, &format!("/t/lumi/settings/webhooks/{id}/test"), &[])
        .await;
    let done = tick(&app, OffsetDateTime::now_utc()).await;
    assert_eq!(done.retrying, 1, "{done:?}");
}

#[tokio::test]
async fn the_webhooks_page_is_the_owners_another_tenants_endpoint_is_not_found() {
    let app = TestApp::with_demo().await;
    let stub = Stub::start().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    for who in [OPERATOR_LUMI, VIEWER_LUMI] {
        let client = app.login(who.0, who.1).await;
        assert_eq!(
            app.status_of(&client, "/t/lumi/settings/webhooks").await,
            StatusCode::FORBIDDEN,
            "{}",
            who.0
        );
        let res = app
            .post_form(
                &client,
                "/t/lumi/settings/webhooks",
                &[
                    ("url", stub.url.as_str()),
                    ("format", "sextant"),
                    ("events", "post.late"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{}", who.0);
    }
    add(
        &app,
        &owner,
        &[
            ("url", stub.url.as_str()),
            ("format", "sextant"),
            ("events", "rating.due"),
        ],
    )
    .await;
    let id = endpoint_id(&app, &stub.url).await;
    let page = app.get_ok(&owner, "/t/lumi/settings/api-tokens").await;
    assert!(
        page.contains("href=\"/t/lumi/settings/webhooks\""),
        "linked beside the API tokens"
    );

    // Nordpeak's owner reaches none of it through their own company.
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    assert_eq!(
        app.status_of(&other, &format!("/t/nordpeak/settings/webhooks/{id}"))
            .await,
        StatusCode::NOT_FOUND
    );
    for action in ["delete", "test", "active"] {
        let res = app
            .post_form(
                &other,
                &format!("/t/nordpeak/settings/webhooks/{id}/{action}"),
                &[("active", "false")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(
        app.status_of(&other, &format!("/t/lumi/settings/webhooks/{id}"))
            .await,
        StatusCode::NOT_FOUND
    );

    // The owner switches it off (what waits fails), on again, then deletes it.
    app.post_form(&owner, &format!("/t/lumi/settings/webhooks/{id}/test"), &[])
        .await;
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/settings/webhooks/{id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        deliveries(&app).await,
        vec![("ping".into(), "failed".into(), 0, None)]
    );
    let list = app.get_ok(&owner, "/t/lumi/settings/webhooks").await;
    assert!(list.contains("已停用") && list.contains("data-testid=\"enable\""));
    // Off: no test event, and no event queued.
    let res = app
        .post_form(&owner, &format!("/t/lumi/settings/webhooks/{id}/test"), &[])
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let queued = actions::enqueue(
        &mut tx,
        lumi,
        Event::RatingDue {
            rating_id: Uuid::now_v7(),
            collaboration_id: Uuid::now_v7(),
        },
    )
    .await
    .unwrap();
    assert_eq!(queued, 0);
    drop(tx);
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/settings/webhooks/{id}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/settings/webhooks/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = app.get_ok(&owner, "/t/lumi/settings/webhooks").await;
    assert!(!list.contains(&stub.url) && list.contains("data-testid=\"no-endpoints\""));
    assert!(deliveries(&app).await.is_empty(), "its log went with it");
    let audited: Vec<String> = app
        .audit_of(&id.to_string())
        .await
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(
        audited,
        vec![
            "webhook.create",
            "webhook.test",
            "webhook.disable",
            "webhook.enable",
            "webhook.delete"
        ]
    );
}

/// The fields posted, the field named, the start of its message.
type BadCase<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn bad_input_is_named_beside_its_field_and_nothing_is_stored() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let cases: &[BadCase] = &[
        (
            &[
                ("url", "ftp://files.example/x"),
                ("format", "sextant"),
                ("events", "post.late"),
            ],
            "url",
            "只接受 http:// 或 https:// 地址。",
        ),
        (
            &[
                ("url", "https://user:pw@hooks.example/x"),
                ("format", "sextant"),
                ("events", "post.late"),
            ],
            "url",
            "地址中不能包含用户名或密码",
        ),
        (
            &[("url", ""), ("format", "sextant"), ("events", "post.late")],
            "url",
            "请填写接收地址。",
        ),
        (
            &[
                ("url", "https://hooks.example/x"),
                ("format", "slack"),
                ("events", "post.late"),
            ],
            "format",
            "请从列表中选择格式。",
        ),
        (
            &[("url", "https://hooks.example/x"), ("format", "sextant")],
            "events",
            "请至少选择一个事件。",
        ),
        (
            &[
                ("url", "https://hooks.example/x"),
                ("format", "sextant"),
                ("events", "order.placed"),
            ],
            "events",
            "请从列表中选择事件。",
        ),
        (
            &[
                ("url", "https://hooks.example/x"),
                ("format", "wecom"),
                ("events", "post.late"),
                ("secret", "abc"),
            ],
            "secret",
            "这种格式不使用机器人密钥",
        ),
        (
            &[
                ("url", "https://hooks.example/x"),
                ("format", "sextant"),
                ("events", "post.late"),
                ("lang", "fr"),
            ],
            "lang",
            "请选择中文或英文。",
        ),
    ];
    for (fields, field, message) in cases {
        let (status, page) = add(&app, &owner, fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let marker = format!("data-field=\"{field}\">");
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("{field} named: {page}"));
        assert!(
            page[at..].starts_with(&format!("{marker}{message}")),
            "{field}: {}",
            &page[at..at + 200.min(page.len() - at)]
        );
        assert!(page.contains("data-testid=\"form-summary\""));
    }
    let mut conn = app.owner_conn().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/settings/webhooks/{}/active", Uuid::now_v7()),
            &[("active", "maybe")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_late_publish_job_tells_the_endpoints_that_want_it_and_no_other() {
    let app = TestApp::with_demo_campaigns().await;
    let stub = Stub::start().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let json_url = format!("{}/json", stub.url);
    let bot_url = format!("{}/bot", stub.url);
    let quiet_url = format!("{}/quiet", stub.url);
    for (url, format, event) in [
        (json_url.as_str(), "sextant", "post.late"),
        (bot_url.as_str(), "wecom", "post.late"),
        (quiet_url.as_str(), "sextant", "settlement.finalized"),
    ] {
        let (status, page) = add(
            &app,
            &owner,
            &[("url", url), ("format", format), ("events", event)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    let collab = crate::fulfilment::collaboration_in(&app, "accepted").await;
    let deadline = crate::fulfilment::deadline_of(&app, collab).await;
    let after = crate::fulfilment::noon(deadline + time::Duration::days(5));
    sextant::fulfilment::jobs::tick(&app.db, after)
        .await
        .unwrap();
    let queued: Vec<(String, String)> = {
        let mut conn = app.owner_conn().await;
        sqlx::query_as(
            "SELECT e.url, d.event FROM webhook_deliveries d \
               JOIN webhook_endpoints e ON e.id = d.endpoint_id ORDER BY e.url",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    };
    assert!(
        queued
            .iter()
            .all(|(url, event)| event == "post.late" && url != &quiet_url),
        "{queued:?}"
    );
    assert!(queued.iter().any(|(url, _)| url == &json_url), "{queued:?}");
    tick(&app, OffsetDateTime::now_utc()).await;
    let got = stub.received();
    let json = got
        .iter()
        .find(|r| {
            r.path == "/hook/json" && {
                let b: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                b["data"]["collaboration_id"] == collab.to_string()
            }
        })
        .expect("the collaboration's event");
    let body: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(body["type"], "post.late");
    assert_eq!(body["data"]["kind"], "no_publish");
    assert!(
        body["data"]["creator_handle"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    let bot = got
        .iter()
        .find(|r| r.path == "/hook/bot")
        .expect("the bot's message");
    let body: serde_json::Value = serde_json::from_slice(&bot.body).unwrap();
    let text = body["text"]["content"].as_str().unwrap();
    assert!(
        text.starts_with("发布逾期：@") && text.contains("/t/lumi/collaborations/"),
        "{text}"
    );
    assert!(got.iter().all(|r| r.path != "/hook/quiet"));
}

#[tokio::test]
async fn a_tier_change_is_queued_in_the_refresh_and_names_the_move() {
    let app = TestApp::with_demo_campaigns().await;
    let stub = Stub::start().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    add(
        &app,
        &owner,
        &[
            ("url", stub.url.as_str()),
            ("format", "sextant"),
            ("events", "tier.changed"),
        ],
    )
    .await;
    let tenant = app.tenant_id("lumi").await;
    let actor = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut c = app.owner_conn().await;
    let creator = crate::tiers::fresh_creator(&mut c, tenant, 0).await;
    crate::tiers::rate(&mut c, tenant, creator, 85.0, 10.0, 1.2).await;
    crate::tiers::refresh(
        &app,
        &actor,
        creator,
        sextant::tiers::actions::TierCause::Rating,
    )
    .await;
    // Nothing changed the second time: nothing more queued.
    crate::tiers::refresh(
        &app,
        &actor,
        creator,
        sextant::tiers::actions::TierCause::Daily,
    )
    .await;
    assert_eq!(
        deliveries(&app).await,
        vec![("tier.changed".into(), "pending".into(), 0, None)]
    );
    tick(&app, OffsetDateTime::now_utc()).await;
    let got = stub.received();
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "tier.changed");
    assert_eq!(body["data"]["creator_id"], creator.to_string());
    assert_eq!(body["data"]["from"], serde_json::Value::Null);
    assert_eq!(body["data"]["to"], "A");
    assert_eq!(body["data"]["cause"], "rating");
    assert!(
        body["data"]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/t/lumi/creators/{creator}"))
    );
}

#[tokio::test]
async fn a_finalized_settlement_reaches_the_endpoint_with_its_period_and_total() {
    let fx = crate::settlement::Fx::new().await;
    let stub = Stub::start().await;
    let owner = fx.app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let (status, _) = add(
        &fx.app,
        &owner,
        &[
            ("url", stub.url.as_str()),
            ("format", "sextant"),
            ("events", "settlement.finalized"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let collab = fx
        .collab(
            0,
            "rated",
            "2026-09-02T10:00:00+08:00",
            crate::settlement::terms(Some(("600.00", "USD")), "0.1", 1),
        )
        .await;
    fx.post(collab, "2026-09-10T12:00:00+08:00").await;
    fx.rate("2026-09", "USD", "7.1").await;
    let settlement = fx.settle("2026-09").await;
    tick(&fx.app, OffsetDateTime::now_utc()).await;
    let got = stub.received();
    assert_eq!(got.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "settlement.finalized");
    assert_eq!(body["data"]["settlement_id"], settlement.to_string());
    assert_eq!(body["data"]["period"], "2026-09");
    assert!(
        body["data"]["total_seller"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(
        body["data"]["currency"]
            .as_str()
            .is_some_and(|c| c.len() == 3)
    );
    assert!(
        body["data"]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/t/lumi/settlements/{settlement}"))
    );
}

#[tokio::test]
async fn the_rating_job_opening_a_rating_tells_the_endpoint_a_rating_is_due() {
    let f = crate::ratings::fixture().await;
    let stub = Stub::start().await;
    let owner = f.app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    add(
        &f.app,
        &owner,
        &[
            ("url", stub.url.as_str()),
            ("format", "dingtalk"),
            ("events", "rating.due"),
            ("lang", "en"),
        ],
    )
    .await;
    // The job runs in its system scope; the event is queued in its transaction.
    sextant::ratings::jobs::tick(&f.app.db, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let mut conn = f.app.owner_conn().await;
    let due: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT payload FROM webhook_deliveries WHERE event = 'rating.due'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mine = due
        .iter()
        .find(|p| p["data"]["collaboration_id"] == f.collab.to_string())
        .expect("the opened rating's event");
    let rating: Uuid = sqlx::query_scalar("SELECT id FROM ratings WHERE collaboration_id = $1")
        .bind(f.collab)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mine["data"]["rating_id"], rating.to_string());
    tick(&f.app, OffsetDateTime::now_utc()).await;
    let texts: Vec<String> = stub
        .received()
        .iter()
        .map(|r| {
            let b: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            b["text"]["content"].as_str().unwrap().to_string()
        })
        .collect();
    let link = format!("/t/lumi/collaborations/{}/rating", f.collab);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Rating due: the collaboration with @") && t.ends_with(&link)),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_pages_fit_a_phone_with_a_long_url_and_a_failed_delivery() {
    let app = TestApp::with_demo().await;
    let stub = Stub::start().await;
    stub.set_status(503);
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let long = format!(
        "{}/a-very-long-path-that-a-bot-platform-might-give/{}",
        stub.url,
        "x".repeat(160)
    );
    let (status, _) = add(
        &app,
        &owner,
        &[
            ("url", long.as_str()),
            ("format", "feishu"),
            ("events", "shortlist.sent"),
            ("events", "shortlist.decided"),
            ("events", "post.late"),
            ("events", "rating.due"),
            ("events", "tier.changed"),
            ("events", "settlement.finalized"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = endpoint_id(&app, &long).await;
    app.post_form(&owner, &format!("/t/lumi/settings/webhooks/{id}/test"), &[])
        .await;
    tick(&app, OffsetDateTime::now_utc()).await;

    let b = crate::browser::Browser::start("zh-CN").await;
    b.login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    for path in [
        "/t/lumi/settings/webhooks".to_string(),
        format!("/t/lumi/settings/webhooks/{id}"),
    ] {
        b.client.set_window_size(375, 800).await.unwrap();
        b.client.goto(&app.url(&path)).await.unwrap();
        b.wait_for_path(&path).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let seen = b
                .client
                .execute("return window.innerWidth", vec![])
                .await
                .unwrap();
            if seen.as_u64() == Some(375) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the window is {seen} px"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Two frames of layout at the new size.
        b.client
            .execute_async(
                "const done = arguments[0]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await
            .unwrap();
        let over = b
            .client
            .execute(
                "return document.documentElement.scrollWidth - \
                 document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            over.as_i64().unwrap_or(1) <= 0,
            "{path} is {over} px too wide"
        );
    }
    b.close().await;
}
