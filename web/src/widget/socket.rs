//! One visitor's websocket: hello → welcome + history, then messages both ways.
//!
//! What the visitor sees is read from the store: after each of our own changes, and when the
//! change feed reports a change of one of the conversation's tickets (made here, by another
//! instance, or found by the feed's periodic sweep). An idle socket reads nothing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use relaydesk_storage::{
    AuthorKind, Platform, PromptKind, TicketStatus, TicketWatch, WidgetFile, WidgetPrompt,
};
use serde_json::json;

use super::files::{self, UploadError};
use super::protocol::{ClientFrame, CommentBox, FileView, PromptButton, ServerFrame, SiteUser};
use super::session::{identity_verified, Claims, SessionKey};
use super::WidgetRuntime;
use crate::AppState;
use crate::{CustomerAnswer, CustomerInput, DeskError};

/// Bytes read from a socket at a time (tungstenite's default is 128 KiB per socket).
const READ_BUFFER: usize = 4 * 1024;
/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_NAME_CHARS: usize = 80;
const MAX_CLIENT_ID_CHARS: usize = 64;
/// Button presses and comments a socket may send (each may post in the staff threads).
const MAX_ANSWERS: u32 = 20;

/// `GET /widget/ws`.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    Extension(runtime): Extension<Arc<WidgetRuntime>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    stopping: Option<Extension<crate::Stopping>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let refuse = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            Json(json!({ "error": { "code": code, "message": message } })),
        )
            .into_response()
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let allowed = origin.to_str().is_ok_and(|origin| {
            super::origin_allowed(&state.settings.web.allowed_origins, origin, host)
        });
        if !allowed {
            tracing::info!(origin = ?origin, "widget connection from a site that is not allowed");
            return refuse(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "this site may not use the chat",
            );
        }
    }
    let client = crate::client_address::client_address(
        peer.ip(),
        &headers,
        &state.settings.web.trusted_proxies,
    );
    if !runtime.limits.ip(client) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many connections; please wait a minute",
        );
    }
    let Ok(permit) = runtime.sockets.clone().try_acquire_owned() else {
        tracing::warn!("widget socket refused: the server holds as many as it may");
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_busy",
            "the chat is busy; please try again in a minute",
        );
    };
    let key = match runtime.key(&state).await {
        Ok(key) => key.clone(),
        Err(e) => return e.into_response(),
    };
    // Room for the largest attachment in base64 plus its message; larger frames end only
    // this socket.
    let frame_limit = state.settings.web.max_attachment_bytes / 3 * 4 + 256 * 1024;
    // An idle socket keeps little memory: a small read buffer that grows with a large frame.
    ws.max_message_size(frame_limit)
        .max_frame_size(frame_limit)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            let _permit = permit;
            let cap = state.settings.web.max_widget_sockets_per_address;
            let Some(_place) = runtime.by_address.take(client, cap) else {
                refuse_socket(
                    socket,
                    ServerFrame::error(
                        "too_many_sockets",
                        format!("at most {cap} chats may be open from one address; close one"),
                        None,
                    ),
                )
                .await;
                return;
            };
            let session = Session {
                state,
                runtime,
                key,
                ip: client,
                socket,
                stopping: stopping.map(|Extension(s)| s.0),
            };
            let open = metrics::gauge!("relaydesk_widget_sockets");
            open.increment(1.0);
            session.run().await;
            open.decrement(1.0);
        })
}

/// Says why in an error frame and closes a socket that may not stay.
async fn refuse_socket(mut socket: WebSocket, frame: ServerFrame) {
    if let Ok(text) = serde_json::to_string(&frame) {
        let _ = socket.send(WsMessage::Text(Utf8Bytes::from(text))).await;
    }
    let _ = socket.send(WsMessage::Close(None)).await;
}

