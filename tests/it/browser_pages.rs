//! Every page each demo role can reach, in a real Chromium, at phone width (390 px) and desktop
//! width (1280 px), in the Chinese UI: the document is never wider than the window, no page a link
//! leads to is an error, and no visible text is an internal code (issue 13 items 5 and 7).
//!
//! The pages are found as a person finds them: from the landing page after login, following every
//! link of the site (one page per route shape: ids and query values do not make a new page).

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::time::Duration;

use fantoccini::Locator;

use crate::browser::Browser;
use crate::support::*;

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);
/// A guard against a crawl that never ends; every role reaches far fewer route shapes.
const MAX_PAGES: usize = 150;

/// The codes of the catalogue's lists (markets, categories, styles, languages, platforms, fee
/// models, order statuses): each has words in both languages and never shows raw in Chinese.
///
/// Markets are left out: their ISO codes are also words sellers put in names ("Lumi Home US ·
/// TikTok Shop") and the everyday "ID" of 视频 ID; the pages that list markets label them
/// through the same `labels` function these lists come from.
fn codes() -> HashSet<String> {
    use sextant::web::labels::List;
    List::ALL
        .iter()
        .filter(|list| **list != List::Market)
        .flat_map(|list| list.codes().iter().map(|c| c.to_string()))
        .collect()
}

/// Visible text of the page, without what is not UI wording: handles (`@name`), e-mail addresses,
/// URLs, text a page shows verbatim on purpose (`<code>`, `<kbd>`, `<samp>`), and data in the
/// other language marked as such (`lang="en"` on a Chinese page: a checklist item's English text).
const VISIBLE_WORDS: &str = r#"
const skip = new Set(['SCRIPT', 'STYLE', 'CODE', 'KBD', 'SAMP', 'NOSCRIPT', 'TEMPLATE']);
const out = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  let el = node.parentElement, hidden = false;
  while (el) {
    if (skip.has(el.tagName)) { hidden = true; break; }
    const lang = el.getAttribute('lang');
    if (lang && el !== document.documentElement && lang !== document.documentElement.lang) {
      hidden = true; break;
    }
    el = el.parentElement;
  }
  if (hidden) continue;
  const style = getComputedStyle(node.parentElement);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  const r = document.createRange(); r.selectNodeContents(node);
  if (r.getClientRects().length === 0) continue;
  out.push(node.textContent);
}
return out.join(' ')
  .replace(/https?:\/\/\S+/g, ' ')
  .replace(/\S+\.(csv|xlsx|xls|png|jpe?g|webp|pdf)\b/gi, ' ')
  .replace(/[\w.+-]+@[\w.-]+/g, ' ')
  .replace(/@[\w.]+/g, ' ')
  .replace(/\s+/g, ' ');
"#;

/// Each code in the text, with a little of the text around it (so a failure says where it is).
fn codes_in(text: &str, codes: &HashSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices().chain([(text.len(), ' ')]) {
        let word_char = ch.is_ascii_alphanumeric() || ch == '_';
        match (word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if codes.contains(&text[s..i]) {
                    let before: String = text[..s]
                        .chars()
                        .rev()
                        .take(12)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    let after: String = text[i..].chars().take(12).collect();
                    found.push(format!(
                        "{:?} in \"…{before}[{}]{after}…\"",
                        &text[s..i],
                        &text[s..i]
                    ));
                }
                start = None;
            }
            _ => {}
        }
    }
    found.sort();
    found.dedup();
    found
}

/// How much wider than the window the document is, and the element that makes it so: the one
/// reaching furthest right that is not inside a box scrolling on its own (those never widen the
/// page).
const OVERFLOW: &str = r#"
const vw = document.documentElement.clientWidth;
const over = document.documentElement.scrollWidth - vw;
let culprit = '';
if (over > 0) {
  const scrolls = e => { const o = getComputedStyle(e).overflowX; return o === 'auto' || o === 'scroll' || o === 'hidden'; };
  let worst = 0;
  for (const el of document.body.querySelectorAll('*')) {
    let p = el.parentElement, inside = false;
    while (p && p !== document.body) { if (scrolls(p)) { inside = true; break; } p = p.parentElement; }
    if (inside) continue;
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 && r.width > 0 && r.right >= worst) {
      worst = r.right;
      culprit = el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().split(/\s+/).join('.') : '')
        + (el.id ? '#' + el.id : '') + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '')
        + ' right ' + Math.round(r.right);
    }
  }
}
return [window.innerWidth, over, culprit];
"#;

/// Same-site links of the page that lead to another page (not files, redirects or evidence).
const LINKS: &str = r#"
return Array.from(document.querySelectorAll('a[href]'))
  .filter(a => !a.hasAttribute('download'))
  .map(a => new URL(a.getAttribute('href'), location.href))
  .filter(u => u.origin === location.origin)
  .map(u => u.pathname + u.search);
"#;

