//! Images named by URL: downloaded once per run, before the first request, and put into each
//! request that shows them (a `file://` image was read by the planner already).
//!
//! | mode | where a URL image comes from |
//! |---|---|
//! | `live` | downloaded (GET, 30 s, at most 20 MiB, PNG/JPEG/GIF/WebP by its bytes) |
//! | `record` | downloaded, and saved beside the suite's cassettes (`<cassettes>/<suite>/images/<sha256 of the URL>`) |
//! | `replay` | read from there only; a URL never recorded is an error on the cases that show it |
//!
//! A download that fails is an error on each case that shows the image (never a crash, never
//! a request sent without it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::transport::Transport;
use crate::plan::Plan;
use crate::provider::wire::{Auth, HttpRequest, WireRequest};
use crate::provider::{ErrorClass, Image, ProviderError, Request};
use crate::suite::images::MAX_IMAGE_BYTES;
use crate::suite::model::Mode;

/// How long one download may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The URL images of a run, by URL: the loaded image, or why it could not be had.
#[derive(Debug, Default)]
pub(super) struct UrlImages {
    images: HashMap<String, Result<Image, ProviderError>>,
}

impl UrlImages {
    /// Downloads (or, in replay, reads) every URL image the plan's prompts show.
    pub(super) async fn load(plan: &Plan, transport: &Transport) -> UrlImages {
        let mut wanted: Vec<(String, Mode, Option<PathBuf>)> = Vec::new();
        for s in &plan.suites {
            let store = s
                .providers
                .first()
                .and_then(|p| p.cassette_path.parent())
                .map(|d| d.join("images"));
            let urls = s
                .planned_images()
                .filter(|i| i.data.is_none() && i.is_url());
            for img in urls {
                if !wanted.iter().any(|(u, _, _)| *u == img.source) {
                    wanted.push((img.source.clone(), s.mode, store.clone()));
                }
            }
        }
        let loads = wanted.into_iter().map(|(url, mode, store)| async move {
            let got = obtain(&url, mode, store.as_deref(), transport).await;
            (url, got)
        });
        UrlImages {
            images: futures_util::future::join_all(loads)
                .await
                .into_iter()
                .collect(),
        }
    }

    /// Puts the downloaded data into every URL image of `req`; the first image that could not
    /// be had is the error.
    pub(super) fn fill(&self, req: &mut Request) -> Result<(), ProviderError> {
        for img in req.messages.iter_mut().flat_map(|m| m.images.iter_mut()) {
            if img.data.is_some() || !img.is_url() {
                continue;
            }
            match self.images.get(&img.source) {
                Some(Ok(loaded)) => *img = loaded.clone(),
                Some(Err(e)) => return Err(e.clone()),
                None => {
                    return Err(ProviderError::new(
                        ErrorClass::Config,
                        format!("image `{}` was not downloaded", img.source),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Where a recorded URL image is kept: the SHA-256 of the URL, in the store folder.
fn stored_path(store: &Path, url: &str) -> PathBuf {
    let digest = Sha256::digest(url.as_bytes());
    let mut name = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(name, "{b:02x}");
    }
    store.join(name)
}

async fn obtain(
    url: &str,
    mode: Mode,
    store: Option<&Path>,
    transport: &Transport,
) -> Result<Image, ProviderError> {
    if mode == Mode::Replay {
        let Some(path) = store.map(|s| stored_path(s, url)) else {
            return Err(not_recorded(url, "no cassette folder"));
        };
        let bytes =
            std::fs::read(&path).map_err(|_| not_recorded(url, &path.display().to_string()))?;
        return Image::from_bytes(url, &bytes)
            .map_err(|e| ProviderError::new(ErrorClass::Config, e));
    }
    let image = download(url, transport).await?;
    if mode == Mode::Record
        && let Some(store) = store
    {
        save(store, url, &image)?;
    }
    Ok(image)
}

fn not_recorded(url: &str, looked: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::NotRecorded,
        format!(
            "image `{url}` was never recorded ({looked}); replay reads URL images from the cassette folder: record once with `--mode record`"
        ),
    )
}

async fn download(url: &str, transport: &Transport) -> Result<Image, ProviderError> {
    let req = WireRequest::Http(HttpRequest {
        method: "GET".into(),
        url: url.to_string(),
        headers: vec![("accept".into(), "image/*".into())],
        body: serde_json::Value::Null,
        auth: Auth::None,
        blobs: Vec::new(),
    });
    let (raw, _) = transport.send(&req, TIMEOUT).await.map_err(|mut e| {
        e.message = format!("cannot download image `{url}`: {}", e.message);
        e
    })?;
    if !raw.is_success() {
        let mut e = ProviderError::new(
            crate::provider::class_for_status(raw.status),
            format!("cannot download image `{url}`: HTTP {}", raw.status),
        );
        e.status = Some(raw.status);
        return Err(e);
    }
    if raw.body.len() > MAX_IMAGE_BYTES {
        return Err(ProviderError::new(
            ErrorClass::Config,
            format!(
                "image `{url}` is {} bytes; the limit is {MAX_IMAGE_BYTES} (20 MiB)",
                raw.body.len()
            ),
        ));
    }
    Image::from_bytes(url, &raw.body).map_err(|e| ProviderError::new(ErrorClass::Config, e))
}

/// Keeps a downloaded image for replay: the bytes, decoded back from the loaded data.
fn save(store: &Path, url: &str, image: &Image) -> Result<(), ProviderError> {
    use base64::Engine as _;
    let data = image.base64().unwrap_or("");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| ProviderError::new(ErrorClass::Config, e.to_string()))?;
    std::fs::create_dir_all(store)
        .and_then(|()| super::cassette::write_atomic(&stored_path(store, url), &bytes))
        .map_err(|e| {
            ProviderError::new(
                ErrorClass::Config,
                format!(
                    "cannot keep image `{url}` for replay in {}: {e}",
                    store.display()
                ),
            )
        })
}