struct Session {
    state: AppState,
    runtime: Arc<WidgetRuntime>,
    key: SessionKey,
    ip: IpAddr,
    socket: WebSocket,
    /// Turns true when the server shuts down (absent when the router runs without `serve`).
    stopping: Option<tokio::sync::watch::Receiver<bool>>,
}

/// Resolves once the server is shutting down; never without a signal.
async fn stopped(stopping: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    match stopping {
        // An error means the server is gone altogether: stopped as well.
        Some(rx) => {
            let _ = rx.wait_for(|stop| *stop).await;
        }
        None => std::future::pending().await,
    }
}

/// Who is writing, once the hello is accepted.
struct Visitor {
    conversation: String,
    verified: bool,
    name: String,
    email: Option<String>,
    /// The site signed `email` (see [`super::identity_email_hash`]): it may link the visitor
    /// to the customer known by it, and the visitor cannot change it.
    email_signed: bool,
    language: Option<String>,
}

/// What the socket has shown so far.
struct Shown {
    last_message: i64,
    last_prompt: i64,
    /// `answer` and `comment` frames received on this socket.
    answers: u32,
    /// The latest ticket and whether it was closed, as last told.
    status: Option<(i64, bool)>,
    /// The conversation's tickets seen so far: a change of one of them wakes the socket.
    tickets: TicketWatch,
    /// `profile` frames received on this socket.
    profiles: u32,
}

enum Flow {
    Continue,
    Stop,
}

