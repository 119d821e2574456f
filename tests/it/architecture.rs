//! The shape of the code, checked on its source: features import each other's `domain`, `actions`
//! and `repo`, never their handlers; SQL lives in `repo.rs` (and `db/`, the seed, the bench);
//! handlers take no `#[allow(clippy::too_many_arguments)]`.

use std::fs;
use std::path::{Path, PathBuf};

/// Folders under `src/` that are features (rooms with handlers and actions); a feature may sit
/// inside another's folder (`tracking/links`), and a file belongs to the deepest one it is in.
const FEATURES: &[&str] = &[
    "admin",
    "api",
    "audit",
    "auth",
    "campaigns",
    "contracts",
    "creators",
    "evidence",
    "fulfilment",
    "matching",
    "ratings",
    "ratings/consistency",
    "review",
    "tenants",
    "tiers",
    "tiers/predict",
    "tracking",
    "tracking/dashboards",
    "tracking/kpis",
    "tracking/links",
    "tracking/order_imports",
    "tracking/posts",
    "webhooks",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(src())
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = fs::read_to_string(&p).expect("read file");
            (rel, text)
        })
        .collect()
}

/// A file is a handler file when it answers HTTP requests with pages or responses.
fn is_handler_file(text: &str) -> bool {
    text.contains("AppResult<Response>") || text.contains("-> impl IntoResponse")
}

fn feature_of(rel: &str) -> Option<&'static str> {
    FEATURES
        .iter()
        .copied()
        .filter(|f| rel.starts_with(&format!("{f}/")))
        .max_by_key(|f| f.len())
}

#[test]
fn no_feature_imports_another_features_handlers() {
    let files = all_files();
    // (feature, module) of every handler file.
    let handler_modules: Vec<(&str, String)> = files
        .iter()
        .filter(|(rel, text)| !rel.ends_with("/mod.rs") && is_handler_file(text))
        .filter_map(|(rel, _)| {
            let module = format!("crate::{}", rel.trim_end_matches(".rs").replace('/', "::"));
            Some((feature_of(rel)?, module))
        })
        .collect();
    let mut offenders = Vec::new();
    for (rel, text) in &files {
        let Some(own) = feature_of(rel) else { continue };
        for (feature, module) in &handler_modules {
            if *feature == own {
                continue;
            }
            // `crate::a::handlers` — or its items through a braced list like `crate::a::{handlers, …}`.
            let (parent, leaf) = module.rsplit_once("::").expect("path");
            let braced = text.match_indices(&format!("{parent}::{{")).any(|(i, _)| {
                let rest = &text[i..];
                let list = &rest[..rest.find('}').unwrap_or(rest.len())];
                list.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == leaf)
            });
            if text.contains(&format!("{module}::"))
                || text.contains(&format!("{module};"))
                || braced
            {
                offenders.push(format!("{rel} uses {module}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "features import each other's domain/actions/repo, never handlers:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn sql_lives_in_repo_files() {
    const SQL_CALLS: &[&str] = &[
        "sqlx::query",
        "query_as::<",
        "query_scalar::<",
        "sqlx::QueryBuilder",
        ".execute(\"",
        "copy_in_raw(",
    ];
    let mut offenders = Vec::new();
    for (rel, text) in all_files() {
        let allowed = rel.ends_with("repo.rs")
            || rel.starts_with("db/")
            || rel.starts_with("seed/")
            || rel.starts_with("bin/");
        if allowed {
            continue;
        }
        for call in SQL_CALLS {
            if text.contains(call) {
                offenders.push(format!("{rel}: {call}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL outside repo.rs, db/, seed and bench:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn handlers_take_no_long_argument_lists() {
    let offenders: Vec<String> = all_files()
        .into_iter()
        .filter(|(rel, text)| {
            feature_of(rel).is_some()
                && is_handler_file(text)
                && text.contains("clippy::too_many_arguments")
        })
        .map(|(rel, _)| rel)
        .collect();
    assert!(
        offenders.is_empty(),
        "handlers with #[allow(clippy::too_many_arguments)]:\n{}",
        offenders.join("\n")
    );
}