/// The route shape of a path: ids and numbers become `{id}`, query values are dropped.
fn shape(path_and_query: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query, ""), |(p, q)| (p, q));
    let segments: Vec<String> = path
        .split('/')
        .map(|s| {
            if uuid::Uuid::parse_str(s).is_ok()
                || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            {
                "{id}".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    let keys: BTreeSet<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
        .collect();
    let mut shape = segments.join("/");
    if !keys.is_empty() {
        shape.push('?');
        shape.push_str(&keys.into_iter().collect::<Vec<_>>().join("&"));
    }
    shape
}

fn followed(path: &str) -> bool {
    let path_only = path.split('?').next().unwrap_or(path);
    !(path_only.starts_with("/static/")
        || path_only.starts_with("/r/")
        || path_only.contains("/evidence/")
        || path_only == "/logout"
        || path_only == "/healthz"
        || [".csv", ".xlsx", ".pdf", ".png", ".svg", ".json"]
            .iter()
            .any(|ext| path_only.ends_with(ext))
        || path_only.ends_with("/download")
        || path_only.contains("/export"))
}

async fn wait_for_main(b: &Browser) {
    b.client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("main#main"))
        .await
        .expect("every page has its main landmark");
}

async fn set_width(b: &Browser, (w, h): (u32, u32)) {
    b.client.set_window_size(w, h).await.unwrap();
    // The window takes the size on a later frame on a busy machine: wait until the page sees
    // it, then for two frames of layout.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let seen = b
            .client
            .execute("return window.innerWidth", vec![])
            .await
            .unwrap();
        if seen.as_u64() == Some(u64::from(w)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.client
        .execute_async(
            "const done = arguments[0]; \
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await
        .unwrap();
}

/// Crawls the role's pages and returns every problem found, one line each.
async fn visit_every_page(
    app: &TestApp,
    who: (&str, &str),
    codes: &HashSet<String>,
) -> Vec<String> {
    let b = Browser::start("zh-CN").await;
    b.login(app, who.0, who.1).await;
    let start = b.path().await;
    assert_ne!(start, "/login", "{} logs in", who.0);

    let mut problems = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    seen.insert(shape(&start));
    queue.push_back((start.clone(), "login".to_string()));
    let mut visited = 0;
    while let Some((path, from)) = queue.pop_front() {
        visited += 1;
        assert!(
            visited <= MAX_PAGES,
            "{}: more than {MAX_PAGES} page shapes",
            who.0
        );
        set_width(&b, DESKTOP).await;
        b.client.goto(&app.url(&path)).await.unwrap();
        wait_for_main(&b).await;
        if b.client.find(Locator::Css(".error-page")).await.is_ok() {
            let code = b.text_of(".error-code").await;
            problems.push(format!(
                "{}: {path} (linked from {from}) is an error page {code}",
                who.0
            ));
            continue;
        }
        let lang = b
            .client
            .execute("return document.documentElement.lang;", vec![])
            .await
            .unwrap();
        assert_eq!(lang.as_str(), Some("zh-CN"), "{path} is in Chinese");

        for size in [DESKTOP, PHONE] {
            set_width(&b, size).await;
            let measured = b.client.execute(OVERFLOW, vec![]).await.unwrap();
            let (inner, over, culprit): (u32, i64, String) =
                serde_json::from_value(measured).unwrap();
            assert!(
                inner <= size.0,
                "the window is {inner} px wide, asked for {}",
                size.0
            );
            if over > 0 {
                problems.push(format!(
                    "{}: {path} at {} px is {over} px too wide ({culprit})",
                    who.0, size.0
                ));
            }
        }

        let text: String =
            serde_json::from_value(b.client.execute(VISIBLE_WORDS, vec![]).await.unwrap()).unwrap();
        let raw = codes_in(&text, codes);
        if !raw.is_empty() {
            problems.push(format!("{}: {path} shows codes {}", who.0, raw.join(" · ")));
        }

        let links: Vec<String> =
            serde_json::from_value(b.client.execute(LINKS, vec![]).await.unwrap()).unwrap();
        for link in links {
            if followed(&link) && seen.insert(shape(&link)) {
                queue.push_back((link, path.clone()));
            }
        }
    }
    eprintln!("{}: {visited} page shapes visited", who.0);
    b.close().await;
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_demo_role_fits_a_phone_and_a_desktop_and_shows_no_codes() {
    let app = TestApp::with_demo_campaigns().await;
    let codes = codes();
    let mut problems = Vec::new();
    for who in [
        OWNER_LUMI,
        OPERATOR_LUMI,
        VIEWER_LUMI,
        ACCOUNT_MANAGER,
        ADMIN,
        FINANCE,
    ] {
        problems.extend(visit_every_page(&app, who, &codes).await);
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_route_shape_ignores_ids_and_query_values() {
    assert_eq!(
        shape("/t/lumi/campaigns/0192f3c4-1111-7abc-8def-000000000001/matching?page=2&sort=score"),
        "/t/lumi/campaigns/{id}/matching?page&sort"
    );
    assert_eq!(shape("/admin/tenants"), "/admin/tenants");
    assert!(!followed("/r/abc123"));
    assert!(!followed("/t/lumi/orders/x/rejected.csv"));
    assert!(followed("/t/lumi/campaigns?status=running"));
}
