//! System mail (verification links, invitations, password resets) through the Apprise API's
//! stateless notify with the operator's mail URL; without one, the mail is written to the log
//! so a local user can follow its link.

use std::time::Duration;

use herald_workflows::apprise::{AppriseClient, Attachment, Outcome};
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
        self.send_mail(to, subject, body, None).await
    }

    /// Sends one message to `to` with `attachment`, and with the one-click unsubscribe headers
    /// when `unsubscribe` gives the person's link.
    pub async fn send_attaching(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        attachment: &Attachment,
        unsubscribe: Option<&str>,
    ) -> Result<(), MailError> {
        self.send_mail(to, subject, body, Some((attachment, unsubscribe))).await
    }

    async fn send_mail(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        attachment: Option<(&Attachment, Option<&str>)>,
    ) -> Result<(), MailError> {
        match &self.mode {
            Mode::Log => {
                let file = attachment.map(|(a, _)| a.name.as_str()).unwrap_or("no attachment");
                info!(to = %to, subject, file, "mail not sent (no HERALD_MAIL_URL); its text follows\n{body}");
                Ok(())
            }
            Mode::Apprise { client, mail_url } => {
                let url = with_recipient(mail_url, to)?;
                let outcome = match attachment {
                    None => client.notify_stateless(&[url], subject, body).await,
                    Some((file, unsubscribe)) => {
                        let url = match unsubscribe {
                            Some(link) => with_unsubscribe(&url, link),
                            None => url,
                        };
                        client.notify_stateless_attaching(&[url], subject, body, file).await
                    }
                };
                match outcome {
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

/// `url` (a mail URL) with the one-click unsubscribe headers for `opt_out` (an absolute URL).
pub fn with_unsubscribe(url: &str, opt_out: &str) -> String {
    let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        // `%2B` is the `+` that marks a header argument, escaped so no parser reads a space.
        "{url}{sep}%2BList-Unsubscribe={}&%2BList-Unsubscribe-Post={}",
        enc(&format!("<{opt_out}>")),
        enc("List-Unsubscribe=One-Click")
    )
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
