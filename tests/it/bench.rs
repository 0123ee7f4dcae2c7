//! `herald bench` in its quick form against the test Temporal server and the fake Apprise API
//! (which really POSTs loopback `json://` targets, so the bench's sink receives): every
//! expected message arrives exactly once per round, none early, the order of Herald and its
//! baselines alternates between rounds, and the report prints the figures and their medians.

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
    // Two rounds: the baselines run first in round 1 and after Herald in round 2.
    let options = Options { rounds: 2, ..Options::quick() };
    let report: Report = herald::bench::run(&options, settings).await.expect("the bench runs");
    assert_eq!((report.lateness.len(), report.fanout.len()), (2, 2), "{report}");

    for (round, l) in report.lateness.iter().enumerate() {
        assert_eq!(l.floor_first, round == 0, "the order alternates: {report}");
        let late = &l.receipts;
        assert_eq!((late.expected, late.arrived), (20, 20), "{report}");
        assert_eq!((late.duplicates, late.unexpected, late.timed_out), (0, 0, false), "{report}");
        let lateness = l.lateness.expect("lateness figures");
        assert!(lateness.min >= 0.0, "a reminder arrived before it was due: {report}");
        assert!(lateness.min <= lateness.p50 && lateness.p50 <= lateness.p95, "{report}");
        assert!(lateness.p95 <= lateness.p99 && lateness.p99 <= lateness.max, "{report}");

        // The floor ran for the same due times, every one of its POSTs arrived once and none early.
        let floor = l.floor.as_ref().expect("the floor ran");
        let r = &floor.receipts;
        assert_eq!(
            (r.expected, r.arrived, r.duplicates, r.unexpected, r.timed_out),
            (20, 20, 0, 0, false),
            "{report}"
        );
        let floor_lateness = floor.lateness.expect("floor figures");
        assert!(floor_lateness.min >= 0.0, "a floor POST came early: {report}");
        let (p50, p99) = l.ratios();
        assert_eq!(p99, Some(lateness.p99 / floor_lateness.p99), "{report}");
        assert_eq!(p50, Some(lateness.p50 / floor_lateness.p50), "{report}");
    }

    for (round, o) in report.fanout.iter().enumerate() {
        assert_eq!(o.raw_first, round == 0, "the order alternates: {report}");
        let fan = &o.receipts;
        assert_eq!((fan.expected, fan.arrived), (100, 100), "{report}");
        assert_eq!((fan.duplicates, fan.unexpected, fan.timed_out), (0, 0, false), "{report}");
        let after_due = o.after_due.expect("fan-out figures");
        assert!(after_due.min >= 0.0, "a fan-out message arrived before it was due: {report}");
        let rate = o.per_second.expect("a rate");
        assert!((rate - 100.0 / (after_due.max / 1000.0)).abs() < 0.01, "rate = M / (last − due): {report}");
        // The raw rate went straight to the fan-out recipients' configs, all delivered.
        let raw = o.raw.as_ref().expect("the raw rate was measured");
        assert_eq!((raw.sent, raw.failed, raw.concurrency), (100, 0, 16), "{report}");
        let raw_rate = raw.per_second().expect("a raw rate");
        assert!(raw_rate > 0.0, "{report}");
        assert_eq!(o.ratio(), Some(rate / raw_rate), "{report}");
    }
    assert!(report.complete());
    // The summary is the median of the two rounds' ratios.
    let ratios: Vec<f64> = report.lateness.iter().filter_map(|l| l.ratios().1).collect();
    assert_eq!(report.lateness_ratios().1, Some((ratios[0] + ratios[1]) / 2.0), "{report}");

    // Every message really went through the Apprise API to a bench channel, once per round.
    let sent = apprise.delivered_to("json://127.0.0.1:");
    let reminders = sent.iter().filter(|d| d.title.starts_with("Reminder: Bench")).count();
    let raw_notifies = sent.iter().filter(|d| d.title == "Bench raw rate").count();
    assert_eq!((reminders, raw_notifies, sent.len()), (240, 200, 440), "{sent:#?}");
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
        "Round 2 of 2: Floor",
        "run just after Herald's",
        "Summary of 2 rounds",
        "→ median",
    ] {
        assert!(printed.contains(figure), "the report shows {figure:?}:\n{printed}");
    }
    println!("{printed}");
}
