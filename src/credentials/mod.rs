//! Cloud credentials the way each cloud hands them out: the AWS default chain (for `bedrock:`),
//! Google Application Default Credentials (for `vertex:`) and Microsoft Entra ID's
//! DefaultAzureCredential order (for `azure:`).
//!
//! ```text
//!  provider build (plan)                          during the run (transport, per request)
//!  ─────────────────────                          ───────────────────────────────────────
//!  aws::resolve / google::resolve /               Auth::Refreshing(r).resolve().await
//!  azure::resolve  (reads env + files only)          └─ Refreshing::current(): cached value,
//!     ├─ Static(value)      → Auth::SigV4 / Bearer       or one fetch when it expires within
//!     ├─ Refreshing(source) → first fetch now            the refresh window (single flight)
//!     │   (own thread + runtime: errors before any request, exit 2)
//!     └─ NotFound(tried…)   → "tried, in order: …" + the fix
//! ```
//!
//! - [`Refreshing`] caches one source's credential and fetches a new one before it expires
//!   ([`refresh_window`]: 5 minutes, or `PROMPTDRIFT_CREDENTIALS_REFRESH_SECS`, for tests; at
//!   most half the credential's lifetime).
//!   Sources that describe the same credential share one cache per process ([`shared`]).
//! - Every value fetched is registered with [`crate::secret::register`], so every scrubber
//!   removes it from stored text; [`Source::describe`] and [`Source::kind`] never hold a secret:
//!   they are what `-v` prints and what the results file's `run.credentials` records.
//! - [`net`] is the small HTTP client these fetches use (STS, SSO, IMDS, Google and Entra token
//!   endpoints, metadata servers); [`jwt`] signs RS256 assertions with `ring`.
//! - No network call is ever made by `validate`: the chain is chosen from the environment and
//!   files; fetching happens only when a run starts.

pub mod aws;
pub mod aws_files;
mod aws_remote;
pub mod azure;
pub mod google;
pub mod jwt;
pub mod net;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use crate::secret::Secret;

/// Reads a non-empty environment variable.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How long before expiry a credential is fetched again, unless
/// `PROMPTDRIFT_CREDENTIALS_REFRESH_SECS` says otherwise (meant for tests with credentials that
/// last seconds).
pub const DEFAULT_REFRESH_WINDOW: Duration = Duration::from_secs(300);

/// The refresh window in force (read once per process).
pub fn refresh_window() -> Duration {
    static WINDOW: OnceLock<Duration> = OnceLock::new();
    *WINDOW.get_or_init(|| {
        std::env::var(crate::env::PROMPTDRIFT_CREDENTIALS_REFRESH_SECS)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_REFRESH_WINDOW, Duration::from_secs)
    })
}

/// AWS keys: what SigV4 signs with.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsKeys {
    /// Access key id.
    pub access_key_id: Secret,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token of temporary credentials.
    pub session_token: Option<Secret>,
}

impl std::fmt::Debug for AwsKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsKeys(***)")
    }
}

/// A credential a source hands out.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Credential {
    /// AWS keys, for SigV4.
    Aws(AwsKeys),
    /// An OAuth 2 / Entra ID access token, sent as `Authorization: Bearer`.
    Bearer(Secret),
}

impl Credential {
    fn secrets(&self) -> Vec<&str> {
        match self {
            Credential::Aws(k) => {
                let mut v = vec![k.access_key_id.expose(), k.secret_access_key.expose()];
                if let Some(t) = &k.session_token {
                    v.push(t.expose());
                }
                v
            }
            Credential::Bearer(t) => vec![t.expose()],
        }
    }
}

/// A credential and when it stops working (`None`: it does not expire).
#[derive(Clone, Debug)]
pub struct Obtained {
    /// The credential.
    pub credential: Credential,
    /// Its expiry.
    pub expires: Option<SystemTime>,
}

/// A boxed future, as a source's fetch returns it.
pub type Fetching<'a> = Pin<Box<dyn Future<Output = Result<Obtained, String>> + Send + 'a>>;

