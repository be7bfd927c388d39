//! Images in chat messages: a message's `images:` are `file://` paths (read when the suite is
//! planned) or `http(s)://` URLs (downloaded by the runner before the first request), each
//! PNG, JPEG, GIF or WebP, its media type sniffed from its first bytes (never from the file
//! name).
//!
//! An [`Image`] is what results and reports show (`source`, `media_type`, `sha256`, `bytes`);
//! its data, base64-encoded once, travels beside it and is never serialised. Caches and
//! cassettes key on the `sha256` of the bytes, not on the base64 in the body
//! (`provider::wire`'s blobs).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The largest image accepted, in bytes (OpenAI's limit; other vendors' smaller limits are
/// answered by the vendor with its own error).
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// An image of a chat message.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// As the suite names it, rendered: `file://photos/cat.png` or `https://…`.
    pub source: String,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp` (sniffed from the bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Hex SHA-256 of the bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The data, base64-encoded; `None` until a URL image is downloaded (and in results read
    /// back from a file).
    #[serde(skip)]
    pub data: Option<Arc<str>>,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never megabytes of base64 in a debug print.
        f.debug_struct("Image")
            .field("source", &self.source)
            .field("media_type", &self.media_type)
            .field("sha256", &self.sha256)
            .field("bytes", &self.bytes)
            .field("loaded", &self.data.is_some())
            .finish()
    }
}

impl Image {
    /// An image from its bytes: sniffed, hashed and encoded.
    pub fn from_bytes(source: impl Into<String>, bytes: &[u8]) -> Result<Image, String> {
        let source = source.into();
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(format!(
                "image `{source}` is {} bytes; the limit is {MAX_IMAGE_BYTES} (20 MiB)",
                bytes.len()
            ));
        }
        let media_type = sniff(bytes).ok_or_else(|| {
            format!("`{source}` is not a PNG, JPEG, GIF or WebP image (judged by its first bytes)")
        })?;
        Ok(Image {
            source,
            media_type: Some(media_type.to_string()),
            sha256: Some(hex(&Sha256::digest(bytes))),
            bytes: Some(bytes.len() as u64),
            data: Some(
                base64::engine::general_purpose::STANDARD
                    .encode(bytes)
                    .into(),
            ),
        })
    }

    /// An image named by URL, not downloaded yet.
    pub fn url(source: impl Into<String>) -> Image {
        Image {
            source: source.into(),
            media_type: None,
            sha256: None,
            bytes: None,
            data: None,
        }
    }

    /// Whether the source is an `http(s)://` URL.
    pub fn is_url(&self) -> bool {
        self.source.starts_with("http://") || self.source.starts_with("https://")
    }

    /// The base64 data, if loaded.
    pub fn base64(&self) -> Option<&str> {
        self.data.as_deref()
    }

    /// `png`, `jpeg`, `gif`, `webp` (Bedrock's `format`).
    pub fn format(&self) -> &str {
        self.media_type
            .as_deref()
            .and_then(|m| m.strip_prefix("image/"))
            .unwrap_or("png")
    }

    /// `data:image/png;base64,…` (OpenAI's `image_url.url`).
    pub fn data_url(&self) -> Option<String> {
        Some(format!(
            "data:{};base64,{}",
            self.media_type.as_deref()?,
            self.base64()?
        ))
    }

    /// What a cache key or a cassette holds in place of the data: `sha256:<hex>`.
    pub fn placeholder(&self) -> Option<String> {
        Some(format!("sha256:{}", self.sha256.as_deref()?))
    }

    /// What a cache key or a cassette holds in place of the data URL.
    pub fn data_url_placeholder(&self) -> Option<String> {
        Some(format!(
            "data:{};sha256:{}",
            self.media_type.as_deref()?,
            self.sha256.as_deref()?
        ))
    }
}

/// The media type of image bytes, from their signature.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Reads a `file://` image (`rel` already stripped), looked up from `dir` upwards, under the
/// suite's file rules ([`super::files`]: inside the project unless allowed, a regular file, at
/// most `max_file_mb`), and at most 20 MiB (what the vendors accept).
pub fn load_file(
    dir: &Path,
    access: &super::files::FileAccess,
    source: &str,
    rel: &str,
) -> Result<Image, String> {
    let mut access = access.clone();
    access.max_bytes = access.max_bytes.min(MAX_IMAGE_BYTES as u64);
    let (_, bytes) =
        super::files::read(dir, rel, &access, "image file").map_err(|e| match e.help {
            Some(h) => format!("{} ({h})", e.message),
            None => e.message,
        })?;
    Image::from_bytes(source, &bytes)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid 1×1 PNG.
    pub(crate) const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x56, 0xB5, 0x2A, 0xE5, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    #[test]
    fn media_types_are_sniffed_from_bytes() {
        assert_eq!(sniff(PNG), Some("image/png"));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"GIF89a\x01\x00"), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"BM\x00\x00"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
    }

    #[test]
    fn images_hash_the_bytes_and_never_debug_print_data() {
        let img = Image::from_bytes("file://dot.png", PNG).unwrap();
        assert_eq!(img.media_type.as_deref(), Some("image/png"));
        assert_eq!(img.bytes, Some(PNG.len() as u64));
        assert_eq!(img.sha256.as_deref().map(str::len), Some(64));
        assert!(
            img.data_url()
                .unwrap()
                .starts_with("data:image/png;base64,iVBORw0KGgo")
        );
        assert!(!format!("{img:?}").contains("iVBOR"));
        assert_eq!(img.format(), "png");
        let e = Image::from_bytes("file://doc.pdf", b"%PDF-1.7").unwrap_err();
        assert!(e.contains("not a PNG, JPEG, GIF or WebP"), "{e}");
        // Results keep the facts, not the data.
        let json = serde_json::to_string(&img).unwrap();
        assert!(
            !json.contains("iVBOR") && json.contains("\"sha256\""),
            "{json}"
        );
    }
}
