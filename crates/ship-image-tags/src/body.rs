//! Reading response bodies with a size limit, chunk by chunk: a registry (or whatever answers
//! in its place) that sends a 2 GB or endless body must cost this process at most the limit
//! plus one chunk, never the whole body. A `Content-Length` over the limit is refused before
//! a byte of the body is read.

use reqwest::{Response, Url};

/// Largest manifest read (the distribution spec's suggested limit; registries refuse more).
pub(crate) const MANIFEST_LIMIT: usize = 4 * 1024 * 1024;
/// Largest page of a tag list read: 100,000 tags of the longest name the spec allows (128
/// characters), so a registry that ignores `n` and answers every tag of a repository at the
/// listing cap in one page still fits.
pub(crate) const TAG_LIST_LIMIT: usize = 16 * 1024 * 1024;
/// Largest token service reply read: a token is a few kilobytes.
pub(crate) const TOKEN_LIMIT: usize = 1024 * 1024;
/// How much of an error body is read: only its first `errors[]` entry or first line is shown.
pub(crate) const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection failed or timed out part-way.
    Transport(reqwest::Error),
    /// The body is larger than `limit`: `declared` is its `Content-Length` when that said so
    /// up front, else `None` (found while reading; nothing more was read).
    TooLarge {
        url: String,
        limit: usize,
        declared: Option<u64>,
    },
}

impl BodyError {
    /// `over the 4 MiB limit (Content-Length 2147483648)` or `over the 4 MiB limit`, for
    /// messages that already say what was being read and where.
    pub(crate) fn over_limit(limit: usize, declared: Option<u64>) -> String {
        match declared {
            Some(n) => format!(
                "over the {} limit (Content-Length {n}); not read",
                show_limit(limit)
            ),
            None => format!(
                "over the {} limit; reading stopped there",
                show_limit(limit)
            ),
        }
    }
}

/// `4 MiB`, `64 KiB`, `100 bytes`.
pub(crate) fn show_limit(limit: usize) -> String {
    if limit >= 1024 * 1024 && limit.is_multiple_of(1024 * 1024) {
        format!("{} MiB", limit / (1024 * 1024))
    } else if limit >= 1024 && limit.is_multiple_of(1024) {
        format!("{} KiB", limit / 1024)
    } else {
        format!("{limit} bytes")
    }
}

/// `url` for messages: no user name or password (a URL may carry them), no query (a token
/// may travel there).
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// The whole body, or [`BodyError::TooLarge`] as soon as it is known to exceed `limit`.
pub(crate) async fn read_limited(
    mut response: Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let too_large = |response: &Response, declared| BodyError::TooLarge {
        url: display_url(response.url()),
        limit,
        declared,
    };
    let declared = response.content_length();
    if let Some(n) = declared.filter(|n| *n > limit as u64) {
        return Err(too_large(&response, Some(n)));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large(&response, None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// At most the first `limit` bytes of the body; the rest is never read (the connection is
/// dropped). For error bodies, where a prefix says all a message shows; a transport failure
/// part-way keeps what arrived.
pub(crate) async fn read_prefix(mut response: Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_well() {
        assert_eq!(show_limit(MANIFEST_LIMIT), "4 MiB");
        assert_eq!(show_limit(ERROR_BODY_LIMIT), "64 KiB");
        assert_eq!(show_limit(1000), "1000 bytes");
        assert_eq!(
            BodyError::over_limit(MANIFEST_LIMIT, Some(7)),
            "over the 4 MiB limit (Content-Length 7); not read"
        );
    }

    #[test]
    fn urls_lose_credentials_and_queries() {
        let url =
            Url::parse("https://user:s3cret@r.example/v2/api/tags/list?n=1&token=t#x").unwrap();
        assert_eq!(display_url(&url), "https://r.example/v2/api/tags/list");
    }
}