/// Somewhere temporary credentials come from (STS, a token endpoint, a metadata server, a
/// command).
pub trait Source: Send + Sync {
    /// Fetches a fresh credential. Errors say what was asked and what answered (never a
    /// secret).
    fn fetch(&self) -> Fetching<'_>;
    /// For `-v` and messages: `web identity, role arn:aws:iam::123456789012:role/ci`.
    fn describe(&self) -> String;
    /// For the results file: `aws-web-identity`.
    fn kind(&self) -> &'static str;
}

/// Where a provider's credential comes from, for `-v` output and the results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    /// Short kind (`aws-web-identity`, `google-service-account`, `azure-managed-identity`…).
    pub kind: String,
    /// Human description (`web identity, role arn:…`); never a secret.
    pub detail: String,
}

impl CredentialInfo {
    /// A new description.
    pub fn new(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        CredentialInfo {
            kind: kind.into(),
            detail: detail.into(),
        }
    }
}

/// One source's credential, cached and refreshed before it expires.
pub struct Refreshing {
    source: Box<dyn Source>,
    /// The credential and when it was fetched.
    state: Mutex<Option<(Obtained, SystemTime)>>,
    refreshing: tokio::sync::Mutex<()>,
    fetches: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Refreshing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Refreshing({})", self.source.describe())
    }
}

