//! Reading the support mailbox over IMAP (RFC 9051 / 3501): new mail is fetched, stored, and
//! only then flagged `\Seen` (or moved), so a mail is never lost to a crash between the two:
//! fetched again after a restart, it is recognised by its Message-ID and stored once.
//!
//! Waits with IDLE (RFC 2177) where the server offers it, else polls; reconnects with a
//! growing pause after any error.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::receive::{receive, Received};
use super::EmailSettings;
use crate::hub::Hub;

/// Mails fetched per round; the rest wait for the next.
const BATCH: usize = 50;

/// Longest pause between reconnection attempts.
const MAX_PAUSE: Duration = Duration::from_secs(300);

/// How to reach the mailbox, read from `imap_url` once.
#[derive(Clone)]
pub struct Mailbox {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub folder: String,
    /// Move processed mail there instead of flagging it `\Seen`.
    pub move_to: Option<String>,
    /// How often to look when the server has no IDLE (and how long one IDLE lasts at most).
    pub poll: Duration,
}

impl Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox")
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("folder", &self.folder)
            .finish_non_exhaustive()
    }
}

impl Mailbox {
    /// `imaps://user:password@host[:port]/FOLDER` (or `imap://` for a server on this machine
    /// or a trusted network: the password goes unencrypted).
    pub fn from_url(url: &str, move_to: Option<String>, poll: Duration) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("email.imap_url: {e}"))?;
        let tls = match parsed.scheme() {
            "imaps" => true,
            "imap" => false,
            other => {
                return Err(format!(
                    "email.imap_url: use imaps:// (or imap://), not {other}://"
                ))
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("email.imap_url: no host")?
            .to_string();
        let decode =
            |s: &str| percent_decode(s).ok_or_else(|| "email.imap_url: bad %-escape".to_string());
        let user = decode(parsed.username())?;
        let password = decode(parsed.password().unwrap_or_default())?;
        if user.is_empty() {
            return Err("email.imap_url: no user name".into());
        }
        let folder = decode(parsed.path().trim_start_matches('/'))?;
        Ok(Self {
            tls,
            port: parsed.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            user,
            password,
            folder: if folder.is_empty() {
                "INBOX".into()
            } else {
                folder
            },
            move_to,
            poll,
        })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

#[derive(Debug, thiserror::Error)]
enum ImapError {
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// Reads the mailbox until `shutdown`.
pub async fn watch(
    hub: Hub,
    settings: Arc<EmailSettings>,
    mailbox: Mailbox,
    shutdown: CancellationToken,
) {
    const FIRST_PAUSE: Duration = Duration::from_secs(1);
    let mut pause = FIRST_PAUSE;
    loop {
        let connected = tokio::time::Instant::now();
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return,
            outcome = connect_and_read(&hub, &settings, &mailbox, &shutdown) => outcome,
        };
        match outcome {
            Ok(()) => return,
            Err(e) => {
                hub.channel_health().set(
                    "email",
                    relaydesk_desk::ChannelState::NotConnected {
                        reason: format!("mailbox: {e}"),
                    },
                );
                tracing::warn!(mailbox = ?mailbox, error = %e, ?pause, "mailbox connection ended; reconnecting");
                metrics::counter!("relaydesk_imap_reconnects_total").increment(1);
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        // A connection that worked for a while starts the pauses over.
        pause = if connected.elapsed() > MAX_PAUSE {
            FIRST_PAUSE
        } else {
            (pause * 2).min(MAX_PAUSE)
        };
    }
}

async fn connect_and_read(
    hub: &Hub,
    settings: &EmailSettings,
    mailbox: &Mailbox,
    shutdown: &CancellationToken,
) -> Result<(), ImapError> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(30),
        TcpStream::connect((mailbox.host.as_str(), mailbox.port)),
    )
    .await
    .map_err(|_| ImapError::Other("connecting timed out".into()))??;
    if mailbox.tls {
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Other(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(mailbox.host.clone())
            .map_err(|e| ImapError::Other(format!("host name: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        read_mailbox(tls, hub, settings, mailbox, shutdown).await
    } else {
        read_mailbox(tcp, hub, settings, mailbox, shutdown).await
    }
}

async fn read_mailbox<T>(
    stream: T,
    hub: &Hub,
    settings: &EmailSettings,
    mailbox: &Mailbox,
    shutdown: &CancellationToken,
) -> Result<(), ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await?
        .ok_or_else(|| ImapError::Other("the server closed before greeting".into()))?;
    let mut session = client
        .login(&mailbox.user, &mailbox.password)
        .await
        .map_err(|(e, _)| ImapError::Other(format!("login refused: {e}")))?;
    let idle = session.capabilities().await?.has_str("IDLE");
    session.select(&mailbox.folder).await?;
    tracing::info!(folder = %mailbox.folder, idle, "reading the support mailbox");
    hub.channel_health()
        .set("email", relaydesk_desk::ChannelState::Connected);
    loop {
        let more = read_new(&mut session, hub, settings, mailbox).await?;
        if more {
            continue;
        }
        if idle {
            let mut handle = session.idle();
            handle.init().await?;
            let (wait, stop) = handle.wait_with_timeout(mailbox.poll);
            tokio::select! {
                _ = shutdown.cancelled() => {
                    drop(stop);
                    return Ok(());
                }
                result = wait => { result?; }
            }
            session = handle.done().await?;
        } else {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(mailbox.poll) => {}
            }
            session.noop().await?;
        }
    }
}

/// Stores the unseen mail, oldest first, flagging (or moving) each once stored. Returns
/// whether more may be waiting.
async fn read_new<T>(
    session: &mut Session<T>,
    hub: &Hub,
    settings: &EmailSettings,
    mailbox: &Mailbox,
) -> Result<bool, ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
    uids.sort_unstable();
    let more = uids.len() > BATCH;
    for uid in uids.into_iter().take(BATCH) {
        // Larger mail is read up to the limit: what fits is kept, the rest is said to be cut.
        let query = format!(
            "(UID RFC822.SIZE BODY.PEEK[]<0.{}>)",
            settings.max_mail_bytes
        );
        let fetched: Vec<_> = session
            .uid_fetch(uid.to_string(), &query)
            .await?
            .try_collect()
            .await?;
        let Some(fetch) = fetched.iter().find(|f| f.uid == Some(uid)) else {
            continue;
        };
        let raw = fetch.body().unwrap_or_default();
        let whole = fetch
            .size
            .map(|size| usize::try_from(size).unwrap_or(usize::MAX))
            .filter(|whole| *whole > raw.len());
        match receive(hub, settings, raw, whole).await {
            Ok(received) => {
                if whole.is_some() {
                    tracing::warn!(uid, "a mail over the size limit was stored cut");
                }
                log_received(uid, &received);
            }
            Err(e) => {
                // Left unseen: read again on the next round.
                tracing::error!(uid, error = %e, "a mail was not stored; it stays unread for the next round");
                return Err(ImapError::Other(format!("storing mail {uid}: {e}")));
            }
        }
        match &mailbox.move_to {
            Some(folder) => session.uid_mv(uid.to_string(), folder).await?,
            None => {
                let _: Vec<_> = session
                    .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
                    .await?
                    .try_collect()
                    .await?;
            }
        }
    }
    Ok(more)
}

fn log_received(uid: u32, received: &Received) {
    match received {
        Received::Stored { number, new_ticket } => {
            tracing::info!(uid, ticket = number, new_ticket, "mail stored")
        }
        Received::Duplicate => tracing::info!(uid, "mail stored before"),
        Received::Bounce { deliveries } => tracing::info!(uid, deliveries, "bounce recorded"),
        Received::Ignored(why) => tracing::info!(uid, %why, "mail set apart"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_urls_are_read_once() {
        let m = Mailbox::from_url(
            "imaps://support%40acme.example:p%40ss@imap.example/Support%20Inbox",
            None,
            Duration::from_secs(60),
        )
        .expect("valid");
        assert!(m.tls);
        assert_eq!((m.host.as_str(), m.port), ("imap.example", 993));
        assert_eq!(m.user, "support@acme.example");
        assert_eq!(m.password, "p@ss");
        assert_eq!(m.folder, "Support Inbox");
        assert!(!format!("{m:?}").contains("p@ss"), "no password in logs");
        let plain = Mailbox::from_url("imap://u:p@localhost:1143", None, Duration::from_secs(1))
            .expect("valid");
        assert_eq!(
            (plain.tls, plain.port, plain.folder.as_str()),
            (false, 1143, "INBOX")
        );
        assert!(Mailbox::from_url("pop3://u:p@h", None, Duration::from_secs(1)).is_err());
        assert!(Mailbox::from_url("imaps://h/INBOX", None, Duration::from_secs(1)).is_err());
    }
}