impl Session {
    async fn send(&mut self, frame: &ServerFrame) -> Flow {
        let text = match serde_json::to_string(frame) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a widget frame");
                return Flow::Stop;
            }
        };
        match self
            .socket
            .send(WsMessage::Text(Utf8Bytes::from(text)))
            .await
        {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        }
    }

    async fn run(mut self) {
        let Some(visitor) = self.hello().await else {
            return;
        };
        let mut visitor = visitor;
        let mut stopping = self.stopping.take();
        let mut shown = Shown {
            last_message: 0,
            last_prompt: 0,
            answers: 0,
            status: None,
            tickets: self.state.desk.watch(),
            profiles: 0,
        };
        if let Flow::Stop = self.refresh(&visitor, &mut shown).await {
            return;
        }
        let idle_after = Duration::from_secs(self.state.settings.web.widget_idle_seconds.max(1));
        let mut last_heard = tokio::time::Instant::now();
        loop {
            let flow = tokio::select! {
                incoming = self.socket.recv() => match incoming {
                    Some(Ok(WsMessage::Text(text))) => {
                        last_heard = tokio::time::Instant::now();
                        self.on_frame(&mut visitor, &mut shown, text.as_str()).await
                    }
                    Some(Ok(WsMessage::Binary(_))) => {
                        self.send(&ServerFrame::error("bad_frame", "send JSON text frames", None)).await
                    }
                    Some(Ok(WsMessage::Close(_))) | None => Flow::Stop,
                    Some(Ok(_)) => Flow::Continue,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "a widget socket failed");
                        Flow::Stop
                    }
                },
                () = shown.tickets.changed() => self.refresh(&visitor, &mut shown).await,
                () = tokio::time::sleep_until(last_heard + idle_after) => {
                    // An abandoned tab holds no socket: the widget reconnects when its
                    // visitor is back.
                    self.send(&ServerFrame::error(
                        "idle",
                        "closed after a while without activity",
                        None,
                    ))
                    .await;
                    let _ = self.socket.send(WsMessage::Close(None)).await;
                    Flow::Stop
                }
                _ = stopped(&mut stopping) => {
                    let _ = self.socket.send(WsMessage::Close(None)).await;
                    Flow::Stop
                }
            };
            if let Flow::Stop = flow {
                break;
            }
        }
    }

    /// Waits for the hello frame and answers it; `None` ends the connection.
    async fn hello(&mut self) -> Option<Visitor> {
        let first = tokio::time::timeout(HELLO_TIMEOUT, self.socket.recv()).await;
        let text = match first {
            Ok(Some(Ok(WsMessage::Text(text)))) => text,
            _ => return None,
        };
        let Ok(ClientFrame::Hello {
            token,
            name,
            email,
            language,
            user,
        }) = serde_json::from_str::<ClientFrame>(text.as_str())
        else {
            self.send(&ServerFrame::error(
                "bad_frame",
                "the first frame must be a hello",
                None,
            ))
            .await;
            return None;
        };
        let now = self.state.clock.now_ms();
        let mut visitor = match user {
            Some(user) => match self.verified_user(&user) {
                Some(visitor) => visitor,
                None => {
                    self.send(&ServerFrame::error(
                        "identity_refused",
                        "the site's identity check failed",
                        None,
                    ))
                    .await;
                    return None;
                }
            },
            None => {
                let resumed = token.and_then(|t| match self.key.verify(&t, now) {
                    // A session the site vouched for resumes only while the page still says
                    // who it is: after the site's sign-out its visitor is someone new.
                    Ok(claims) if claims.verified => {
                        tracing::debug!("a verified widget session presented without its identity");
                        None
                    }
                    Ok(claims) => Some(claims),
                    Err(e) => {
                        tracing::debug!(error = %e, "a widget session token was not accepted");
                        None
                    }
                });
                let (conversation, verified) = match resumed {
                    Some(claims) => (claims.conversation, claims.verified),
                    None => (format!("s:{}", crate::secrets::new_token("")), false),
                };
                Visitor {
                    conversation,
                    verified,
                    name: String::new(),
                    email: None,
                    email_signed: false,
                    language: None,
                }
            }
        };
        if let Some(name) = name.as_deref().and_then(clean_name) {
            visitor.name = name;
        }
        if visitor.name.is_empty() {
            visitor.name = "Visitor".to_string();
        }
        if visitor.email.is_none() {
            visitor.email = email.as_deref().and_then(clean_email);
        }
        visitor.language = language.filter(|l| l.len() <= 16);
        let offline = match self.visitor_setup(&visitor).await {
            Ok(offline) => offline,
            Err(e) => {
                tracing::error!(error = %e, "widget session setup failed");
                self.send(&ServerFrame::error(
                    "internal",
                    "something went wrong; please try again",
                    None,
                ))
                .await;
                return None;
            }
        };
        let ttl_ms = i64::try_from(self.state.settings.web.session_ttl_hours)
            .unwrap_or(i64::MAX / 3_600_000)
            .saturating_mul(3_600_000);
        let token = self.key.sign(&Claims {
            conversation: visitor.conversation.clone(),
            verified: visitor.verified,
            expires_ms: now.saturating_add(ttl_ms),
        });
        let welcome = ServerFrame::Welcome {
            token,
            name: visitor.name.clone(),
            verified: visitor.verified,
            offline,
            has_email: visitor.email.is_some(),
            max_file_bytes: self.state.settings.web.max_attachment_bytes,
        };
        match self.send(&welcome).await {
            Flow::Continue => Some(visitor),
            Flow::Stop => None,
        }
    }

    /// A site-verified user, or `None` when the hash vouches for neither the id with the email
    /// nor the id alone. An email the hash does not cover counts as typed by the visitor.
    fn verified_user(&self, user: &SiteUser) -> Option<Visitor> {
        let secret = self
            .state
            .settings
            .web
            .identity_secret
            .as_deref()
            .filter(|s| !s.is_empty())?;
        let id = user.id.trim();
        if id.is_empty() || id.len() > 200 {
            return None;
        }
        let email = user.email.as_deref().and_then(clean_email);
        let email_signed = email
            .as_deref()
            .is_some_and(|e| identity_verified(secret, &format!("{id}\n{e}"), &user.hash));
        if !email_signed && !identity_verified(secret, id, &user.hash) {
            return None;
        }
        Some(Visitor {
            conversation: format!("user:{id}"),
            verified: true,
            name: user
                .name
                .as_deref()
                .and_then(clean_name)
                .unwrap_or_default(),
            email,
            email_signed,
            language: None,
        })
    }

    /// Links a verified user to the customer known by the same *signed* email, keeps the
    /// visitor's email (see [`keep_email`]), and says whether no agent is on duty.
    async fn visitor_setup(
        &mut self,
        visitor: &Visitor,
    ) -> Result<bool, relaydesk_storage::StorageError> {
        let mut tx = self.state.store.begin().await?;
        let mut customer = tx
            .customer_of_identity(Platform::Web, &visitor.conversation)
            .await?;
        if customer.is_none() && visitor.verified && visitor.email_signed {
            if let Some(email) = visitor.email.as_deref() {
                if let Some(known) = tx.trusted_customer_by_email(email).await? {
                    tx.link_customer_identity(
                        Platform::Web,
                        &visitor.conversation,
                        known,
                        &visitor.name,
                    )
                    .await?;
                    customer = Some(known);
                }
            }
        }
        if let Some(customer) = customer {
            keep_email(&mut tx, customer, visitor).await?;
        }
        let offline =
            tx.count_agents_on_duty().await? == 0 || !self.runtime.open_at(self.state.clock.now());
        tx.commit().await?;
        Ok(offline)
    }

    async fn on_frame(&mut self, visitor: &mut Visitor, shown: &mut Shown, text: &str) -> Flow {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(_) => {
                return self
                    .send(&ServerFrame::error("bad_frame", "unknown frame", None))
                    .await
            }
        };
        match frame {
            ClientFrame::Hello { .. } => {
                self.send(&ServerFrame::error("bad_frame", "already said hello", None))
                    .await
            }
            ClientFrame::Profile { name, email } => {
                shown.profiles += 1;
                let most = self.state.settings.web.max_profile_frames;
                if shown.profiles > most {
                    return self
                        .send(&ServerFrame::error(
                            "too_many_profiles",
                            format!("name and email may change at most {most} times per chat"),
                            None,
                        ))
                        .await;
                }
                if let Some(name) = name.as_deref().and_then(clean_name) {
                    visitor.name = name;
                }
                if let Some(email) = email.as_deref().and_then(clean_email) {
                    if visitor.email_signed && visitor.email.as_deref() != Some(email.as_str()) {
                        return self
                            .send(&ServerFrame::error(
                                "signed_field",
                                "the site signed this email; it cannot be changed here",
                                None,
                            ))
                            .await;
                    }
                    visitor.email = Some(email);
                    if let Err(e) = self.remember_email(visitor).await {
                        tracing::error!(error = %e, "cannot store a visitor's email");
                    }
                }
                Flow::Continue
            }
            ClientFrame::Send { id, text, file } => {
                if let Flow::Stop = self.on_send(visitor, shown, id, text, file).await {
                    return Flow::Stop;
                }
                self.refresh(visitor, shown).await
            }
            ClientFrame::Answer { prompt, value } => {
                self.on_answer(visitor, shown, prompt, Some(value), None)
                    .await
            }
            ClientFrame::Comment { prompt, text } => {
                self.on_answer(visitor, shown, prompt, None, Some(text))
                    .await
            }
        }
    }

    /// A press on a prompt's button (`value`) or a survey comment (`comment`): only on this
    /// conversation's prompts, at most [`MAX_ANSWERS`] per socket.
    async fn on_answer(
        &mut self,
        visitor: &Visitor,
        shown: &mut Shown,
        prompt_id: i64,
        value: Option<String>,
        comment: Option<String>,
    ) -> Flow {
        shown.answers += 1;
        if shown.answers > MAX_ANSWERS {
            return self
                .send(&ServerFrame::error(
                    "too_many_answers",
                    format!("at most {MAX_ANSWERS} answers per chat"),
                    None,
                ))
                .await;
        }
        let prompt = async {
            let mut tx = self.state.store.begin().await?;
            let prompt = tx.widget_prompt(prompt_id).await?;
            tx.rollback().await?;
            Ok::<_, relaydesk_storage::StorageError>(prompt)
        }
        .await;
        let prompt = match prompt {
            Ok(Some(prompt)) if prompt.conversation == visitor.conversation => prompt,
            Ok(_) => {
                return self
                    .send(&ServerFrame::error(
                        "no_prompt",
                        "there is no such question in this chat",
                        None,
                    ))
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "a widget socket could not read a prompt");
                return self
                    .send(&ServerFrame::error(
                        "unavailable",
                        "please try again in a moment",
                        None,
                    ))
                    .await;
            }
        };
        let answer = match (prompt.kind, value.as_deref(), comment) {
            (PromptKind::Survey, Some(value), None) => match value.parse::<u8>() {
                Ok(rating) if (1..=5).contains(&rating) => CustomerAnswer::Rating {
                    survey_id: prompt.subject_id,
                    rating,
                },
                _ => {
                    return self
                        .send(&ServerFrame::error("bad_frame", "rate from 1 to 5", None))
                        .await
                }
            },
            (PromptKind::Survey, None, Some(text)) => CustomerAnswer::Comment {
                survey_id: prompt.subject_id,
                text,
            },
            (PromptKind::Notice, _, _) => {
                return self
                    .send(&ServerFrame::error(
                        "bad_frame",
                        "this notice takes no answer",
                        None,
                    ))
                    .await
            }
            (PromptKind::Faq, Some("solved" | "help"), None) => CustomerAnswer::Faq {
                ticket_id: prompt.subject_id,
                solved: value.as_deref() == Some("solved"),
            },
            _ => {
                return self
                    .send(&ServerFrame::error(
                        "bad_frame",
                        "not an answer to this question",
                        None,
                    ))
                    .await
            }
        };
        let said = self
            .state
            .desk
            .customer_answer(
                Platform::Web,
                &visitor.conversation,
                visitor.language.as_deref(),
                answer,
            )
            .await;
        match said {
            Ok(text) => {
                // Where the prompt stands now (a refused answer changed nothing).
                let now = async {
                    let mut tx = self.state.store.begin().await?;
                    let prompt = tx.widget_prompt(prompt_id).await?;
                    tx.rollback().await?;
                    Ok::<_, relaydesk_storage::StorageError>(prompt)
                }
                .await
                .ok()
                .flatten()
                .unwrap_or(prompt);
                let ServerFrame::Prompt {
                    chosen, commented, ..
                } = prompt_frame(now)
                else {
                    return Flow::Continue;
                };
                self.send(&ServerFrame::Answered {
                    prompt: prompt_id,
                    text,
                    chosen,
                    commented,
                })
                .await
            }
            Err(DeskError::Invalid(message)) => {
                self.send(&ServerFrame::error("bad_frame", message, None))
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "a widget answer was not stored");
                self.send(&ServerFrame::error(
                    "unavailable",
                    "please try again in a moment",
                    None,
                ))
                .await
            }
        }
    }

    async fn remember_email(
        &mut self,
        visitor: &Visitor,
    ) -> Result<(), relaydesk_storage::StorageError> {
        if visitor.email.is_none() {
            return Ok(());
        }
        let mut tx = self.state.store.begin().await?;
        if let Some(customer) = tx
            .customer_of_identity(Platform::Web, &visitor.conversation)
            .await?
        {
            keep_email(&mut tx, customer, visitor).await?;
        }
        tx.commit().await
    }

    async fn on_send(
        &mut self,
        visitor: &Visitor,
        shown: &mut Shown,
        id: String,
        text: String,
        file: Option<super::protocol::Upload>,
    ) -> Flow {
        let id = id.trim().to_string();
        if id.is_empty() || id.chars().count() > MAX_CLIENT_ID_CHARS {
            return self
                .send(&ServerFrame::error(
                    "bad_frame",
                    "a message needs an id",
                    None,
                ))
                .await;
        }
        if text.trim().is_empty() && file.is_none() {
            return self
                .send(&ServerFrame::error(
                    "empty",
                    "the message is empty",
                    Some(id),
                ))
                .await;
        }
        if !self.runtime.limits.message(&visitor.conversation, self.ip) {
            return self
                .send(&ServerFrame::error(
                    "rate_limited",
                    "You are sending messages too fast. Please wait a moment.",
                    Some(id),
                ))
                .await;
        }
        let mut attachments = Vec::new();
        if let Some(upload) = file {
            match self.store_file(visitor, &id, &upload).await {
                Ok(attachment) => attachments.push(attachment),
                Err(frame) => return self.send(&frame).await,
            }
        }
        let input = CustomerInput {
            platform: Platform::Web,
            external_message_id: Some(format!("{}:{id}", visitor.conversation)),
            customer_external_id: visitor.conversation.clone(),
            display_name: visitor.name.clone(),
            language: visitor.language.clone(),
            conversation: visitor.conversation.clone(),
            subject: None,
            text,
            attachments,
        };
        let file_key = input
            .attachments
            .first()
            .map(|_| self.file_key(&visitor.conversation, &id));
        let state = self.state.clone();
        let frame = match state.desk.customer_message(input).await {
            Ok(_) if !keep_file(&state, file_key.as_deref()).await => ServerFrame::error(
                "internal",
                "The file could not be stored; it will be sent again.",
                Some(id),
            ),
            Ok(accepted) => {
                // Watched before the visitor hears of it: a change made the moment after the
                // ack (an agent closing the new ticket) wakes this socket.
                shown.tickets.add(accepted.ticket_id);
                if accepted.new_ticket {
                    if let Err(e) = self.remember_email(visitor).await {
                        tracing::error!(error = %e, "cannot store a visitor's email");
                    }
                }
                ServerFrame::Ack {
                    id,
                    message_id: accepted.message_id,
                    ticket: accepted.ticket_number,
                    new_ticket: accepted.new_ticket,
                    duplicate: accepted.duplicate,
                }
            }
            Err(DeskError::TooLarge { limit, .. }) => ServerFrame::error(
                "too_large",
                format!("The message is too long (at most {limit} bytes)."),
                Some(id),
            ),
            Err(DeskError::Internal(_)) => ServerFrame::error(
                "internal",
                "The message could not be stored; it will be sent again.",
                Some(id),
            ),
            Err(e) => ServerFrame::error("refused", e.to_string(), Some(id)),
        };
        self.send(&frame).await
    }

    /// Checks and keeps an attachment. The file's key follows from the conversation and the
    /// message id, so a resend stores it once.
    async fn store_file(
        &mut self,
        visitor: &Visitor,
        id: &str,
        upload: &super::protocol::Upload,
    ) -> Result<relaydesk_storage::Attachment, ServerFrame> {
        let limit = self.state.settings.web.max_attachment_bytes;
        let (data, mime) = files::decode(&upload.data, limit).map_err(|e| match e {
            UploadError::TooLarge { limit } => ServerFrame::error(
                "file_too_large",
                format!("The file is too large (at most {} KB).", limit / 1024),
                Some(id.to_string()),
            ),
            UploadError::NotAllowed => ServerFrame::error(
                "file_type",
                "Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent.",
                Some(id.to_string()),
            ),
            UploadError::Malformed => {
                ServerFrame::error("bad_frame", "the file is not base64", Some(id.to_string()))
            }
        })?;
        let web = &self.state.settings.web;
        if !self
            .runtime
            .limits
            .upload(&visitor.conversation, self.ip, data.len())
        {
            return Err(ServerFrame::error(
                "upload_budget",
                format!(
                    "You have sent a lot of files; please wait a while (at most {} MB an hour).",
                    web.session_upload_mb_per_hour
                        .min(web.ip_upload_mb_per_hour)
                ),
                Some(id.to_string()),
            ));
        }
        let file = WidgetFile {
            key: self.file_key(&visitor.conversation, id),
            conversation: visitor.conversation.clone(),
            file_name: files::clean_name(&upload.name, mime),
            mime_type: mime.to_string(),
            data,
        };
        let cap = i64::try_from(web.max_upload_storage_mb.saturating_mul(1024 * 1024))
            .unwrap_or(i64::MAX);
        let size = i64::try_from(file.data.len()).unwrap_or(i64::MAX);
        let now = self.state.clock.now_ms();
        let stored = async {
            let mut tx = self.state.store.begin().await?;
            // Uploads whose message never came are dropped before anything new is counted.
            tx.prune_unattached_files(now - relaydesk_storage::UNATTACHED_FILE_MS)
                .await?;
            let full = tx.widget_file_bytes().await?.saturating_add(size) > cap;
            if !full {
                tx.put_widget_file(&file, now, false).await?;
            }
            tx.commit().await?;
            Ok::<_, relaydesk_storage::StorageError>(full)
        }
        .await;
        if let Ok(true) = stored {
            tracing::warn!(
                max_upload_storage_mb = web.max_upload_storage_mb,
                "visitors' files fill the upload storage: uploads are refused"
            );
            return Err(ServerFrame::error(
                "storage_full",
                "Files cannot be received right now; please send your message without the file.",
                Some(id.to_string()),
            ));
        }
        if let Err(e) = stored {
            tracing::error!(error = %e, "cannot store a widget file");
            return Err(ServerFrame::error(
                "internal",
                "The file could not be stored; it will be sent again.",
                Some(id.to_string()),
            ));
        }
        Ok(files::attachment(
            &file,
            self.state.settings.web.public_url.as_deref(),
        ))
    }

    fn file_key(&self, conversation: &str, id: &str) -> String {
        self.key
            .derive(&format!("widget file\n{conversation}\n{id}"))
    }

    /// Sends what the store holds that this socket has not shown yet.
    async fn refresh(&mut self, visitor: &Visitor, shown: &mut Shown) -> Flow {
        let read = async {
            let mut tx = self.state.store.begin().await?;
            let messages = tx
                .conversation_messages(Platform::Web, &visitor.conversation, shown.last_message)
                .await?;
            let latest = tx
                .latest_ticket(Platform::Web, &visitor.conversation)
                .await?;
            let prompts = tx
                .widget_prompts(&visitor.conversation, shown.last_prompt)
                .await?;
            let mut numbers = std::collections::HashMap::new();
            for message in &messages {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    numbers.entry(message.ticket_id)
                {
                    slot.insert(tx.ticket(message.ticket_id).await?.number);
                }
            }
            tx.rollback().await?;
            Ok::<_, relaydesk_storage::StorageError>((messages, latest, numbers, prompts))
        }
        .await;
        let (messages, latest, numbers, prompts) = match read {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, "a widget socket could not read the store");
                return Flow::Continue;
            }
        };
        let prefix = format!("{}:", visitor.conversation);
        for &ticket in numbers.keys() {
            shown.tickets.add(ticket);
        }
        if let Some(ticket) = &latest {
            shown.tickets.add(ticket.id);
        }
        for message in messages {
            shown.last_message = shown.last_message.max(message.id);
            let from_visitor = message.author_kind == AuthorKind::Customer;
            let frame = ServerFrame::Message {
                id: message.id,
                ticket: numbers.get(&message.ticket_id).copied().unwrap_or_default(),
                from: if from_visitor { "visitor" } else { "agent" },
                author: message.author_name,
                text: message.body,
                at: message.created_at.timestamp_millis(),
                client_id: message
                    .external_id
                    .as_deref()
                    .filter(|_| from_visitor && message.platform == Platform::Web)
                    .and_then(|e| e.strip_prefix(&prefix))
                    .map(str::to_string),
                files: message
                    .attachments
                    .into_iter()
                    .map(|a| FileView {
                        name: a.file_name,
                        mime_type: a.mime_type,
                        url: a.url,
                    })
                    .collect(),
            };
            if let Flow::Stop = self.send(&frame).await {
                return Flow::Stop;
            }
        }
        for prompt in prompts {
            shown.last_prompt = shown.last_prompt.max(prompt.id);
            if let Flow::Stop = self.send(&prompt_frame(prompt)).await {
                return Flow::Stop;
            }
        }
        if let Some(ticket) = latest {
            let closed = !ticket.status.is_active() && ticket.status != TicketStatus::Merged;
            let now = (ticket.number, closed);
            if shown.status != Some(now) {
                shown.status = Some(now);
                return self
                    .send(&ServerFrame::Status {
                        ticket: ticket.number,
                        closed,
                    })
                    .await;
            }
        }
        Flow::Continue
    }
}

