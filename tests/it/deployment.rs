//! The Docker files, checked on their text (no Docker engine runs here): the image creates the
//! data folder it points the server at, owned by the user it runs as, and compose keeps that
//! folder (the uploads under `objects/`) on a named volume.

use std::fs;
use std::path::Path;

fn read(name: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).expect(name)
}

/// The runtime stage's instructions (after the last `FROM`), continuation lines joined.
fn runtime_stage(dockerfile: &str) -> Vec<String> {
    let joined = dockerfile.replace("\\\n", " ");
    let lines: Vec<String> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let last_from = lines
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("a FROM");
    lines[last_from..].to_vec()
}

/// The value an `ENV` instruction of the stage gives `name`.
fn env_value(stage: &[String], name: &str) -> Option<String> {
    stage
        .iter()
        .filter_map(|l| l.strip_prefix("ENV "))
        .flat_map(|l| l.split_whitespace())
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(String::from))
}

#[test]
fn the_image_creates_the_data_folder_it_points_at_owned_by_the_runtime_user() {
    let stage = runtime_stage(&read("Dockerfile"));
    let data_dir = env_value(&stage, "SEXTANT_DATA_DIR").expect("the image sets SEXTANT_DATA_DIR");
    assert!(data_dir.starts_with('/'), "{data_dir}");
    let user_at = stage
        .iter()
        .position(|l| l.starts_with("USER "))
        .expect("the image runs as a user of its own");
    let user = stage[user_at]["USER ".len()..].trim().to_string();
    assert_ne!(user, "root");
    // Created and handed to the user by a RUN before `USER` (which would no longer be root).
    let runs: Vec<&String> = stage[..user_at]
        .iter()
        .filter(|l| l.starts_with("RUN "))
        .collect();
    let commands: Vec<String> = runs
        .iter()
        .flat_map(|r| r["RUN ".len()..].split("&&"))
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let creates = commands.iter().any(|c| {
        c.starts_with("mkdir ")
            && c.split_whitespace()
                .any(|a| a == data_dir || a.starts_with(&format!("{data_dir}/")))
    });
    assert!(creates, "no `mkdir` of {data_dir} in {commands:?}");
    let chowns = commands.iter().any(|c| {
        let args: Vec<&str> = c.split_whitespace().collect();
        args.first() == Some(&"chown")
            && args.contains(&"-R")
            && args
                .iter()
                .any(|a| *a == user || a.starts_with(&format!("{user}:")))
            && args.last() == Some(&data_dir.as_str())
    });
    assert!(chowns, "no `chown -R {user}` of {data_dir} in {commands:?}");
}

#[test]
fn compose_keeps_the_data_folder_on_a_named_volume() {
    let stage = runtime_stage(&read("Dockerfile"));
    let data_dir = env_value(&stage, "SEXTANT_DATA_DIR").expect("the image sets SEXTANT_DATA_DIR");
    let compose: serde_yaml::Value =
        serde_yaml::from_str(&read("docker-compose.yml")).expect("compose is YAML");
    let app = &compose["services"]["app"];
    // The app may override the folder; compose must mount whichever one the server uses.
    let used = app["environment"]["SEXTANT_DATA_DIR"]
        .as_str()
        .map_or(data_dir, String::from);
    let mounts: Vec<&str> = app["volumes"]
        .as_sequence()
        .expect("the app has volumes")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let named = compose["volumes"].as_mapping().expect("top-level volumes");
    let kept = mounts.iter().any(|m| {
        let mut parts = m.split(':');
        let (source, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        target == used && named.contains_key(source)
    });
    assert!(kept, "no named volume at {used} in {mounts:?}");
}