impl Refreshing {
    /// A cache around `source` (nothing fetched yet).
    pub fn new(source: Box<dyn Source>) -> Self {
        Refreshing {
            source,
            state: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            fetches: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// What `-v` and the results file say about this source.
    pub fn info(&self) -> CredentialInfo {
        CredentialInfo::new(self.source.kind(), self.source.describe())
    }

    /// How many fetches were made (for tests and debug logs).
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn cached(&self) -> Option<(Obtained, SystemTime)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn store(&self, o: &Obtained) {
        for s in o.credential.secrets() {
            crate::secret::register(s);
        }
        *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((o.clone(), SystemTime::now()));
    }

    /// The first fetch, made when a run starts, from any thread (a runtime of its own on a
    /// thread of its own, so it works inside or outside an async context). Does nothing when
    /// a fresh credential is already cached (another provider entry fetched it).
    ///
    /// # Errors
    /// The source's error.
    pub fn prime(self: &Arc<Self>) -> Result<(), String> {
        if self
            .cached()
            .is_some_and(|(o, at)| is_fresh(&o, at, SystemTime::now()))
        {
            return Ok(());
        }
        let me = Arc::clone(self);
        net::block_on_own_thread(async move { me.refresh().await.map(|_| ()) })
    }

    /// The credential to use now: the cached one, or a new one when the cached one expires
    /// within the refresh window. When a refresh fails while the cached credential still
    /// works, the cached one is used and a warning says so; once it has expired the error is
    /// returned.
    ///
    /// # Errors
    /// The source's error when no working credential is left.
    pub async fn current(&self) -> Result<Credential, String> {
        let now = SystemTime::now();
        if let Some((o, at)) = self.cached()
            && is_fresh(&o, at, now)
        {
            return Ok(o.credential);
        }
        self.refresh().await
    }

    async fn refresh(&self) -> Result<Credential, String> {
        let _one_at_a_time = self.refreshing.lock().await;
        let now = SystemTime::now();
        let old = self.cached();
        if let Some((o, at)) = &old
            && is_fresh(o, *at, now)
        {
            return Ok(o.credential.clone());
        }
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.source.fetch().await {
            Ok(o) => {
                tracing::debug!(
                    source = %self.source.describe(),
                    expires_in_s = o.expires.and_then(|e| e.duration_since(now).ok()).map(|d| d.as_secs()),
                    "credentials fetched"
                );
                self.store(&o);
                Ok(o.credential)
            }
            // A token endpoint may echo what it was sent (a client secret, a refresh token,
            // an assertion) in its error: scrubbed before the message goes anywhere.
            Err(e) => match (old, crate::secret::scrub(&e)) {
                (Some((o, _)), e) if o.expires.is_none_or(|e| e > now) => {
                    tracing::warn!(
                        "credentials: refreshing {} failed ({e}); the current credentials stay in use until they expire",
                        self.source.describe()
                    );
                    Ok(o.credential)
                }
                (_, e) => Err(format!("{}: {e}", self.source.describe())),
            },
        }
    }
}

/// Whether a credential fetched `at` needs no refresh `now`: it has more than the refresh
/// window left, or, for one that lasts less than twice the window, more than half its lifetime
/// (so a source handing out short-lived tokens is not asked again at every request).
fn is_fresh(o: &Obtained, at: SystemTime, now: SystemTime) -> bool {
    let Some(expires) = o.expires else {
        return true;
    };
    let lifetime = expires.duration_since(at).unwrap_or_default();
    let window = refresh_window().min(lifetime / 2);
    expires.duration_since(now).is_ok_and(|left| left > window)
}

/// One [`Refreshing`] per credential per process: provider entries (and suites) that use the
/// same source share its cache, so they fetch once.
pub fn shared(key: &str, make: impl FnOnce() -> Box<dyn Source>) -> Arc<Refreshing> {
    static ALL: OnceLock<Mutex<HashMap<String, Arc<Refreshing>>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(
        all.entry(key.to_string())
            .or_insert_with(|| Arc::new(Refreshing::new(make()))),
    )
}

/// A refreshing credential as carried by a request's `Auth`; compares by identity.
#[derive(Clone, Debug)]
pub struct SharedCredential(pub Arc<Refreshing>);

impl PartialEq for SharedCredential {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a chain found when it was resolved.
pub enum Found {
    /// A credential that does not change (keys or a token from the environment or a file).
    Static(Credential, CredentialInfo),
    /// Temporary credentials from a source, refreshed during the run.
    Refreshing(Arc<Refreshing>),
}

impl Found {
    /// Where the credential comes from.
    pub fn info(&self) -> CredentialInfo {
        match self {
            Found::Static(_, i) => i.clone(),
            Found::Refreshing(r) => r.info(),
        }
    }
}

/// A chain that found nothing usable, or a source that failed: what was tried, in order, and
/// how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError {
    /// The headline.
    pub message: String,
    /// Each source tried, in order, with why it did not give credentials.
    pub tried: Vec<String>,
    /// The fix.
    pub help: String,
}

impl ChainError {
    /// The headline followed by the numbered list of what was tried.
    pub fn full_message(&self) -> String {
        if self.tried.is_empty() {
            return self.message.clone();
        }
        let mut out = format!("{}; tried, in order:", self.message);
        for (i, t) in self.tried.iter().enumerate() {
            out.push_str(&format!("\n  {}. {t}", i + 1));
        }
        out
    }
}

/// Seconds → a `SystemTime` that many seconds from now.
pub(crate) fn in_secs(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

/// Parses an RFC 3339 / ISO 8601 UTC time (`2024-01-02T03:04:05Z`, fractional seconds and a
/// `+00:00`-style offset allowed).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let mo: i64 = d.next()?.parse().ok()?;
    let da: i64 = d.next()?.parse().ok()?;
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0i64)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    } else {
        (rest, 0)
    };
    let mut t = time.split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let mi: i64 = t.next()?.parse().ok()?;
    let sec: f64 = t.next().unwrap_or("0").parse().ok()?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 {
        return None;
    }
    let days = days_from_civil(y, mo, da);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec.floor() as i64 - offset_secs;
    u64::try_from(secs)
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads a small text file (a token file); a missing or unreadable file is an error naming it.
/// The token is registered with the scrubber before anyone sends it.
pub(crate) fn read_token_file(path: &str, what: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} file {path}: {e}"))?;
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(format!("the {what} file {path} is empty"));
    }
    crate::secret::register(&text);
    Ok(text)
}

