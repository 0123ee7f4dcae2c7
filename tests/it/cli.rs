//! The binary as an operator runs it: start-up errors, migrate, JSON logs, graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{free_port, herald_bin, temporal_address};

/// Runs `herald ARGS` with a clean HERALD_* environment plus `env`, returning (code, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(herald_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("HERALD_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.args(args).envs(env.iter().copied()).stdin(Stdio::null()).output().expect("run herald");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The failure is one line naming `setting`, exit code non-zero, no panic.
fn assert_one_line_failure(code: Option<i32>, stderr: &str, setting: &str) {
    assert!(matches!(code, Some(c) if c != 0), "non-zero exit, got {code:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {stderr:?}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(setting), "names {setting}: {stderr}");
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
}

#[test]
fn unparseable_database_url_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    for url in ["mysql://localhost/herald", "not a url", "postgres://"] {
        let (code, stderr) = run(&["serve"], &[("HERALD_DATA_DIR", data), ("HERALD_DATABASE_URL", url)]);
        assert_one_line_failure(code, &stderr, "HERALD_DATABASE_URL");
    }
}

#[test]
fn database_password_never_appears_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nothing listens there
    let url = format!("postgres://herald:hunter2@127.0.0.1:{port}/herald");
    let (code, stderr) = run(
        &["migrate"],
        &[("HERALD_DATA_DIR", dir.path().to_str().unwrap()), ("HERALD_DATABASE_URL", &url)],
    );
    assert_one_line_failure(code, &stderr, "HERALD_DATABASE_URL");
    assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
}

#[test]
fn unwritable_data_folder_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a folder should be: not creatable, even for root.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let data = blocker.join("data");
    let (code, stderr) = run(&["serve"], &[("HERALD_DATA_DIR", data.to_str().unwrap())]);
    assert_one_line_failure(code, &stderr, "HERALD_DATA_DIR");
}

#[test]
fn port_in_use_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let (code, stderr) = run(
        &["serve", "--no-worker"],
        &[("HERALD_DATA_DIR", dir.path().to_str().unwrap()), ("HERALD_LISTEN", &listen)],
    );
    assert_one_line_failure(code, &stderr, "HERALD_LISTEN");
    assert!(stderr.contains("already in use"), "{stderr}");
}

#[test]
fn invalid_listen_address_and_log_format_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, stderr) = run(&["serve"], &[("HERALD_DATA_DIR", data), ("HERALD_LISTEN", "localhost")]);
    assert_one_line_failure(code, &stderr, "HERALD_LISTEN");
    let (code, stderr) =
        run(&["serve"], &[("HERALD_DATA_DIR", data), ("HERALD_TEMPORAL_ADDRESS", "ftp://x")]);
    assert_one_line_failure(code, &stderr, "HERALD_TEMPORAL_ADDRESS");
    let (code, stderr) = run(&["migrate"], &[("HERALD_DATA_DIR", data), ("HERALD_LOG_FORMAT", "xml")]);
    assert!(matches!(code, Some(c) if c != 0));
    assert!(
        stderr.contains("xml") && stderr.contains("pretty") && stderr.contains("json"),
        "lists the choices: {stderr}"
    );
}

#[test]
fn migrate_creates_the_default_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let (code, stderr) = run(&["migrate"], &[("HERALD_DATA_DIR", data.to_str().unwrap())]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(data.join("herald.db").is_file(), "the SQLite file is created in the data folder");
    let (code, stderr) = run(&["migrate"], &[("HERALD_DATA_DIR", data.to_str().unwrap())]);
    assert_eq!(code, Some(0), "migrating twice is harmless: {stderr}");
}

/// `herald serve` with JSON logs answers, logs each request with its id, and exits 0 on SIGTERM
/// after finishing.
#[test]
fn serve_logs_json_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(herald_bin())
        .arg("serve")
        .env("HERALD_DATA_DIR", dir.path())
        .env("HERALD_LISTEN", &listen)
        .env("HERALD_TEMPORAL_ADDRESS", temporal_address())
        .env("HERALD_TASK_QUEUE", format!("herald-cli-{}", uuid::Uuid::new_v4().simple()))
        .env("HERALD_LOG_FORMAT", "json")
        .env_remove("HERALD_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn herald");
    let stdout = child.stdout.take().unwrap();
    let lines =
        std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut answered = false;
    while Instant::now() < deadline {
        if http_ok(&listen, "/healthz") {
            answered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(answered, "herald serve answered /healthz");
    // The healthcheck command agrees.
    let hc = Command::new(herald_bin()).arg("healthcheck").env("HERALD_LISTEN", &listen).output().unwrap();
    assert!(hc.status.success(), "herald healthcheck: {}", String::from_utf8_lossy(&hc.stderr));

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "herald did not stop within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "graceful exit code 0, got {status:?}");

    let lines = lines.join().unwrap();
    let parsed: Vec<serde_json::Value> = lines.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(parsed.len(), lines.len(), "every log line is JSON: {lines:#?}");
    let request_line = parsed
        .iter()
        .find(|v| v["span"]["path"] == "/healthz")
        .unwrap_or_else(|| panic!("a log line for the /healthz request: {lines:#?}"));
    assert!(request_line["span"]["request_id"].as_str().is_some_and(|id| id.len() >= 32), "{request_line}");
    assert!(lines.iter().any(|l| l.contains("shutting down")), "logs its shutdown: {lines:#?}");
}

/// A plain blocking HTTP/1.1 GET: whether it answered 200.
fn http_ok(addr: &str, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// `herald worker` runs without a web server, polls Temporal, and stops cleanly on SIGTERM.
#[test]
fn worker_alone_polls_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(herald_bin())
        .arg("worker")
        .env("HERALD_DATA_DIR", dir.path())
        .env("HERALD_TEMPORAL_ADDRESS", temporal_address())
        .env("HERALD_TASK_QUEUE", format!("herald-cli-{}", uuid::Uuid::new_v4().simple()))
        .env("HERALD_LOG_FORMAT", "json")
        .env_remove("HERALD_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn herald worker");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("worker polling")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("the worker never reported polling: {seen:#?}"),
        }
    }
    assert!(!seen.iter().any(|l| l.contains("Herald is listening")), "no web server in `herald worker`");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "worker did not stop within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "graceful exit code 0, got {status:?}");
}