/// A stored prompt as the widget shows it.
fn prompt_frame(prompt: WidgetPrompt) -> ServerFrame {
    let (kind, buttons, chosen, comment) = match prompt.kind {
        PromptKind::Survey => {
            let buttons = (1..=5u8)
                .map(|r| PromptButton {
                    label: r.to_string(),
                    value: r.to_string(),
                })
                .collect();
            let mut labels = prompt.labels.into_iter();
            let comment = match (labels.next(), labels.next()) {
                (Some(label), Some(send)) => Some(CommentBox { label, send }),
                _ => None,
            };
            (
                "survey",
                buttons,
                prompt.rating.map(|r| r.to_string()),
                comment,
            )
        }
        PromptKind::Faq => {
            let buttons = prompt
                .labels
                .into_iter()
                .zip(["solved", "help"])
                .map(|(label, value)| PromptButton {
                    label,
                    value: value.to_string(),
                })
                .collect();
            let chosen = prompt
                .outcome
                .map(|o| if o == "solved" { "solved" } else { "help" }.to_string());
            ("faq", buttons, chosen, None)
        }
        PromptKind::Notice => ("notice", Vec::new(), None, None),
    };
    ServerFrame::Prompt {
        id: prompt.id,
        ticket: prompt.ticket_number,
        kind,
        text: prompt.body,
        buttons,
        chosen,
        comment,
        commented: prompt.commented,
    }
}

