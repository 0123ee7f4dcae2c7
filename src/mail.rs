//! System mail (verification links, invitations, password resets) through the Apprise API's
//! stateless notify with the operator's mail URL; without one, the mail is written to the log
//! so a local user can follow its link.

use std::time::Duration;

use herald_workflows::apprise::{AppriseClient, Outcome};
use tracing::{error, info, warn};
use url::Url;

use crate::domain::Email;

/// Sends system mail.
#[derive(Clone)]
pub struct Mailer {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    Log,
    Apprise { client: AppriseClient, mail_url: String },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.mode {
            Mode::Log => "Mailer(log)",
            Mode::Apprise { .. } => "Mailer(apprise)",
        })
    }
}

/// Mail could not be handed over.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

impl Mailer {
    /// Mail through `apprise` with `mail_url` when both are set; otherwise to the log.
    pub fn new(apprise: Option<Url>, mail_url: Option<String>) -> Self {
        let mode = match (apprise, mail_url) {
            (Some(base), Some(mail_url)) => match AppriseClient::new(base, Duration::from_secs(15)) {
                Ok(client) => Mode::Apprise { client, mail_url },
                Err(e) => {
                    warn!(error = %e, "cannot build the Apprise client; mail goes to the log");
                    Mode::Log
                }
            },
            (None, Some(_)) => {
                warn!("HERALD_MAIL_URL is set but HERALD_APPRISE_URL is not; mail goes to the log");
                Mode::Log
            }
            _ => Mode::Log,
        };
        Self { mode }
    }

    /// Whether mail really leaves the machine.
    pub fn sends(&self) -> bool {
        matches!(self.mode, Mode::Apprise { .. })
    }

    /// The operator's mail URL addressed to `to`; `None` when mail goes to the log.
    pub fn url_for(&self, to: &Email) -> Option<String> {
        match &self.mode {
            Mode::Log => None,
            Mode::Apprise { mail_url, .. } => with_recipient(mail_url, to).ok(),
        }
    }

    /// Sends one message to `to`.
    pub async fn send(&self, to: &Email, subject: &str, body: &str) -> Result<(), MailError> {
        match &self.mode {
            Mode::Log => {
                info!(to = %to, subject, "mail not sent (no HERALD_MAIL_URL); its text follows\n{body}");
                Ok(())
            }
            Mode::Apprise { client, mail_url } => {
                let url = with_recipient(mail_url, to)?;
                match client.notify_stateless(&[url], subject, body).await {
                    Outcome::Delivered => {
                        info!(to = %to, subject, "mail sent");
                        Ok(())
                    }
                    Outcome::KeyMissing => {
                        // Stateless sending has no key; kept for completeness.
                        error!(to = %to, subject, "mail not sent: the Apprise API answered as for a missing key");
                        Err(MailError("the Apprise API did not accept the mail URL".into()))
                    }
                    Outcome::Partial { reason }
                    | Outcome::Rejected { reason }
                    | Outcome::Unavailable { reason } => {
                        error!(to = %to, subject, %reason, "mail not sent");
                        Err(MailError(reason))
                    }
                }
            }
        }
    }
}

/// The operator's mail URL with `to=` set to the recipient.
fn with_recipient(mail_url: &str, to: &Email) -> Result<String, MailError> {
    let mut url = Url::parse(mail_url).map_err(|_| MailError("HERALD_MAIL_URL is not a valid URL".into()))?;
    let kept: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != "to").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    url.query_pairs_mut().clear().extend_pairs(kept).append_pair("to", to.as_str());
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_replaces_any_to() {
        let to = Email::parse("ada@example.org").unwrap_or_else(|e| panic!("{e}"));
        let url = with_recipient("mailtos://u:p@mail.example.org?to=old@x.org&from=herald@x.org", &to);
        let url = url.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            url.contains("to=ada%40example.org")
                && url.contains("from=herald%40x.org")
                && !url.contains("old")
        );
    }
}
