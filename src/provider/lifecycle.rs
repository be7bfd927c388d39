//! Model lifecycle: is a suite's model retired, or retiring soon?
//!
//! - `table`: the dated table of vendors' retirement dates and named successors, with the
//!   pages they come from ([`TABLE_DATE`] says when it was last brought up to date).
//! - [`platform_of`]: which table a provider kind reads (`openai`, `azure`, `anthropic`,
//!   `bedrock`, `gemini`, `vertex`; none for `ollama`, `openai-compatible`, `http`, `exec`,
//!   whose models are not the vendors' to retire).
//! - [`check`]: a provider's model against the table on a given day → a [`Notice`] when the
//!   model is retired, or retires within [`WINDOW_DAYS`].
//! - [`today`]: the day to count from: `PROMPTDRIFT_TODAY` (`YYYY-MM-DD`) or the clock (UTC).
//!
//! `validate` and `run` turn a notice into a warning at the provider (an error with
//! `--deny-retired`; see `plan`). Model ids are matched as the vendor spells them, ignoring
//! case, after dropping what is not part of the model: Bedrock's cross-region inference
//! prefixes (`us.`, `eu.`, `apac.`, `global.`…) and Gemini's `models/`. Azure deployments are
//! named by their owner: a deployment is looked up by its name, which matches when it is named
//! after its model (the common case, and what `init` writes); otherwise it is not checked.

mod table;

pub use table::TABLE_DATE;

/// Warn this many days ahead of a retirement.
pub const WINDOW_DAYS: i64 = 90;

/// Whose retirement schedule applies: a vendor, or a platform that sets its own dates for
/// models it hosts (Azure, Bedrock and Vertex do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// OpenAI's API.
    OpenAi,
    /// Azure OpenAI.
    Azure,
    /// The Claude API.
    Anthropic,
    /// Amazon Bedrock.
    Bedrock,
    /// The Gemini API (Google AI Studio).
    Gemini,
    /// Vertex AI.
    Vertex,
}

impl Platform {
    /// The vendor's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Platform::OpenAi => "OpenAI",
            Platform::Azure => "Azure OpenAI",
            Platform::Anthropic => "Anthropic",
            Platform::Bedrock => "Amazon Bedrock",
            Platform::Gemini => "the Gemini API",
            Platform::Vertex => "Vertex AI",
        }
    }
}

/// A page the table was read from.
#[derive(Debug)]
pub struct Source {
    /// Where the vendor publishes it.
    pub url: &'static str,
}

/// One retirement: every id that stops answering on one day.
#[derive(Debug)]
pub struct Entry {
    /// Whose schedule.
    pub platform: Platform,
    /// Snapshot ids and aliases, as the vendor writes them.
    pub ids: &'static [&'static str],
    /// When the vendor announced it, if the page says.
    pub deprecated: Option<&'static str>,
    /// The day requests start failing (`YYYY-MM-DD`).
    pub retires: &'static str,
    /// The replacement the vendor names, if it names one.
    pub successor: Option<&'static str>,
    /// Where the date comes from.
    pub source: &'static Source,
}

/// The table's verdict on one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Whose schedule.
    pub platform: Platform,
    /// The model as the suite names it.
    pub model: String,
    /// Retirement day (`YYYY-MM-DD`).
    pub retires: &'static str,
    /// Days from today to the retirement (0 or less: retired).
    pub days_left: i64,
    /// The vendor's named successor.
    pub successor: Option<&'static str>,
    /// Where the date comes from.
    pub source: &'static str,
}

impl Notice {
    /// Whether the day has come.
    pub fn retired(&self) -> bool {
        self.days_left <= 0
    }

