//! Herald as it runs in production: several web processes and several workers on one Postgres
//! database and one Temporal server. Events are created through both web processes; 1,000
//! reminders go out exactly once although one worker is SIGKILLed half-way through.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt as _;
use herald::db::models::{ParticipantRole, Rsvp};
use herald::db::participants::Invitee;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::delivery::{Person, create_org, person};
use crate::orgs::api_user;
use crate::support::fake_apprise::FakeApprise;
use crate::support::temporal_server::TemporalServer;
use crate::support::{Backend, TestApp, TestDb, eventually, free_port, herald_bin};

/// A `herald` child process, SIGKILLed when dropped (also when the test fails).
struct Process {
    child: Child,
    name: String,
}

impl Process {
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What every process of the deployment shares.
struct Deployment {
    data_dir: std::path::PathBuf,
    database_url: String,
    temporal: String,
    task_queue: String,
    apprise: String,
    base_url: String,
}

impl Deployment {
    fn spawn(&self, name: &str, args: &[&str], env: &[(&str, String)]) -> Process {
        let log = std::fs::File::create(self.data_dir.join(format!("{name}.log"))).unwrap();
        let mut cmd = Command::new(herald_bin());
        cmd.args(args)
            .env("HERALD_DATABASE_URL", &self.database_url)
            .env("HERALD_DATA_DIR", &self.data_dir)
            .env("HERALD_TEMPORAL_ADDRESS", &self.temporal)
            .env("HERALD_TASK_QUEUE", &self.task_queue)
            .env("HERALD_APPRISE_URL", &self.apprise)
            .env("HERALD_BASE_URL", &self.base_url)
            .env("HERALD_ALLOW_PRIVATE_TARGETS", "true")
            .env_remove("HERALD_LISTEN")
            .stdout(Stdio::from(log))
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        Process { child, name: name.to_owned() }
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.data_dir.join(format!("{name}.log"))).unwrap_or_default()
    }
}

