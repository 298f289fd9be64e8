//! A webhook receiver on a loopback port, as an integration would run one: it records every
//! POST (headers and body) and answers 200, or a chosen error status; it can be stopped and
//! started again on the same port to play a receiver that is down for a while.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub event: String,
    pub delivery: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<u16>>,
}

pub struct WebhookReceiver {
    pub addr: SocketAddr,
    shared: Shared,
    running: Option<CancellationToken>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let mut receiver = Self {
            addr,
            shared: Shared {
                answer: Arc::new(Mutex::new(200)),
                ..Shared::default()
            },
            running: None,
        };
        receiver.serve(listener);
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn serve(&mut self, listener: TcpListener) {
        let token = CancellationToken::new();
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(self.shared.clone());
        let stop = token.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        self.running = Some(token);
    }

    /// Stops listening: connections are refused until [`WebhookReceiver::restart`].
    pub async fn stop(&mut self) {
        if let Some(token) = self.running.take() {
            token.cancel();
        }
        // Until the port refuses connections.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the receiver did not stop");
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        for _ in 0..100 {
            if let Ok(listener) = TcpListener::bind(self.addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("could not listen on {} again", self.addr);
    }

    /// The status answered from now on (200 unless told otherwise).
    pub fn answer(&self, status: u16) {
        *self.shared.answer.lock().expect("answer") = status;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("received").clone()
    }

    /// Waits until `count` requests were answered 2xx; returns those.
    pub async fn wait_for_ok(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let ok: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| (200..300).contains(&r.answered))
                .collect();
            if ok.len() >= count || tokio::time::Instant::now() > deadline {
                return ok;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        if let Some(token) = self.running.take() {
            token.cancel();
        }
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let answered = *shared.answer.lock().expect("answer");
    shared.received.lock().expect("received").push(Received {
        event: header("relaydesk-event"),
        delivery: header("relaydesk-delivery"),
        signature: header("relaydesk-signature"),
        body: body.to_vec(),
        answered,
    });
    StatusCode::from_u16(answered).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