    /// `OpenAI retires gpt-4o-mini on 2027-01-14 (in 38 days); successor: gpt-6-luna`.
    pub fn message(&self) -> String {
        let when = if self.retired() {
            format!(
                "{} retired `{}` on {}; requests to it fail",
                self.platform.name(),
                self.model,
                self.retires
            )
        } else {
            let days = if self.days_left == 1 {
                "1 day".to_string()
            } else {
                format!("{} days", self.days_left)
            };
            format!(
                "{} retires `{}` on {} (in {days})",
                self.platform.name(),
                self.model,
                self.retires
            )
        };
        match self.successor {
            Some(s) => format!("{when}; successor: `{s}`"),
            None => format!("{when}; the vendor names no successor"),
        }
    }
}

/// Which table a provider kind reads; `None` for kinds whose models no vendor retires.
pub fn platform_of(kind: &str) -> Option<Platform> {
    Some(match kind {
        "openai" => Platform::OpenAi,
        "azure" => Platform::Azure,
        "anthropic" => Platform::Anthropic,
        "bedrock" => Platform::Bedrock,
        "gemini" => Platform::Gemini,
        "vertex" => Platform::Vertex,
        _ => return None,
    })
}

/// Bedrock's cross-region inference profile prefixes (`us.anthropic.claude-…`).
const BEDROCK_GEO: &[&str] = &["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"];

/// The model id as the table writes it: lowercase, without a Bedrock inference-profile
/// prefix or Gemini's `models/`.
fn normalize(platform: Platform, model: &str) -> String {
    let m = model.trim().to_ascii_lowercase();
    match platform {
        Platform::Bedrock => match m.split_once('.') {
            Some((geo, rest)) if BEDROCK_GEO.contains(&geo) => rest.to_string(),
            _ => m,
        },
        Platform::Gemini | Platform::Vertex => m
            .strip_prefix("models/")
            .map_or_else(|| m.clone(), str::to_string),
        _ => m,
    }
}

/// The table row naming this model on this platform.
pub fn lookup(platform: Platform, model: &str) -> Option<&'static Entry> {
    let m = normalize(platform, model);
    table::TABLE
        .iter()
        .find(|e| e.platform == platform && e.ids.contains(&m.as_str()))
}

/// A provider's model on `today` (days since 1970-01-01): a notice when it is retired or
/// retires within [`WINDOW_DAYS`].
pub fn check(kind: &str, model: &str, today: i64) -> Option<Notice> {
    let platform = platform_of(kind)?;
    let entry = lookup(platform, model)?;
    let day = parse_day(entry.retires).expect("the table's dates are valid");
    let days_left = day - today;
    (days_left <= WINDOW_DAYS).then(|| Notice {
        platform,
        model: model.to_string(),
        retires: entry.retires,
        days_left,
        successor: entry.successor,
        source: entry.source.url,
    })
}

/// `YYYY-MM-DD` → days since 1970-01-01, or `None` when it is not a real date.
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[usize::try_from(m - 1).ok()?] {
        return None;
    }
    Some(crate::credentials::days_from_civil(y, m, d))
}

/// The environment variable that sets the day lifecycle checks count from.
pub const TODAY_VAR: &str = crate::env::PROMPTDRIFT_TODAY;

