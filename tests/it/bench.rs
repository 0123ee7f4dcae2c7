//! `herald bench` in its quick form against the test Temporal server and the fake Apprise API
//! (which really POSTs loopback `json://` targets, so the bench's sink receives): every
//! expected message arrives exactly once, none early, and the report prints the figures.

use herald::app::Settings;
use herald::bench::{Options, Report};

use crate::support::fake_apprise::FakeApprise;
use crate::support::{Backend, TestDb, temporal_address, temporal_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_bench_measures_every_message_once() {
    let db = TestDb::new(Backend::Sqlite).await;
    let apprise = FakeApprise::start().await;
    let settings = Settings {
        database: db.database_config(),
        temporal: temporal_config(&temporal_address()),
        apprise: Some(url::Url::parse(&apprise.base).unwrap()),
        apprise_config_lock: false,
        secret_key: None,
        public_url: url::Url::parse("http://herald.test/").unwrap(),
        web: None,
        worker: true,
        targets: herald::integrations::Targets { allow_private: true },
        retention: Default::default(),
    };
    let options = Options::quick();
    let report: Report = herald::bench::run(&options, settings).await.expect("the bench runs");

    let late = &report.lateness.receipts;
    assert_eq!((late.expected, late.arrived), (20, 20), "{report}");
    assert_eq!((late.duplicates, late.unexpected, late.timed_out), (0, 0, false), "{report}");
    let lateness = report.lateness.lateness.expect("lateness figures");
    assert!(lateness.min >= 0.0, "a reminder arrived before it was due: {report}");
    assert!(lateness.min <= lateness.p50 && lateness.p50 <= lateness.p95, "{report}");
    assert!(lateness.p95 <= lateness.p99 && lateness.p99 <= lateness.max, "{report}");

    // The floor ran for the same due times, every one of its POSTs arrived once and none early.
    let floor = report.lateness.floor.as_ref().expect("the floor ran");
    let r = &floor.receipts;
    assert_eq!(
        (r.expected, r.arrived, r.duplicates, r.unexpected, r.timed_out),
        (20, 20, 0, 0, false),
        "{report}"
    );
    assert!(floor.lateness.expect("floor figures").min >= 0.0, "a floor POST came early: {report}");

    let fan = &report.fanout.receipts;
    assert_eq!((fan.expected, fan.arrived), (100, 100), "{report}");
    assert_eq!((fan.duplicates, fan.unexpected, fan.timed_out), (0, 0, false), "{report}");
    let after_due = report.fanout.after_due.expect("fan-out figures");
    assert!(after_due.min >= 0.0, "a fan-out message arrived before it was due: {report}");
    let rate = report.fanout.per_second.expect("a rate");
    assert!((rate - 100.0 / (after_due.max / 1000.0)).abs() < 0.01, "rate = M / (last − due): {report}");
    assert!(report.complete());
    // The raw rate went straight to the fan-out recipients' configs, all delivered.
    let raw = report.fanout.raw.as_ref().expect("the raw rate was measured");
    assert_eq!((raw.sent, raw.failed, raw.concurrency), (100, 0, 16), "{report}");
    assert!(raw.per_second().is_some_and(|r| r > 0.0), "{report}");

    // Every message really went through the Apprise API to a bench channel, once.
    let sent = apprise.delivered_to("json://127.0.0.1:");
    let reminders = sent.iter().filter(|d| d.title.starts_with("Reminder: Bench")).count();
    let raw_notifies = sent.iter().filter(|d| d.title == "Bench raw rate").count();
    assert_eq!((reminders, raw_notifies, sent.len()), (120, 100, 220), "{sent:#?}");
    // The bench removed its channels from the Apprise API afterwards.
    assert!(apprise.keys().is_empty(), "left behind: {} configs", apprise.keys().len());

    let printed = report.to_string();
    for figure in [
        "20 / 20",
        "100 / 100",
        "duplicates  0",
        "p50",
        "p95",
        "p99",
        "max",
        "notifications/s",
        "Herald ÷ floor",
        "fan-out ÷ raw",
    ] {
        assert!(printed.contains(figure), "the report shows {figure:?}:\n{printed}");
    }
    println!("{printed}");
}
