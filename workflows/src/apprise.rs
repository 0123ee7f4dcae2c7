//! A typed client for the Apprise API (see `shared/APPRISE.md`): every answer maps to an
//! [`Outcome`] the caller can act on. This is the stateless part used for system mail; the
//! stateful calls (config keys) join it with the integrations feature.

use std::time::Duration;

use serde::Serialize;
use url::Url;

/// What became of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every matched target accepted it (200).
    Delivered,
    /// Some targets failed (424); the others were delivered, so do not resend blindly.
    Partial {
        /// The Apprise API's explanation.
        reason: String,
    },
    /// The request was refused for good (400, or 204 for missing/invalid stateless URLs).
    Rejected {
        /// Why, in words.
        reason: String,
    },
    /// Nothing was delivered and trying again later may work (connection error, timeout, 5xx).
    Unavailable {
        /// Why, in words.
        reason: String,
    },
}

/// The Apprise API at one base URL.
#[derive(Debug, Clone)]
pub struct AppriseClient {
    base: Url,
    http: reqwest::Client,
}

#[derive(Serialize)]
struct StatelessNotify<'a> {
    urls: &'a [String],
    title: &'a str,
    body: &'a str,
}

impl AppriseClient {
    /// A client for the Apprise API at `base` (e.g. `http://apprise:8000`).
    pub fn new(base: Url, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http =
            reqwest::Client::builder().timeout(timeout).connect_timeout(Duration::from_secs(5)).build()?;
        Ok(Self { base, http })
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// Sends through `urls` without a stored config (`POST /notify/`).
    pub async fn notify_stateless(&self, urls: &[String], title: &str, body: &str) -> Outcome {
        let request = self
            .http
            .post(self.endpoint("notify/"))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&StatelessNotify { urls, title, body });
        match request.send().await {
            Err(e) => Outcome::Unavailable { reason: describe(&e) },
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                classify(status, &text, "no valid notification URL was given")
            }
        }
    }
}

/// Maps an answer of `/notify` to an outcome; `on_204` says what an empty answer means there.
fn classify(status: u16, body: &str, on_204: &str) -> Outcome {
    let message = || {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(200).collect())
    };
    match status {
        200 => Outcome::Delivered,
        204 => Outcome::Rejected { reason: on_204.to_owned() },
        424 => Outcome::Partial { reason: message() },
        400..=499 => Outcome::Rejected { reason: format!("{status}: {}", message()) },
        _ => Outcome::Unavailable { reason: format!("the Apprise API answered {status}") },
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the Apprise API did not answer in time".to_owned()
    } else if e.is_connect() {
        "cannot connect to the Apprise API".to_owned()
    } else {
        "the request to the Apprise API failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_outcomes() {
        assert_eq!(classify(200, "{}", ""), Outcome::Delivered);
        assert!(matches!(classify(204, "", "x"), Outcome::Rejected { .. }));
        assert_eq!(
            classify(424, r#"{"error": "One or more notification could not be sent"}"#, ""),
            Outcome::Partial { reason: "One or more notification could not be sent".into() }
        );
        assert!(
            matches!(classify(400, r#"{"error":"Payload lacks minimum requirements"}"#, ""), Outcome::Rejected { reason } if reason.contains("Payload"))
        );
        assert!(matches!(classify(500, "", ""), Outcome::Unavailable { .. }));
    }
}