/// Marks the file of a stored message as kept; false when that failed (the visitor sends
/// again, which marks it then).
async fn keep_file(state: &AppState, key: Option<&str>) -> bool {
    let Some(key) = key else {
        return true;
    };
    let kept = async {
        let mut tx = state.store.begin().await?;
        tx.attach_widget_file(key).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = &kept {
        tracing::error!(error = %e, "cannot mark a widget file as attached");
    }
    kept.is_ok()
}

fn clean_name(name: &str) -> Option<String> {
    let name: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Stores the visitor's email on their customer record: a signed one always; one the visitor
/// typed only while the record is this conversation's alone, never over the address of a
/// customer known elsewhere (Telegram, Discord, another conversation).
async fn keep_email(
    tx: &mut relaydesk_storage::Tx,
    customer: i64,
    visitor: &Visitor,
) -> Result<(), relaydesk_storage::StorageError> {
    let Some(email) = visitor.email.as_deref() else {
        return Ok(());
    };
    if visitor.email_signed || tx.customer_identity_count(customer).await? <= 1 {
        tx.set_customer_email(customer, Some(email), visitor.email_signed)
            .await?;
    }
    Ok(())
}

fn clean_email(email: &str) -> Option<String> {
    let email = email.trim();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    plausible.then(|| email.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails_are_cleaned() {
        assert_eq!(clean_name("  Anna\u{0}  "), Some("Anna".into()));
        assert_eq!(clean_name("   "), None);
        assert_eq!(clean_email(" a@b.example "), Some("a@b.example".into()));
        assert_eq!(clean_email("a@b"), None);
        assert_eq!(clean_email("a@b.example, c@d.example"), None);
        assert_eq!(clean_email("nobody"), None);
    }
}
