//! The widget's websocket frames (JSON text frames, `type` tagged).

use serde::{Deserialize, Serialize};

/// A site-verified user (`data-user-*` attributes of the script tag).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SiteUser {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub hash: String,
}

/// A file the visitor attached, base64 encoded.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Upload {
    pub name: String,
    pub data: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ClientFrame {
    /// First frame of every connection.
    Hello {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        language: Option<String>,
        #[serde(default)]
        user: Option<SiteUser>,
    },
    /// A message; `id` is the browser's own id for it, the same on every resend.
    Send {
        id: String,
        #[serde(default)]
        text: String,
        #[serde(default)]
        file: Option<Upload>,
    },
    /// The visitor gave (or changed) name or email.
    Profile {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileView {
    pub name: Option<String>,
    pub mime_type: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ServerFrame {
    /// The session is ready: keep `token` to resume it.
    Welcome {
        token: String,
        name: String,
        verified: bool,
        /// No agent is on duty: answers may take a while, so leaving an email helps.
        offline: bool,
        has_email: bool,
        max_file_bytes: usize,
    },
    /// A message of the conversation (history, echo of the visitor's own, agent reply).
    Message {
        id: i64,
        ticket: i64,
        from: &'static str,
        author: String,
        text: String,
        at: i64,
        /// The browser's id, on the visitor's own messages.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        files: Vec<FileView>,
    },
    /// A message is stored (sent again for a resend).
    Ack {
        id: String,
        message_id: i64,
        ticket: i64,
        new_ticket: bool,
        duplicate: bool,
    },
    /// The conversation's latest ticket is open or closed.
    Status { ticket: i64, closed: bool },
    Error {
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

impl ServerFrame {
    pub(crate) fn error(
        code: &'static str,
        message: impl Into<String>,
        id: Option<String>,
    ) -> Self {
        ServerFrame::Error {
            code,
            message: message.into(),
            id,
        }
    }
}
