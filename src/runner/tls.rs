//! The TLS client settings of a run, shared by the direct path (`direct.rs`) and reqwest
//! (proxied requests), built on first use (loading the system's roots takes milliseconds a run
//! without HTTPS does not need to wait for).
//!
//! - rustls with ring; TLS 1.2 and 1.3; ALPN `http/1.1`.
//! - Certificates are verified as reqwest verifies them by default: the platform's verifier
//!   (`rustls-platform-verifier`: the OS trust store on macOS and Windows; on Linux the system
//!   bundle, or `SSL_CERT_FILE`/`SSL_CERT_DIR` instead when set).
//! - **`PROMPTDRIFT_CA_CERTS`**: PEM files of certificate authorities to trust as well (one,
//!   or several separated like `PATH`): a corporate proxy's CA, a self-hosted model server's
//!   private CA, the benchmark's TLS mock. A file that cannot be read or holds no certificate
//!   is an error, never skipped.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The variable naming extra CA certificates (PEM).
pub const CA_CERTS_VAR: &str = crate::env::PROMPTDRIFT_CA_CERTS;

/// The run's TLS settings, made once, on first use.
#[derive(Debug, Clone, Default)]
pub(super) struct TlsConfig(Arc<OnceLock<Result<Arc<rustls::ClientConfig>, String>>>);

impl TlsConfig {
    /// The settings, made now if not yet.
    pub(super) fn get(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        self.0
            .get_or_init(|| client_config(&ca_files()).map(Arc::new))
            .clone()
    }
}

/// The same settings for the few HTTPS calls outside a run's transport (the cloud credential
/// chains' token endpoints), made once per process.
pub(crate) fn process_config() -> Result<rustls::ClientConfig, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| client_config(&ca_files()).map(Arc::new))
        .as_ref()
        .map(|c| (**c).clone())
        .map_err(Clone::clone)
}

/// The files `PROMPTDRIFT_CA_CERTS` names.
fn ca_files() -> Vec<PathBuf> {
    std::env::var_os(CA_CERTS_VAR)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the CA certificates of `files` (PEM); checks that each file has at least one.
pub fn read_ca_certs(files: &[PathBuf]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut out = Vec::new();
    for f in files {
        let before = out.len();
        let certs = CertificateDer::pem_file_iter(f).map_err(|e| unreadable(f, &e))?;
        for c in certs {
            out.push(c.map_err(|e| unreadable(f, &e))?);
        }
        if out.len() == before {
            return Err(format!(
                "{CA_CERTS_VAR}: {} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)",
                f.display()
            ));
        }
    }
    Ok(out)
}

fn unreadable(f: &Path, e: &dyn std::fmt::Display) -> String {
    format!("{CA_CERTS_VAR}: cannot read {}: {e}", f.display())
}

/// Checks `PROMPTDRIFT_CA_CERTS` before a run (the command line stops with exit 2 on a bad
/// file rather than failing every HTTPS request).
pub fn check_ca_certs_env() -> Result<(), String> {
    read_ca_certs(&ca_files()).map(drop)
}

/// rustls settings trusting the platform's roots and the certificates of `ca_files`.
fn client_config(ca_files: &[PathBuf]) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra = read_ca_certs(ca_files)?;
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| format!("cannot load the trusted certificate authorities: {e}"))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ca_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = read_ca_certs(&[missing]).unwrap_err();
        assert!(
            e.contains("cannot read") && e.contains("missing.pem"),
            "{e}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = read_ca_certs(&[empty]).unwrap_err();
        assert!(e.contains("holds no PEM certificate"), "{e}");
        assert!(read_ca_certs(&[]).unwrap().is_empty());
    }
}