/// One API call to the web process at `base`.
async fn call(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = http
        .request(method.clone(), format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {base}{path}: {e}"));
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const EVENTS: usize = 50;
const PEOPLE: usize = 20;

/// 2 × `herald serve --no-worker` and 2 × `herald worker` on one Postgres and one Temporal dev
/// server. 50 events (20 participants each) are created through both web processes, their
/// reminders due in two waves: 500 about 25 s ahead, 500 about 45 s ahead. Once the first wave is
/// delivered, one worker is SIGKILLed while the second wave waits; the other worker takes its
/// workflows over. Every one of the 1,000 reminders arrives exactly once. (The kill lands while no
/// message is on its way: DELIVERY.md names the one window, between the Apprise API accepting a
/// message and the ledger recording it, where a kill can repeat one.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_processes_deliver_every_reminder_once_through_a_killed_worker() {
    let clock = Instant::now();
    let temporal = TemporalServer::start().await;
    let db = TestDb::new(Backend::Postgres).await;
    // Every process reads the same key file: made once, before any of them starts.
    herald::secrets::SecretKey::load(None, db.data_dir.path()).unwrap();
    let apprise = FakeApprise::start().await;
    let ports = [free_port(), free_port()];
    let webs: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let herald::config::DatabaseUrl::Postgres(database_url) = db.url.clone() else {
        panic!("a Postgres test")
    };
    let deployment = Deployment {
        data_dir: db.data_dir.path().to_path_buf(),
        database_url,
        temporal: temporal.address(),
        task_queue: format!("herald-test-{}", Uuid::new_v4().simple()),
        apprise: apprise.base.clone(),
        // The proxy in front of the web processes would answer here; links in messages use it.
        base_url: webs[0].clone(),
    };
    let mut processes = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let listen = [("HERALD_LISTEN", format!("127.0.0.1:{port}"))];
        processes.push(deployment.spawn(&format!("web-{i}"), &["serve", "--no-worker"], &listen));
    }
    for i in 0..2 {
        processes.push(deployment.spawn(&format!("worker-{i}"), &["worker"], &[]));
    }
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    for base in &webs {
        eventually(Duration::from_secs(60), "both web processes to be ready", || async {
            let r = http.get(format!("{base}/readyz")).send().await.ok()?;
            r.status().is_success().then_some(())
        })
        .await;
    }
    let started = clock.elapsed();

    // The test drives web process 0 with the usual helpers; events are created through both.
    let addr = webs[0].trim_start_matches("http://").parse().unwrap();
    let app = TestApp {
        herald: None,
        addr,
        base: webs[0].clone(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        apprise,
    };
    let (_, olga) = api_user(&app, "olga@example.org", "Olga", true).await;
    create_org(&app, &olga).await;
    let mut people: Vec<Person> = Vec::new();
    for i in 0..PEOPLE {
        let mail = format!("mailtos://p{i}:pw@smtp.example.org?to=p{i}@example.org");
        people
            .push(person(&app, &format!("p{i}@example.org"), &format!("P{i}"), "UTC", &[(&mail, &[])]).await);
    }

    // Wave 1 due 25–30 s from now, wave 2 45–50 s from now (offset 60 s before the start).
    let t0 = Utc::now();
    let due = |i: usize| {
        let wave = if i.is_multiple_of(2) { 25_000 } else { 45_000 };
        t0 + chrono::Duration::milliseconds(wave + (i as i64 * 5_000 / EVENTS as i64))
    };
    let created_at = Instant::now();
    let ids: Vec<(usize, Uuid)> = futures::stream::iter(0..EVENTS)
        .map(|i| {
            let (http, base, olga) = (&app.http, &webs[i % 2], &olga);
            async move {
                let starts_at = due(i) + chrono::Duration::seconds(60);
                let body = json!({
                    "name": format!("Night {i:03}"), "starts_at": starts_at.to_rfc3339(),
                    "ends_at": (starts_at + chrono::Duration::seconds(30)).to_rfc3339(),
                    "timezone": "UTC", "reminder_offsets": [60], "status": "published",
                });
                let (status, body) =
                    call(http, base, olga, Method::POST, "/api/v1/orgs/rust-paris/events", body).await;
                assert_eq!(status, 201, "{body}");
                (i, Uuid::parse_str(body["id"].as_str().unwrap()).unwrap())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let create_took = created_at.elapsed();
    let db = &app.db.db;
    futures::stream::iter(ids.iter().flat_map(|(_, ev)| people.iter().map(move |p| (*ev, p.id))))
        .for_each_concurrent(16, |(ev, who)| async move {
            db.add_participant(ev, Invitee::User(who), ParticipantRole::Attendee, Rsvp::Going).await.unwrap();
        })
        .await;
    assert!(Utc::now() < due(0), "set up before the first reminder was due");
    eventually(Duration::from_secs(20), "every workflow to be started", || async {
        let missing = db.events_missing_workflow(1000).await.ok()?;
        let (outbox, _) = db.outbox_summary().await.ok()?;
        (missing.is_empty() && outbox == 0).then_some(())
    })
    .await;

    let names: HashMap<String, usize> = (0..EVENTS).map(|i| (format!("Reminder: Night {i:03}"), i)).collect();
    let reminders = |app: &TestApp| -> HashMap<(usize, String), usize> {
        let mut seen = HashMap::new();
        for d in app.apprise.delivered() {
            if let (Some(i), Some(key)) = (names.get(d.title.as_str()), d.key) {
                *seen.entry((*i, key)).or_insert(0) += 1;
            }
        }
        seen
    };
    let count = |app: &TestApp| reminders(app).values().sum::<usize>();
    let half = EVENTS / 2 * PEOPLE;
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&app) < half {
        if Instant::now() > deadline {
            let tail = |name: &str| {
                let log = deployment.log(name);
                log.lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                    .take(15)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let herald::db::Db::Postgres(pool) = &app.db.db else { unreachable!() };
            let ledger: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT kind, status, COUNT(*) FROM notifications GROUP BY kind, status")
                    .fetch_all(pool)
                    .await
                    .unwrap();
            println!("ledger: {ledger:?}; worker-1 warnings:\n{}", tail("worker-1"));
            panic!(
                "the first wave: {} of {half} reminders; {} messages in all\nworker-0:\n{}\nweb-0:\n{}",
                count(&app),
                app.apprise.delivered().len(),
                tail("worker-0"),
                tail("web-0")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first_done = Utc::now();
    // A moment for the ledger, then the first wave is complete and nothing more is on its way.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(&app), half, "the first wave only, once each");
    assert!(Utc::now() < due(1), "the second wave is not due yet");
    let killed = processes.iter_mut().find(|p| p.name == "worker-0").unwrap();
    killed.kill();
    let killed_at = Utc::now();

    let all = EVENTS * PEOPLE;
    let last = eventually(Duration::from_secs(90), "the second wave of reminders", || async {
        (count(&app) >= all).then(Utc::now)
    })
    .await;
    // Enough time for any duplicate to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = reminders(&app);
    let keys: Vec<&String> = people.iter().map(|p| &p.key).collect();
    for i in 0..EVENTS {
        for key in &keys {
            assert_eq!(seen.get(&(i, (*key).clone())), Some(&1), "Night {i:03} to {key}: exactly once");
        }
    }
    assert_eq!(seen.values().sum::<usize>(), all, "1,000 reminders, no more");
    let log = deployment.log("worker-1");
    assert!(!log.contains("panicked"), "the surviving worker:\n{log}");
    println!(
        "processes ready in {started:?}; {EVENTS} events created through 2 web processes in {create_took:?}; \
         first wave done {:.1} s after its last due time; worker-0 killed at {killed_at}; second wave done {:.1} s after its last due time; test ran {:?}",
        (first_done - due(EVENTS - 2)).num_milliseconds() as f64 / 1000.0,
        (last - due(EVENTS - 1)).num_milliseconds() as f64 / 1000.0,
        clock.elapsed()
    );
    drop(processes);
    drop(temporal);
}
