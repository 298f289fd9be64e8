//! Visitors' attachments: checked by content (not by the name or the browser's word), kept in
//! the database, served back under an unguessable key.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use relaydesk_storage::{Attachment, WidgetFile};

use crate::{AppState, WebError};

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UploadError {
    TooLarge { limit: usize },
    NotAllowed,
    Malformed,
}

/// The type of an allowed file, by its first bytes: images and PDFs.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else if data.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// Decodes and checks an upload.
pub(crate) fn decode(encoded: &str, limit: usize) -> Result<(Vec<u8>, &'static str), UploadError> {
    // Base64 is 4 characters for 3 bytes: refuse before decoding what is surely too large.
    if encoded.len() / 4 * 3 > limit + 3 {
        return Err(UploadError::TooLarge { limit });
    }
    let data = STANDARD
        .decode(encoded.trim())
        .map_err(|_| UploadError::Malformed)?;
    if data.len() > limit {
        return Err(UploadError::TooLarge { limit });
    }
    let mime = sniff(&data).ok_or(UploadError::NotAllowed)?;
    Ok((data, mime))
}

/// A file name safe to show and to send in a header.
pub fn clean_name(name: &str, mime: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(100)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        match mime {
            "application/pdf" => "document.pdf".to_string(),
            _ => "image".to_string(),
        }
    } else {
        cleaned
    }
}

/// What a message records about a stored file.
pub fn attachment(file: &WidgetFile, public_url: Option<&str>) -> Attachment {
    let base = public_url.unwrap_or("").trim_end_matches('/');
    Attachment {
        kind: if file.mime_type.starts_with("image/") {
            "photo".to_string()
        } else {
            "document".to_string()
        },
        file_name: Some(file.file_name.clone()),
        mime_type: Some(file.mime_type.clone()),
        size: i64::try_from(file.data.len()).ok(),
        // Platform refs are other platforms' file handles (Telegram file_id); staff channels
        // show a widget file as a link.
        platform_ref: None,
        url: Some(format!("{base}/widget/files/{}", file.key)),
    }
}

/// `GET /widget/files/{key}`.
pub(crate) async fn download(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let mut tx = state.store.begin().await?;
    let file = tx.widget_file(&key).await?;
    tx.rollback().await?;
    let Some(file) = file else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    // Only types we sniffed ourselves are ever stored; never let the browser guess.
    let mime = HeaderValue::from_str(&file.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&format!(
        "inline; filename=\"{}\"",
        file.file_name.replace('"', "")
    ))
    .unwrap_or(HeaderValue::from_static("inline"));
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            ),
        ],
        file.data,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_typed_by_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"MZ\x90\x00"), None);
    }

    #[test]
    fn uploads_are_checked_for_size_and_type() {
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\n0123456789");
        assert_eq!(decode(&png, 1000).map(|(_, m)| m), Ok("image/png"));
        assert_eq!(
            decode(&png, 5).map(|(_, m)| m),
            Err(UploadError::TooLarge { limit: 5 })
        );
        let exe = STANDARD.encode(b"MZ\x90\x00 not an image");
        assert_eq!(
            decode(&exe, 1000).map(|(_, m)| m),
            Err(UploadError::NotAllowed)
        );
        assert_eq!(
            decode("@@@", 1000).map(|(_, m)| m),
            Err(UploadError::Malformed)
        );
    }

    #[test]
    fn names_lose_paths_and_odd_characters() {
        assert_eq!(
            clean_name("../../etc/pass\"wd.pdf", "application/pdf"),
            "passwd.pdf"
        );
        assert_eq!(clean_name("<>", "image/png"), "image");
    }
}
