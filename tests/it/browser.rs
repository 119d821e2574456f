//! The browser-test harness: real headless Chromium driven through chromedriver. Every later
//! feature's browser tests start from `Browser::start`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::*;

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose preferred language is `accept_lang`.
    pub async fn start(accept_lang: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium chromium-driver)");
        let profile =
            std::env::temp_dir().join(format!("sextant-chromium-{}-{port}", std::process::id()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--lang={accept_lang}"),
                    format!("--accept-lang={accept_lang}"),
                    "--window-size=1280,900",
                ],
                "prefs": { "intl.accept_languages": accept_lang },
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot start Chromium through chromedriver: {e}"),
            }
        };
        Browser {
            client,
            driver,
            profile,
        }
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Waits until the element's text is `expected` (pages load after clicks).
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = el.text().await
            {
                if text == expected {
                    return;
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: expected {expected:?}, last saw {last:?}");
    }

    /// Logs in through the real form.
    pub async fn login(&self, app: &TestApp, email: &str, password: &str) {
        self.client.goto(&app.url("/login")).await.unwrap();
        self.client
            .find(Locator::Css("input[name=email]"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        self.client
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        self.client
            .find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The login has answered once the browser left the login page (the session cookie is
        // set by then) or the page shows why not; a caller that navigates sooner would race it.
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.path().await == "/login"
            && self
                .client
                .find(Locator::Css("[data-testid=form-error]"))
                .await
                .is_err()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A test that fails before `close` still stops its chromedriver (and with it the browser), so
/// failures do not leave processes behind for the next tests.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_owner_logs_in_and_sees_the_dashboard_in_chinese_then_switches_to_english() {
    let app = TestApp::with_demo().await;
    let browser = Browser::start("zh-CN").await;

    browser.client.goto(&app.url("/login")).await.unwrap();
    browser.wait_for_text("main h1", "登录 Sextant").await;
    browser.login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    browser
        .wait_for_text(
            "[data-testid=dashboard-heading]",
            "首页 · 露米家居 Lumi Home",
        )
        .await;
    assert_eq!(
        browser.client.current_url().await.unwrap().path(),
        "/t/lumi/"
    );
    let nav = browser.text_of("nav.mainnav").await;
    assert!(nav.contains("店铺") && nav.contains("成员"), "{nav}");

    // The switch: English, and it sticks on the next page.
    browser
        .client
        .find(Locator::Css("[data-testid=lang-switch]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text(
            "[data-testid=dashboard-heading]",
            "Home · 露米家居 Lumi Home",
        )
        .await;
    browser
        .client
        .goto(&app.url("/t/lumi/shops"))
        .await
        .unwrap();
    browser.wait_for_text("main h1", "Shops").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_owner_sees_the_dashboard_in_english_when_the_browser_prefers_english() {
    let app = TestApp::with_demo().await;
    let browser = Browser::start("en-US").await;
    browser.client.goto(&app.url("/login")).await.unwrap();
    browser.wait_for_text("main h1", "Log in to Sextant").await;
    browser
        .login(&app, OWNER_NORDPEAK.0, OWNER_NORDPEAK.1)
        .await;
    browser
        .wait_for_text(
            "[data-testid=dashboard-heading]",
            "Home · 北峰户外 Nordpeak Outdoor",
        )
        .await;
    // A wrong password shows the message next to the form, in English.
    browser
        .client
        .find(Locator::Css("[data-testid=logout]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .login(&app, OWNER_NORDPEAK.0, "wrong-password")
        .await;
    browser
        .wait_for_text(
            "[data-testid=form-error]",
            "The email or password is wrong.",
        )
        .await;
    browser.close().await;
}

impl Browser {
    pub async fn fill(&self, css: &str, value: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no select {css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Clicks an element after scrolling it to the middle of the window (a sticky footer
    /// covers the bottom edge, where WebDriver would otherwise leave it).
    pub async fn click_centred(&self, el: &fantoccini::elements::Element) {
        let arg = serde_json::to_value(el).unwrap();
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
            .await
            .unwrap();
        el.click().await.unwrap();
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn wait_for_path(&self, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.path().await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected to be at {expected}, am at {}", self.path().await);
    }
}

/// What the onboarding flow expects to read, per language.
struct Texts {
    accept_lang: &'static str,
    pending: &'static str,
    dashboard: &'static str,
    operator_role: &'static str,
    password_set: &'static str,
}

async fn sign_up_approve_onboard_and_invite(texts: Texts, slug: &str) {
    let app = TestApp::with_demo().await;
    let b = Browser::start(texts.accept_lang).await;
    let owner_email = format!("owner@{slug}.example");

    // 1. Sign up.
    b.client.goto(&app.url("/signup")).await.unwrap();
    b.fill("#company", "Brightway 光途").await;
    b.fill("#slug", slug).await;
    b.fill("#name", "Amy Zhou").await;
    b.fill("#email", &owner_email).await;
    b.fill("#password", "brightway-owner-1").await;
    b.fill("#password_confirm", "brightway-owner-1").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.wait_for_path(&format!("/t/{slug}/settings/profile"))
        .await;
    let notice = b.text_of("[data-testid=pending-notice]").await;
    assert!(notice.contains(texts.pending), "{notice}");
    b.click("[data-testid=logout]").await;
    b.wait_for_path("/login").await;

    // 2. The admin approves.
    b.login(&app, ADMIN.0, ADMIN.1).await;
    b.wait_for_path("/admin").await;
    let tenant = app.tenant_id(slug).await;
    b.client
        .goto(&app.url(&format!("/admin/tenants/{tenant}")))
        .await
        .unwrap();
    b.click("[data-testid=approve]").await;
    b.wait_for_text(
        "[data-testid=tenant-status]",
        if texts.accept_lang.starts_with("zh") {
            "已启用"
        } else {
            "Active"
        },
    )
    .await;
    b.click("[data-testid=logout]").await;
    b.wait_for_path("/login").await;

    // 3. The owner completes the company profile.
    b.login(&app, &owner_email, "brightway-owner-1").await;
    b.client
        .goto(&app.url(&format!("/t/{slug}/settings/profile")))
        .await
        .unwrap();
    b.fill("#legal_name", "杭州光途科技有限公司").await;
    b.fill("#licence", "91330106MA2H3T9L4E").await;
    b.click("input[name=categories][value=electronics]").await;
    b.click("input[name=markets][value=US]").await;
    b.click("input[name=markets][value=DE]").await;
    b.click("input[name=fee_model][value=fixed_plus_commission]")
        .await;
    b.fill("#service_fee", "10").await;
    b.click("input[name=settlement_currency][value=USD]").await;
    b.fill("#time_zone", "Asia/Shanghai").await;
    b.fill("#shop-0-name", "Brightway US · TikTok Shop").await;
    b.select("#shop-0-platform", "tiktok_shop").await;
    b.fill("#shop-0-url", "https://shop.brightway.invalid/us")
        .await;
    b.fill("#shop-0-time_zone", "America/New_York").await;
    b.select("#shop-0-date_order", "MDY").await;
    b.select("#shop-0-currency", "USD").await;
    b.click("[data-testid=save-profile]").await;
    b.wait_for_path(&format!("/t/{slug}/")).await;
    b.wait_for_text(
        "[data-testid=dashboard-heading]",
        &format!("{} · Brightway 光途", texts.dashboard),
    )
    .await;

    // 4. …and adds an operator, getting a one-time link.
    b.client
        .goto(&app.url(&format!("/t/{slug}/members")))
        .await
        .unwrap();
    b.fill("#name", "Ben Operator").await;
    b.fill("#email", &format!("ops@{slug}.example")).await;
    b.select("#role", "operator").await;
    b.click("[data-testid=add-member]").await;
    let link = b.text_of("[data-testid=one-time-link-url]").await;
    assert!(link.starts_with(&app.url("/set-password/")), "{link}");
    b.click("[data-testid=logout]").await;
    b.wait_for_path("/login").await;

    // 5. The operator sets a password through the link and logs in.
    b.client.goto(&link).await.unwrap();
    b.fill("#password", "ben-operator-pass").await;
    b.fill("#password_confirm", "ben-operator-pass").await;
    b.click("form[action^='/set-password/'] button[type=submit]")
        .await;
    b.wait_for_path("/login").await;
    let flash = b.text_of(".flash").await;
    assert_eq!(flash, texts.password_set);
    b.login(&app, &format!("ops@{slug}.example"), "ben-operator-pass")
        .await;
    b.wait_for_path(&format!("/t/{slug}/")).await;
    let who = b.text_of(".who").await;
    assert!(who.contains(texts.operator_role), "{who}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_approval_onboarding_and_an_invited_operator_in_chinese() {
    sign_up_approve_onboard_and_invite(
        Texts {
            accept_lang: "zh-CN",
            pending: "正在等待服务商审核",
            dashboard: "首页",
            operator_role: "运营",
            password_set: "密码已设置，请用新密码登录。",
        },
        "brightway",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_approval_onboarding_and_an_invited_operator_in_english() {
    sign_up_approve_onboard_and_invite(
        Texts {
            accept_lang: "en-US",
            pending: "waiting for the agency's approval",
            dashboard: "Home",
            operator_role: "Operator",
            password_set: "Your password is set. Log in with it now.",
        },
        "brightway-en",
    )
    .await;
}

impl Browser {
    /// Sets an input's value by script (date inputs take typed text in the browser's locale).
    pub async fn set_value(&self, id: &str, value: &str) {
        self.client
            .execute(
                "document.getElementById(arguments[0]).value = arguments[1];",
                vec![json!(id), json!(value)],
            )
            .await
            .unwrap();
    }

    pub async fn logout_and_login(&self, app: &TestApp, email: &str, password: &str) {
        self.click("[data-testid=logout]").await;
        self.wait_for_path("/login").await;
        self.login(app, email, password).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.path().await == "/login" && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_shortlist_review_another_round_and_a_printable_contract() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: false,
    })
    .await;
    let b = Browser::start("zh-CN").await;

    // 1. The seller submits a request.
    b.login(&app, OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    b.wait_for_path("/t/lumi/").await;
    b.client
        .goto(&app.url("/t/lumi/campaigns/new"))
        .await
        .unwrap();
    for (id, value) in [
        ("title", "夏季空气炸锅推广"),
        ("product_name", "Lumi Air Fryer 5L"),
        ("sku", "LUMI-AF-5L"),
        ("product_url", "https://shop.lumi-home.invalid/us/air-fryer"),
        ("unit_price", "89.99"),
        ("creators_wanted", "3"),
        ("followers_min", "10K"),
        ("followers_max", "800K"),
        ("budget_min", "2000"),
        ("budget_max", "9000"),
        ("fee_cap", "1500"),
        ("commission_rate", "10"),
        ("roi_target", "2"),
    ] {
        b.fill(&format!("#{id}"), value).await;
    }
    b.select("#category", "home_kitchen").await;
    b.select("#unit_currency", "USD").await;
    b.select("#budget_currency", "USD").await;
    b.select("#fee_cap_currency", "USD").await;
    let shop_id = b
        .client
        .execute(
            "return document.querySelector('#shop_id option:nth-child(2)').value;",
            vec![],
        )
        .await
        .unwrap();
    let shop_id = shop_id.as_str().unwrap().to_string();
    b.select("#shop_id", &shop_id).await;
    b.click("input[name=markets][value=US]").await;
    b.click("input[name=markets][value=GB]").await;
    b.click("input[name=languages][value=en]").await;
    let today = time::OffsetDateTime::now_utc().date();
    b.set_value(
        "publish_from",
        &(today + time::Duration::days(10)).to_string(),
    )
    .await;
    b.set_value(
        "publish_to",
        &(today + time::Duration::days(40)).to_string(),
    )
    .await;
    b.click("[data-testid=submit-campaign]").await;
    b.wait_for_text("[data-testid=campaign-state]", "已提交")
        .await;
    let campaign_path = b.path().await;
    let code = b.text_of("[data-testid=campaign-code]").await;
    assert!(code.starts_with("LUMI-"), "{code}");

    // 2. The account manager starts matching and sends a shortlist of three.
    b.logout_and_login(&app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1)
        .await;
    b.client.goto(&app.url(&campaign_path)).await.unwrap();
    b.click("[data-testid=transition-start_matching]").await;
    b.wait_for_text("[data-testid=campaign-state]", "撮合中")
        .await;
    b.click("[data-testid=open-matching]").await;
    b.wait_for_path(&format!("{campaign_path}/matching")).await;
    let picks = b
        .client
        .find_all(Locator::Css("input[name=pick]"))
        .await
        .unwrap();
    assert!(picks.len() >= 3, "candidates listed");
    for pick in picks.iter().take(3) {
        b.click_centred(pick).await;
    }
    b.click("[data-testid=send-shortlist]").await;
    b.wait_for_text("[data-testid=campaign-state]", "推荐名单已发送")
        .await;

    // 3. The seller approves two, rejects one (with a reason), and asks for another round.
    b.logout_and_login(&app, OPERATOR_LUMI.0, OPERATOR_LUMI.1)
        .await;
    b.client
        .goto(&app.url(&format!("{campaign_path}/shortlist")))
        .await
        .unwrap();
    let cards = b
        .client
        .find_all(Locator::Css(".creator-card"))
        .await
        .unwrap();
    assert_eq!(cards.len(), 3);
    let mut handles = Vec::new();
    for card in &cards {
        handles.push(card.attr("data-creator").await.unwrap().unwrap());
    }
    // Inline (htmx, loaded under the strict CSP): each card is replaced in place, no page load.
    let htmx_loaded = b
        .client
        .execute("return typeof window.htmx !== 'undefined';", vec![])
        .await
        .unwrap();
    assert_eq!(htmx_loaded, json!(true));
    b.client
        .execute("window.__sextant_marker = 1;", vec![])
        .await
        .unwrap();
    for h in &handles[..2] {
        b.click(&format!("[data-testid='approve-{h}']")).await;
    }
    b.fill(
        &format!("[data-creator='{}'] input[name=reason]", handles[2]),
        "受众年龄偏小",
    )
    .await;
    b.click(&format!("[data-testid='reject-{}']", handles[2]))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let approved = b
            .client
            .find_all(Locator::Css("[data-testid=approved]"))
            .await
            .unwrap()
            .len();
        let rejected = b
            .client
            .find_all(Locator::Css("[data-testid=rejected]"))
            .await
            .unwrap()
            .len();
        if (approved, rejected) == (2, 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "decisions shown: {approved} approved, {rejected} rejected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let same_page = b
        .client
        .execute("return window.__sextant_marker === 1;", vec![])
        .await
        .unwrap();
    assert_eq!(
        same_page,
        json!(true),
        "the decisions happened without a page load"
    );
    // The page is reloaded to show the round's actions with the new counts.
    b.client
        .goto(&app.url(&format!("{campaign_path}/shortlist")))
        .await
        .unwrap();
    b.click("[data-testid=another-round]").await;
    b.wait_for_text("[data-testid=campaign-state]", "撮合中")
        .await;

    // 4. The account manager sets up terms for an approved creator: discount code, tracked link.
    b.logout_and_login(&app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1)
        .await;
    b.client
        .goto(&app.url(&format!("{campaign_path}/shortlist")))
        .await
        .unwrap();
    b.click(&format!("[data-testid='set-up-{}']", handles[0]))
        .await;
    b.click("[data-testid=save-terms]").await;
    b.wait_for_text("[data-testid=collaboration-state]", "待确认")
        .await;
    let code = b.text_of("[data-testid=discount-code]").await;
    assert!(
        code.len() >= 4
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{code}"
    );
    let link = b.text_of("[data-testid=tracked-link]").await;
    assert!(link.starts_with(&app.url("/r/")), "{link}");

    // 5. It prints: the print stylesheet hides the actions, and the page renders to PDF.
    let hidden = b
        .client
        .execute(
            "for (const sheet of document.styleSheets) { for (const rule of sheet.cssRules) { \
               if (rule.media && rule.media.mediaText.includes('print')) { for (const r of rule.cssRules) { \
                 if (r.selectorText && r.selectorText.includes('.no-print') && r.style.display === 'none') return true; } } } } \
             return false;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hidden, json!(true));
    let pdf = b
        .client
        .print(
            fantoccini::wd::PrintConfigurationBuilder::default()
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    b.close().await;
}
