//! The widget's files, embedded in the binary: no build step when installing.

use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse};

const SCRIPT: &str = include_str!("../../assets/widget/widget.js");
const DEMO: &str = include_str!("../../assets/widget/demo.html");

/// `GET /widget.js`.
pub(crate) async fn script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        SCRIPT,
    )
}

/// `GET /`: a page with the widget, so a fresh install can be tried at once.
pub(crate) async fn demo_page() -> impl IntoResponse {
    Html(DEMO)
}
