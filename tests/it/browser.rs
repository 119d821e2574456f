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
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
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
