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
    /// A press on one of a prompt's buttons: `value` as the prompt's button gave it.
    Answer { prompt: i64, value: String },
    /// A comment after rating a survey prompt.
    Comment { prompt: i64, text: String },
}

/// A button of a prompt.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PromptButton {
    pub label: String,
    pub value: String,
}

/// The comment box a survey shows once rated.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CommentBox {
    pub label: String,
    pub send: String,
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
    /// Something to answer with buttons: a survey (`kind` `survey`, values 1–5) or an FAQ
    /// answer (`faq`, values `solved` / `help`). `chosen`: the value already given, if any.
    Prompt {
        id: i64,
        ticket: i64,
        kind: &'static str,
        text: String,
        buttons: Vec<PromptButton>,
        chosen: Option<String>,
        /// Surveys: where a comment may be added once rated.
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<CommentBox>,
        commented: bool,
    },
    /// The desk's answer to an `answer` or `comment` frame.
    Answered {
        prompt: i64,
        text: String,
        chosen: Option<String>,
        commented: bool,
    },
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