/// Whether this machine says it is a virtual machine of `vendor` in its DMI data
/// (`/sys/class/dmi/id/*`), which is how promptdrift decides to ask an instance metadata
/// service without being told to (it never probes the network to find out).
pub(crate) fn dmi_says(files: &[&str], needle: &str) -> bool {
    files.iter().any(|f| {
        std::fs::read_to_string(format!("/sys/class/dmi/id/{f}"))
            .is_ok_and(|v| v.trim().contains(needle))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parsing() {
        let t = |s| {
            parse_rfc3339(s).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
        };
        assert_eq!(t("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(t("2021-12-25T21:30:00Z"), Some(1_640_467_800));
        assert_eq!(t("2021-12-25T21:30:00.123Z"), Some(1_640_467_800));
        assert_eq!(t("2021-12-25T22:30:00+01:00"), Some(1_640_467_800));
        assert_eq!(t("2021-12-25T21:30:00"), Some(1_640_467_800));
        assert_eq!(t("not a date"), None);
        assert_eq!(t("2021-13-25T21:30:00Z"), None);
    }

    struct Counting {
        lifetime: Duration,
        fail_after: Option<usize>,
        n: std::sync::atomic::AtomicUsize,
    }

    impl Source for Counting {
        fn fetch(&self) -> Fetching<'_> {
            Box::pin(async move {
                let n = self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if self.fail_after.is_some_and(|f| n >= f) {
                    return Err("endpoint down".into());
                }
                Ok(Obtained {
                    credential: Credential::Bearer(Secret::new(format!("token-number-{n}"))),
                    expires: Some(SystemTime::now() + self.lifetime),
                })
            })
        }
        fn describe(&self) -> String {
            "counting source".into()
        }
        fn kind(&self) -> &'static str {
            "test"
        }
    }

    fn bearer(c: Credential) -> String {
        match c {
            Credential::Bearer(t) => t.expose().to_string(),
            Credential::Aws(_) => unreachable!(),
        }
    }

    #[test]
    fn cached_until_the_refresh_window_then_fetched_again() {
        // Lives longer than the window: fetched once.
        let r = Arc::new(Refreshing::new(Box::new(Counting {
            lifetime: DEFAULT_REFRESH_WINDOW * 2,
            fail_after: None,
            n: 0.into(),
        })));
        r.prime().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for _ in 0..3 {
            assert_eq!(bearer(rt.block_on(r.current()).unwrap()), "token-number-0");
        }
        assert_eq!(r.fetch_count(), 1);
        assert!(crate::secret::registered().contains(&"token-number-0".to_string()));
        // Lasts less than twice the window: fetched again after half its lifetime, and a
        // failing refresh falls back to the credential that still works.
        let r = Arc::new(Refreshing::new(Box::new(Counting {
            lifetime: Duration::from_millis(400),
            fail_after: Some(2),
            n: 0.into(),
        })));
        r.prime().unwrap();
        assert_eq!(bearer(rt.block_on(r.current()).unwrap()), "token-number-0");
        assert_eq!(r.fetch_count(), 1, "fresh for half its lifetime");
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(bearer(rt.block_on(r.current()).unwrap()), "token-number-1");
        std::thread::sleep(Duration::from_millis(250));
        // The third fetch fails; token 1 still has about 150 ms left, so it stays in use.
        assert_eq!(bearer(rt.block_on(r.current()).unwrap()), "token-number-1");
        assert_eq!(r.fetch_count(), 3);
    }

    #[test]
    fn an_expired_credential_is_never_used() {
        let r = Arc::new(Refreshing::new(Box::new(Counting {
            lifetime: Duration::ZERO,
            fail_after: Some(1),
            n: 0.into(),
        })));
        r.prime().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = rt.block_on(r.current()).unwrap_err();
        assert_eq!(e, "counting source: endpoint down");
    }

    #[test]
    fn chain_errors_list_what_was_tried() {
        let e = ChainError {
            message: "no AWS credentials found".into(),
            tried: vec!["environment: not set".into(), "profile: none".into()],
            help: "h".into(),
        };
        assert_eq!(
            e.full_message(),
            "no AWS credentials found; tried, in order:\n  1. environment: not set\n  2. profile: none"
        );
    }
}