/// The day to count from: `PROMPTDRIFT_TODAY` when set (an error when it is not a date),
/// else today's UTC date from the clock.
pub fn today(env: &dyn Fn(&str) -> Option<String>) -> Result<i64, String> {
    match env(TODAY_VAR) {
        Some(v) if !v.trim().is_empty() => parse_day(v.trim()).ok_or_else(|| {
            format!("{TODAY_VAR} is `{v}`, which is not a date; write it as YYYY-MM-DD")
        }),
        _ => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Ok(i64::try_from(secs / 86_400).unwrap_or(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i64 {
        parse_day(s).unwrap()
    }

    #[test]
    fn every_row_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for e in table::TABLE {
            assert!(parse_day(e.retires).is_some(), "{:?}", e.ids);
            if let Some(d) = e.deprecated {
                assert!(day(d) <= day(e.retires), "{:?}", e.ids);
            }
            assert!(e.source.url.starts_with("https://"));
            for id in e.ids {
                assert_eq!(*id, id.to_ascii_lowercase(), "ids are lowercase");
                assert!(
                    seen.insert((e.platform, *id)),
                    "{id} is listed twice for {:?}",
                    e.platform
                );
            }
            if let Some(s) = e.successor {
                // A named successor is not itself retired on this platform.
                assert!(
                    lookup(e.platform, s).is_none_or(|n| day(n.retires) > day(e.retires)),
                    "{s} retires no later than the model it replaces"
                );
            }
        }
        assert!(parse_day(TABLE_DATE).is_some());
    }

    #[test]
    fn retired_and_soon_retiring_models_have_notices() {
        let today = day("2026-12-07");
        let n = check("anthropic", "claude-3-5-haiku-latest", today).unwrap();
        assert!(n.retired());
        assert_eq!(
            n.message(),
            "Anthropic retired `claude-3-5-haiku-latest` on 2026-02-19; requests to it fail; successor: `claude-haiku-4-5`"
        );
        let n = check("openai", "gpt-4o-mini", today).unwrap();
        assert!(!n.retired());
        assert_eq!(n.days_left, 38);
        assert_eq!(
            n.message(),
            "OpenAI retires `gpt-4o-mini` on 2027-01-14 (in 38 days); successor: `gpt-6-luna`"
        );
        // The retirement day itself counts as retired; the 90th day before it warns, the 91st
        // does not.
        assert!(
            check("openai", "gpt-4o", day("2027-01-14"))
                .unwrap()
                .retired()
        );
        assert!(check("openai", "gpt-4o", day("2026-10-16")).is_some());
        assert!(check("openai", "gpt-4o", day("2026-10-15")).is_none());
        // Current models, unknown models and self-hosted kinds: nothing.
        for (kind, model) in [
            ("openai", "gpt-6-luna"),
            ("anthropic", "claude-haiku-4-5"),
            ("gemini", "gemini-3.5-flash"),
            ("bedrock", "anthropic.claude-haiku-4-5-20251001-v1:0"),
            ("openai", "my-fine-tune"),
            ("ollama", "gpt-4o-mini"),
            ("openai-compatible", "gpt-4o-mini"),
        ] {
            assert_eq!(check(kind, model, today), None, "{kind}:{model}");
        }
    }

    #[test]
    fn each_platform_reads_its_own_dates() {
        let today = day("2026-12-07");
        // Azure retired gpt-4o on 2026-10-01; OpenAI retires it on 2027-01-14.
        let azure = check("azure", "gpt-4o", today).unwrap();
        assert!(azure.retired());
        assert_eq!(
            (azure.retires, azure.successor),
            ("2026-10-01", Some("gpt-5.1"))
        );
        let openai = check("openai", "gpt-4o", today).unwrap();
        assert_eq!(openai.retires, "2027-01-14");
        // Vertex retired gemini-2.5-flash; the Gemini API announced no date.
        assert!(
            check("vertex", "gemini-2.5-flash", today)
                .unwrap()
                .retired()
        );
        assert_eq!(check("gemini", "gemini-2.5-flash", today), None);
        // Bedrock's own date, with or without an inference-profile prefix; case does not
        // matter.
        for id in [
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "EU.Anthropic.Claude-3-7-Sonnet-20250219-v1:0",
        ] {
            assert_eq!(check("bedrock", id, today).unwrap().retires, "2026-04-28");
        }
        assert_eq!(
            check("gemini", "models/gemini-2.0-flash", today)
                .unwrap()
                .retires,
            "2026-06-01"
        );
    }

    #[test]
    fn days_parse_strictly() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2026-12-07"), Some(20_794));
        assert_eq!(parse_day("2028-02-29"), Some(day("2028-02-28") + 1));
        for bad in [
            "2027-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "20261207",
            "2026-12-07T00:00:00Z",
            "+026-12-07",
            "",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
        let env = |v: &'static str| move |k: &str| (k == TODAY_VAR).then(|| v.to_string());
        assert_eq!(today(&env("2026-12-07")), Ok(20_794));
        assert!(
            today(&env("next tuesday"))
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        assert!(today(&|_: &str| None).unwrap() > 20_000);
    }
}
