//! An HTTP client for the agents' console: keeps the cookies the server sets (like a browser)
//! and reads the CSRF token out of the pages.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};

/// One answer from the console, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    /// Where a redirect points.
    pub location: Option<String>,
    /// The raw `Set-Cookie` headers.
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The first CSRF token in the page's forms.
    pub fn csrf(&self) -> Option<String> {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }
}

pub struct ConsoleClient {
    base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// Sent as `X-Forwarded-For`: the client address a trusted proxy would report.
    forwarded_for: Option<String>,
}

impl ConsoleClient {
    /// A client of the app at `base` (`http://127.0.0.1:port`) that does not follow redirects.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("an HTTP client"),
            cookies: BTreeMap::new(),
            forwarded_for: None,
        }
    }

    /// The same client, as seen through a proxy that reports `address` as the client's.
    pub fn from_address(mut self, address: &str) -> Self {
        self.forwarded_for = Some(address.to_string());
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header());
        match &self.forwarded_for {
            Some(address) => request.header("x-forwarded-for", address),
            None => request,
        }
    }

    /// A GET whose answer is left unread (an event stream), with this client's cookies.
    pub async fn open(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("the console answers")
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, response: Response) -> Page {
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let removed = line.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if removed {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        let headers = response.headers().clone();
        let body = response.text().await.expect("a response body");
        Page {
            status,
            location,
            set_cookies,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("the console answers");
        self.read(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .request(reqwest::Method::POST, path)
            .form(form)
            .send()
            .await
            .expect("the console answers");
        self.read(response).await
    }

    /// Opens the sign-in form and submits it.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, StatusCode::OK, "the sign-in form");
        let csrf = form.csrf().expect("the sign-in form has a CSRF token");
        self.post(
            "/console/sign-in",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// A session's CSRF token, read from the ticket list.
    pub async fn session_csrf(&mut self) -> String {
        let page = self.get("/console/tickets").await;
        assert_eq!(page.status, StatusCode::OK, "signed in: {}", page.body);
        page.csrf().expect("signed-in pages carry a CSRF token")
    }

    /// Runs a ticket action with this session's token; `value` goes in the field named after
    /// the command's argument, as the ticket page's form sends it.
    pub async fn action(&mut self, number: i64, action: &str, value: &str) -> Page {
        let csrf = self.session_csrf().await;
        let field = relaydesk_desk::catalogue::find(action)
            .and_then(|spec| spec.arg)
            .map_or("value", |arg| arg.name);
        self.post(
            &format!("/console/tickets/{number}/actions"),
            &[("csrf", &csrf), ("action", action), (field, value)],
        )
        .await
    }
}
