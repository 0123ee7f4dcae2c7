//! The layers point one way — web → services → db → domain, with the entry points (`app`,
//! `cli`, `bench`, `main`, `lib`) above them all — and handlers change nothing in the database
//! themselves. These tests read the source, so a change that breaks either rule fails the build
//! with the file and line to fix.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let rel = path.strip_prefix(src()).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Files allowed to know the web layer: the web itself and the entry points.
fn above_the_services(rel: &str) -> bool {
    rel.starts_with("web/") || ["app.rs", "cli.rs", "bench.rs", "main.rs", "lib.rs"].contains(&rel)
}

/// Code lines only: comments say what they like.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim_start().starts_with("//"))
}

#[test]
fn nothing_below_the_web_imports_it_or_axum() {
    let mut offenders = Vec::new();
    for (rel, text) in rust_files(&src()) {
        if above_the_services(&rel) {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains("crate::web") || line.contains("axum::") || line.contains("crate::app") {
                offenders.push(format!("src/{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "services, db and domain must not import the web layer, axum or the entry points:\n  {}",
        offenders.join("\n  ")
    );
}

#[test]
fn the_entry_points_do_not_import_each_other_in_a_circle() {
    // `cli` runs the commands (it may use `app` and `bench`); `bench` starts a Herald (it may use
    // `app`); `app` starts the web and the worker and uses neither.
    let app = fs::read_to_string(src().join("app.rs")).unwrap();
    for (n, line) in code_lines(&app) {
        assert!(
            !line.contains("crate::bench") && !line.contains("crate::cli"),
            "src/app.rs:{n} imports an entry point above it: {}",
            line.trim()
        );
    }
    let bench = fs::read_to_string(src().join("bench.rs")).unwrap();
    for (n, line) in code_lines(&bench) {
        assert!(!line.contains("crate::cli"), "src/bench.rs:{n} imports the CLI: {}", line.trim());
    }
}

/// Repository functions that change data: those whose body writes (INSERT, UPDATE, DELETE or a
/// write transaction), or calls one that does.
fn repository_writes() -> BTreeSet<String> {
    // Each repository function's body, by name.
    let mut bodies: Vec<(String, String)> = Vec::new();
    for (_, text) in rust_files(&src().join("db")) {
        for line in text.lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("pub async fn ").or_else(|| t.strip_prefix("pub fn "))
                && let Some(name) = rest.split(['(', '<']).next()
            {
                bodies.push((name.to_owned(), String::new()));
            } else if !line.is_empty() && !line.starts_with([' ', '\t', '}']) {
                // Another top-level item (a constant, a type, an `impl`): the function before
                // it has ended, and what follows is nobody's body.
                bodies.push((String::new(), String::new()));
            }
            if let Some((_, body)) = bodies.last_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    let mut writes: BTreeSet<String> = bodies
        .iter()
        .filter(|(name, body)| {
            !name.is_empty()
                && ["INSERT ", "UPDATE ", "DELETE ", "begin_write"].iter().any(|w| body.contains(w))
        })
        .map(|(name, _)| name.clone())
        .collect();
    loop {
        let more: Vec<String> = bodies
            .iter()
            .filter(|(name, body)| {
                !writes.contains(name) && writes.iter().any(|w| body.contains(&format!("self.{w}(")))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            return writes;
        }
        writes.extend(more);
    }
}

#[test]
fn handlers_change_the_database_only_through_services() {
    let writes = repository_writes();
    // The rule must be able to fail: these are known writes.
    for known in ["create_user", "update_event", "create_api_token", "revoke_api_token", "set_rsvp"] {
        assert!(writes.contains(known), "{known} should be found as a repository write: {writes:?}");
    }
    let mut offenders = Vec::new();
    for (rel, text) in rust_files(&src().join("web")) {
        for (n, line) in code_lines(&text) {
            for w in &writes {
                if line.contains(&format!(".{w}(")) {
                    offenders.push(format!("src/{rel}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "handlers must call a service function, not write to the repository:\n  {}",
        offenders.join("\n  ")
    );
}
