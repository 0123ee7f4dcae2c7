//! Channels cannot make Herald (through the Apprise API) reach its own network: with the
//! operator's default (`HERALD_ALLOW_PRIVATE_TARGETS` off), every spelling of a private address
//! and every local or relaying service is refused when a channel is saved, and nothing is sent.

use reqwest::Method;
use serde_json::Value;

use crate::integrations::api_channel;
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp};

both_backends!(private_and_local_targets_are_refused_by_default);

/// The field names of a 422 problem document.
fn fields_of(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map_or_else(Vec::new, |e| e.iter().filter_map(|f| f["field"].as_str().map(str::to_owned)).collect())
}

async fn private_and_local_targets_are_refused_by_default(backend: Backend) {
    let app = TestApp::start_strict(backend).await;
    let (_, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let private = [
        "json://127.0.0.1:8000/",
        "json://user:pw@127.0.0.1:9/",
        "form://10.0.0.1:8500/v1/kv",
        "xml://[::1]:6379/",
        "json://localhost:7233/",
        "json://0x7f000001:22/",
        "json://2130706433/",
        "json://127.1/",
        "json://0177.0.0.1/",
        "json://[::ffff:127.0.0.1]/",
        "json://[fd00::1]/",
        "jsons://169.254.169.254/latest/meta-data/",
        "json://temporal-ui:8080/",
        "json://postgres:5432/",
        "ntfy://apprise:8000/topic",
        "gotifys://printer.local/token",
        "mailtos://ada:pw@example.org?smtp=192.168.1.10&to=ada@example.org",
        "json://%31%32%37.0.0.1/",
    ];
    for url in private {
        let (status, body) =
            api(&app, &token, Method::POST, "/api/v1/integrations", Some(api_channel("Mine", &[(url, &[])])))
                .await;
        assert_eq!((status, fields_of(&body)), (422, vec!["urls[0].url".to_owned()]), "{url}: {body}");
        let text = body.to_string();
        assert!(text.contains("private or local network"), "{url}: {text}");
        assert!(
            !text.contains("127.0.0.1") && !text.contains("postgres"),
            "nothing about the target: {text}"
        );
    }
    let local_services =
        ["file:///etc/passwd", "apprise://127.0.0.1:8000/otherkey", "syslog://", "windows://x"];
    for url in local_services {
        let (status, body) =
            api(&app, &token, Method::POST, "/api/v1/integrations", Some(api_channel("Mine", &[(url, &[])])))
                .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert!(body.to_string().contains("does not send through"), "{url}: {body}");
    }
    assert!(app.apprise.keys().is_empty(), "nothing reached the Apprise API");
    assert!(app.apprise.delivered_to("").is_empty(), "nothing was sent");

    // Public services are fine: the channel is saved and its code goes out.
    let (status, body) = api(
        &app,
        &token,
        Method::POST,
        "/api/v1/integrations",
        Some(api_channel(
            "Phone",
            &[("ntfys://ntfy.sh/ada-phone", &[]), ("tgram://123456:AAH-token/42", &[])],
        )),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(app.apprise.keys().len(), 1);
    app.stop().await;
}
