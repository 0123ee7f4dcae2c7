//! Mail as it really leaves: Herald's mailer → apprise-lite (the real `apprise` library behind
//! the Apprise API's calls) → a real SMTP server (`aiosmtpd`, storing a Maildir) → read back
//! with Python's `mailbox`. No test double: this checks that the one-click unsubscribe headers
//! (`+Header=` URL arguments) and the calendar invitation (a multipart `attach`) arrive in the
//! message as APPRISE.md measured them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use herald::domain::Email;
use herald::mail::Mailer;
use herald_workflows::apprise::Attachment;

use crate::support::{eventually, free_port};

fn pythonpath() -> String {
    std::env::var("HERALD_TEST_PYTHONPATH").unwrap_or_else(|_| {
        panic!("HERALD_TEST_PYTHONPATH is not set: run the tests with `make test`, which installs apprise and aiosmtpd")
    })
}

/// A child process killed when the test ends, however it ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python(args: &[&str]) -> Process {
    let child = Command::new("python3")
        .args(args)
        .env("PYTHONPATH", pythonpath())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3");
    Process(child)
}

async fn listening(port: u16, what: &str) {
    eventually(Duration::from_secs(20), what, || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(|_| ())
    })
    .await;
}

/// Every message of the Maildir `dir`, as JSON: headers and parts.
fn read_maildir(dir: &std::path::Path) -> serde_json::Value {
    let script = r#"
import json, mailbox, sys
out = []
for msg in mailbox.Maildir(sys.argv[1], factory=None, create=False):
    parts = [{"type": p.get_content_type(), "filename": p.get_filename(),
              "text": (p.get_payload(decode=True) or b"").decode("utf-8", "replace")}
             for p in msg.walk() if not p.is_multipart()]
    out.append({"to": msg["To"], "subject": msg["Subject"], "unsubscribe": msg["List-Unsubscribe"],
                "unsubscribe_post": msg["List-Unsubscribe-Post"], "parts": parts})
print(json.dumps(out))
"#;
    let out = Command::new("python3").args(["-c", script]).arg(dir).output().expect("run python3");
    // (the stdlib's `mailbox` needs nothing from PYTHONPATH)
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn mail_with_an_invitation_and_unsubscribe_headers_reaches_a_real_smtp_server() {
    let maildir = tempfile::tempdir().unwrap();
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir(maildir.path().join(sub)).unwrap();
    }
    let smtp = free_port();
    let _smtp = python(&[
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        &format!("127.0.0.1:{smtp}"),
        "-c",
        "aiosmtpd.handlers.Mailbox",
        maildir.path().to_str().unwrap(),
    ]);
    let api = free_port();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/apprise-lite.py");
    let _apprise = python(&[script, "--host", "127.0.0.1", "--port", &api.to_string()]);
    listening(smtp, "the SMTP server").await;
    listening(api, "apprise-lite").await;

    let mail_url = format!("mailto://127.0.0.1:{smtp}?mode=insecure&from=herald@example.org");
    let mailer =
        Mailer::new(Some(url::Url::parse(&format!("http://127.0.0.1:{api}")).unwrap()), Some(mail_url));
    let ada = Email::parse("ada@example.org").unwrap();
    let invite = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Herald//Herald events//EN\r\nMETHOD:REQUEST\r\n\
                  BEGIN:VEVENT\r\nUID:1a2b\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300601T180000Z\r\n\
                  SUMMARY:Rust night\r\nSEQUENCE:3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let file = Attachment { name: "invite.ics".into(), mime: "text/calendar".into(), content: invite.into() };
    let opt_out = "https://herald.example.org/optout/abc.def";
    mailer
        .send_attaching(&ada, "You're going: Rust night", "See you there.", &file, Some(opt_out))
        .await
        .expect("the real apprise library accepted the mail");

    let messages = eventually(Duration::from_secs(20), "the message in the Maildir", || async {
        let got = read_maildir(maildir.path());
        (!got.as_array().unwrap().is_empty()).then_some(got)
    })
    .await;
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m["to"].as_str().map(|t| t.contains("ada@example.org")), Some(true), "{m}");
    assert_eq!(m["subject"], "You're going: Rust night");
    assert_eq!(m["unsubscribe"], format!("<{opt_out}>"), "{m}");
    assert_eq!(m["unsubscribe_post"], "List-Unsubscribe=One-Click");
    let parts = m["parts"].as_array().unwrap();
    let calendar = parts
        .iter()
        .find(|p| p["filename"] == "invite.ics")
        .unwrap_or_else(|| panic!("an invite.ics part: {parts:?}"));
    assert_eq!(calendar["type"], "text/calendar");
    assert!(calendar["text"].as_str().unwrap().contains("METHOD:REQUEST"), "{calendar}");
    assert!(parts.iter().any(|p| p["text"].as_str().unwrap().contains("See you there.")), "{parts:?}");
}
