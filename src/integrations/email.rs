//! The built-in email channel: when system mail is set up (`HERALD_MAIL_URL` with an Apprise
//! API), every verified account has a channel "Email — ada@example.org" that sends to the
//! account's own address through the operator's mail URL. It is an ordinary integration for the
//! delivery path (same config push, ledger, retries and exactly-once), confirmed from the start
//! (the address is verified) and tagged `always`, so every notice reaches it whatever tags were
//! chosen. Its user can switch it off, not edit or delete it.
//!
//! [`ensure`] makes or updates one account's channel (after a verification); [`sync_all`]
//! catches up every account when Herald starts and now and then (accounts verified by the
//! operator's command, a changed mail URL).

use herald_workflows::apprise::AppriseClient;
use uuid::Uuid;

use super::config::{Entry, config_text};
use super::seal::{config_key, open, seal, seal_config_key};
use crate::db::models::{Integration, User};
use crate::db::{Db, DbError};
use crate::domain::{Email, ServiceError};
use crate::mail::Mailer;
use crate::secrets::{SecretKey, random_token};
use crate::services::Services;

/// The tags of the email URL: `always` makes it join every tagged notice.
pub const EMAIL_TAGS: [&str; 2] = ["always", "email"];

/// Said when someone tries to edit or delete the built-in email channel.
pub const BUILT_IN: &str = "This is your built-in email channel: it sends to your account's address. \
     Switch it off if you do not want email; it cannot be edited or deleted.";

/// Refuses changes other than switching on and off to the built-in email channel.
pub fn check_editable(integration: &Integration) -> Result<(), ServiceError> {
    if integration.is_email() { Err(ServiceError::Forbidden(BUILT_IN.into())) } else { Ok(()) }
}

/// The channel's name, cut to the 100 characters a name may have.
fn channel_name(prefix: &str, address: &str) -> String {
    format!("{prefix} — {address}").chars().take(100).collect()
}

/// The address a built-in email channel sends to, from its stored config.
pub fn address_of(keys: &SecretKey, integration: &Integration) -> Option<String> {
    let text = open(keys, integration.id, &integration.config_ciphertext).ok()?;
    let entry = super::config::parse_config_text(&text).into_iter().next()?;
    let url = url::Url::parse(&entry.url).ok()?;
    url.query_pairs().find(|(k, _)| k == "to").map(|(_, v)| v.into_owned())
}

/// Makes (or brings up to date) `user`'s built-in email channel. Nothing happens without system
/// mail or for an unverified address. Pushing to the Apprise API may fail: the config is pushed
/// again when a send finds it missing.
pub async fn ensure(
    db: &Db,
    keys: &SecretKey,
    apprise: Option<&AppriseClient>,
    mailer: &Mailer,
    user: &User,
) -> anyhow::Result<Option<Integration>> {
    if user.verified_at.is_none() {
        return Ok(None);
    }
    let Ok(address) = Email::parse(&user.email) else { return Ok(None) };
    let Some(url) = mailer.url_for(&address) else { return Ok(None) };
    let tags: Vec<String> = EMAIL_TAGS.iter().map(|t| (*t).to_owned()).collect();
    let text = config_text(&[Entry { url, tags: tags.clone() }]);
    if let Some(existing) = db.email_integration_of(user.id).await? {
        if open(keys, existing.id, &existing.config_ciphertext).ok().as_deref() == Some(text.as_str()) {
            return Ok(Some(existing));
        }
        // The operator changed the mail URL: store and push the new one under the same key.
        db.replace_email_config(existing.id, &seal(keys, existing.id, &text)?).await?;
        push(keys, apprise, &existing, &text).await;
        tracing::info!(integration_id = %existing.id, "built-in email channel updated to the new mail URL");
        return Ok(db.email_integration_of(user.id).await?);
    }
    let id = Uuid::new_v4();
    let key = random_token();
    let sealed = seal(keys, id, &text)?;
    let stored_key = seal_config_key(keys, id, &key)?;
    // A channel of the user's own may already carry the name: then a second wording.
    for prefix in ["Email", "Herald email"] {
        let name = channel_name(prefix, address.as_str());
        match db.insert_email_integration(id, user.id, &name, &stored_key, &sealed, &tags).await {
            Ok(row) => {
                push(keys, apprise, &row, &text).await;
                tracing::info!(user_id = %user.id, integration_id = %id, "built-in email channel made");
                return Ok(Some(row));
            }
            Err(DbError::Conflict(_)) => {
                if let Some(row) = db.email_integration_of(user.id).await? {
                    return Ok(Some(row));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::warn!(user_id = %user.id, "cannot name the built-in email channel: both names are taken");
    Ok(None)
}

async fn push(keys: &SecretKey, apprise: Option<&AppriseClient>, integration: &Integration, text: &str) {
    // A locked Apprise API keeps no config: the channel is sent stateless from Herald's copy.
    let Some(client) = apprise.filter(|c| !c.config_locked()) else { return };
    let pushed = match config_key(keys, integration) {
        Ok(key) => client.add_config(&key, text).await.map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    if let Err(e) = pushed {
        tracing::warn!(integration_id = %integration.id, error = %e, "cannot push the built-in email channel now");
    }
}

/// [`ensure`] for the user `user_id`, with the services' parts; failures are logged (a missing
/// email channel is made by the next [`sync_all`]).
pub async fn ensure_for(svc: &Services, user_id: Uuid) {
    let made = async {
        let Some(user) = svc.db.user_by_id(user_id).await? else { return Ok(None) };
        ensure(&svc.db, &svc.keys, svc.apprise.as_ref(), &svc.mailer, &user).await
    };
    if let Err(e) = made.await {
        tracing::warn!(%user_id, error = %e, "cannot make the built-in email channel now");
    }
}

/// Makes the missing built-in email channels and updates those whose mail URL changed; returns
/// how many were made or updated.
pub async fn sync_all(
    db: &Db,
    keys: &SecretKey,
    apprise: Option<&AppriseClient>,
    mailer: &Mailer,
) -> anyhow::Result<usize> {
    if !mailer.sends() {
        return Ok(0);
    }
    let mut changed = 0;
    for existing in db.all_integrations().await?.into_iter().filter(Integration::is_email) {
        let before = existing.updated_at;
        if let Some(user) = db.user_by_id(existing.user_id).await?
            && let Some(after) = ensure(db, keys, apprise, mailer, &user).await?
            && after.updated_at != before
        {
            changed += 1;
        }
    }
    loop {
        let missing = db.verified_users_without_email_channel(200).await?;
        if missing.is_empty() {
            break;
        }
        let mut made = 0;
        for user in &missing {
            if ensure(db, keys, apprise, mailer, user).await?.is_some() {
                made += 1;
            }
        }
        changed += made;
        if made == 0 {
            break;
        }
    }
    if changed > 0 {
        tracing::info!(changed, "built-in email channels made or updated");
    }
    Ok(changed)
}
