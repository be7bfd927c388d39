//! The price table for `cost` assertions and reports.
//!
//! List prices in USD per million tokens, as gathered on [`TABLE_DATE`] (see `docs/prices.md`
//! for every source). Prices change often: a provider's `config.input_cost_per_mtok` /
//! `config.output_cost_per_mtok` override the table, and reports print the table date.
//!
//! Only first-party APIs are priced. Resellers (AWS Bedrock, Azure OpenAI, Google Vertex AI)
//! price per region and tier, so Bedrock ids (`anthropic.claude-…-v1:0`), Vertex ids
//! (`claude-…@20241022`) and ARNs are deliberately *not* found here; see [`table_applies_to`].

use crate::provider::Usage;

/// The day the table was compiled (prices may have changed since).
pub const TABLE_DATE: &str = "2026-11-24";

/// A model's list price, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens (reasoning / thinking tokens included).
    pub output: f64,
    /// Input tokens read from the prompt cache, when the vendor prices them separately.
    pub cached_input: Option<f64>,
    /// Long-prompt tier: `(prompt tokens above which it applies, input, output)`; the whole
    /// request is then billed at these rates (Gemini Pro models).
    pub long_context: Option<(u64, f64, f64)>,
}

/// One row of the table: the canonical model names it covers, and its price.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Vendor (`openai`, `anthropic`, `google`).
    pub vendor: &'static str,
    /// Model names as the vendor's API spells them, without date or version suffixes.
    pub names: &'static [&'static str],
    /// The price.
    pub price: Price,
}

const fn p(input: f64, output: f64, cached_input: Option<f64>) -> Price {
    Price {
        input,
        output,
        cached_input,
        long_context: None,
    }
}

/// The table. Sources and dates: `docs/prices.md`.
pub const TABLE: &[Entry] = &[
    // OpenAI
    Entry {
        vendor: "openai",
        names: &["gpt-5.5"],
        price: p(5.00, 30.00, Some(0.50)),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-5.4"],
        price: p(2.50, 15.00, Some(0.25)),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-5.4-mini"],
        price: p(0.75, 4.50, Some(0.075)),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-5.4-nano"],
        price: p(0.20, 1.25, Some(0.02)),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-5"],
        price: p(1.25, 10.00, None),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-5-mini"],
        price: p(0.25, 2.00, None),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-5-nano"],
        price: p(0.05, 0.40, None),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-4.1"],
        price: p(2.00, 8.00, None),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-4.1-mini"],
        price: p(0.40, 1.60, None),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-4.1-nano"],
        price: p(0.10, 0.40, None),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-4o"],
        price: p(2.50, 10.00, Some(1.25)),
    },
    Entry {
        vendor: "openai",
        names: &["gpt-4o-mini"],
        price: p(0.15, 0.60, Some(0.075)),
    },
    Entry {
        vendor: "openai",
        names: &["text-embedding-3-small"],
        price: p(0.02, 0.0, None),
    },
    Entry {
        vendor: "openai",
        names: &["text-embedding-3-large"],
        price: p(0.13, 0.0, None),
    },
    // Anthropic
    Entry {
        vendor: "anthropic",
        names: &[
            "claude-opus-4-5",
            "claude-opus-4-6",
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-opus-5",
        ],
        price: p(5.00, 25.00, Some(0.50)),
    },
    Entry {
        vendor: "anthropic",
        names: &["claude-opus-4", "claude-opus-4-0", "claude-opus-4-1"],
        price: p(15.00, 75.00, Some(1.50)),
    },
    Entry {
        vendor: "anthropic",
        names: &[
            "claude-sonnet-4",
            "claude-sonnet-4-0",
            "claude-sonnet-4-5",
            "claude-sonnet-4-6",
            "claude-3-7-sonnet",
        ],
        price: p(3.00, 15.00, Some(0.30)),
    },
    Entry {
        vendor: "anthropic",
        names: &["claude-haiku-4-5"],
        price: p(1.00, 5.00, Some(0.10)),
    },
    Entry {
        vendor: "anthropic",
        names: &["claude-3-5-haiku"],
        price: p(0.80, 4.00, Some(0.08)),
    },
    Entry {
        vendor: "anthropic",
        names: &["claude-3-haiku"],
        price: p(0.25, 1.25, Some(0.03)),
    },
    // Google (Gemini API)
    Entry {
        vendor: "google",
        names: &["gemini-2.5-pro"],
        price: Price {
            long_context: Some((200_000, 2.50, 15.00)),
            ..p(1.25, 10.00, None)
        },
    },
    Entry {
        vendor: "google",
        names: &["gemini-2.5-flash"],
        price: p(0.30, 2.50, None),
    },
    Entry {
        vendor: "google",
        names: &["gemini-2.5-flash-lite"],
        price: p(0.10, 0.40, None),
    },
    Entry {
        vendor: "google",
        names: &["gemini-3.1-pro-preview"],
        price: Price {
            long_context: Some((200_000, 4.00, 18.00)),
            ..p(2.00, 12.00, None)
        },
    },
    Entry {
        vendor: "google",
        names: &["gemini-3.5-flash"],
        price: p(1.50, 9.00, None),
    },
    // Promotional price through 2026-12-31; 1.50 / 7.50 from 2027-01-01.
    Entry {
        vendor: "google",
        names: &["gemini-3.8-flash"],
        price: p(0.75, 3.75, None),
    },
];

/// Whether the built-in table may price a provider of this kind (the part of the provider id
/// before `:`). First-party APIs only: `openai`, `anthropic`, `gemini`/`google`. Resellers and
/// self-hosted servers (`azure`, `bedrock`, `vertex`, `openai-compatible`, `ollama`, …) need
/// `input_cost_per_mtok` / `output_cost_per_mtok`.
pub fn table_applies_to(provider_kind: &str) -> bool {
    matches!(provider_kind, "openai" | "anthropic" | "gemini" | "google")
}

/// The table row for a model name, tolerant of date and version suffixes and vendor prefixes:
/// `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`, `claude-3-5-haiku-latest` and
/// `claude-3-5-haiku-20241022` → `claude-3-5-haiku`, `models/gemini-2.5-flash-001` →
/// `gemini-2.5-flash`. Reseller ids (Bedrock, Vertex, ARNs) give `None`.
pub fn lookup(model: &str) -> Option<&'static Entry> {
    let name = canonical(model)?;
    TABLE.iter().find(|e| e.names.contains(&name.as_str()))
}

/// The name a model id is looked up by, or `None` for reseller ids.
fn canonical(model: &str) -> Option<String> {
    let mut s = model.trim().to_ascii_lowercase();
    // Bedrock (`anthropic.…-v1:0`, `us.anthropic.…`), Vertex (`…@20241022`), ARNs.
    if s.contains(':') || s.contains('@') || s.contains("anthropic.") || s.starts_with("arn") {
        return None;
    }
    for prefix in ["models/", "openai/", "anthropic/", "google/"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
        }
    }
    loop {
        let before = s.len();
        if let Some(rest) = s.strip_suffix("-latest") {
            s = rest.to_string();
        }
        s = strip_date_suffix(&s).to_string();
        if before == s.len() {
            break;
        }
    }
    Some(s)
}

/// Strips one `-YYYYMMDD`, `-YYYY-MM-DD` or `-NNN` (Gemini `-001`) suffix.
fn strip_date_suffix(s: &str) -> &str {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if let Some((head, tail)) = s.rsplit_once('-') {
        if (tail.len() == 8 || tail.len() == 3) && digits(tail) {
            return head;
        }
        // -YYYY-MM-DD
        if tail.len() == 2 && digits(tail) {
            let parts: Vec<&str> = s.rsplitn(4, '-').collect();
            if parts.len() == 4
                && parts[1].len() == 2
                && digits(parts[1])
                && parts[2].len() == 4
                && digits(parts[2])
            {
                return parts[3];
            }
        }
    }
    s
}

/// The cost of one answer in USD, or `None` when a needed price or token count is unknown.
///
/// Overrides (USD per million tokens) win over the table; with an input override, cached
/// input tokens are billed at that same rate. Otherwise cached input tokens are billed at the
/// table's cached rate when it has one, and the long-prompt tier applies when the prompt is
/// above its limit. Prompt-cache *writes* are billed as ordinary input (the table has no write
/// premium).
pub fn cost_usd(
    model: &str,
    usage: &Usage,
    input_override: Option<f64>,
    output_override: Option<f64>,
) -> Option<f64> {
    let input = usage.input?;
    let output = usage.output?;
    let table = lookup(model).map(|e| e.price);
    let tier = table.and_then(|p| p.long_context.filter(|&(limit, _, _)| input > limit));
    let in_rate = input_override
        .or_else(|| tier.map(|t| t.1))
        .or(table.map(|p| p.input))?;
    let out_rate = output_override
        .or_else(|| tier.map(|t| t.2))
        .or(table.map(|p| p.output))?;
    let cached_rate = match input_override {
        Some(r) => r,
        None if tier.is_some() => in_rate,
        None => table.and_then(|p| p.cached_input).unwrap_or(in_rate),
    };
    let cached = usage.cached_input.unwrap_or(0).min(input);
    let uncached = input - cached;
    let micro = uncached as f64 * in_rate + cached as f64 * cached_rate + output as f64 * out_rate;
    Some(micro / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cached: Option<u64>) -> Usage {
        Usage {
            input: Some(input),
            output: Some(output),
            total: Some(input + output),
            cached_input: cached,
            reasoning: None,
        }
    }

    fn name(model: &str) -> Option<&'static str> {
        lookup(model).map(|e| e.names[0])
    }

    #[test]
    fn lookup_tolerates_suffixes_and_prefixes() {
        assert_eq!(name("gpt-4o-mini"), Some("gpt-4o-mini"));
        assert_eq!(name("gpt-4o-mini-2024-07-18"), Some("gpt-4o-mini"));
        assert_eq!(name("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(name("GPT-4.1-mini-2025-04-14"), Some("gpt-4.1-mini"));
        assert_eq!(name("openai/gpt-5"), Some("gpt-5"));
        assert_eq!(name("claude-3-5-haiku-latest"), Some("claude-3-5-haiku"));
        assert_eq!(name("claude-3-5-haiku-20241022"), Some("claude-3-5-haiku"));
        assert_eq!(name("claude-haiku-4-5-20251001"), Some("claude-haiku-4-5"));
        assert_eq!(name("claude-sonnet-4-20250514"), Some("claude-sonnet-4"));
        assert_eq!(name("claude-3-7-sonnet-latest"), Some("claude-sonnet-4"));
        assert_eq!(name("claude-opus-4-1-20250805"), Some("claude-opus-4"));
        assert_eq!(
            name("models/gemini-2.5-flash-001"),
            Some("gemini-2.5-flash")
        );
        assert_eq!(name("gemini-2.5-flash-lite"), Some("gemini-2.5-flash-lite"));
    }

    #[test]
    fn lookup_does_not_confuse_families_or_price_resellers() {
        // Exact names after stripping: no prefix matching across families.
        assert_eq!(name("gpt-4o-audio-preview"), None);
        assert_eq!(name("chatgpt-4o-latest"), None);
        assert_eq!(name("gpt-4"), None);
        assert_eq!(name("claude-3-5-sonnet-20241022"), None);
        // Resellers: Bedrock, cross-region profiles, Vertex, ARNs.
        assert_eq!(name("anthropic.claude-3-5-haiku-20241022-v1:0"), None);
        assert_eq!(name("us.anthropic.claude-sonnet-4-20250514-v1:0"), None);
        assert_eq!(name("claude-3-5-haiku@20241022"), None);
        assert_eq!(name("arn:aws:bedrock:us-east-1::foundation-model/x"), None);
        assert_eq!(name("llama3"), None);
        assert!(table_applies_to("openai") && table_applies_to("anthropic"));
        assert!(
            !table_applies_to("bedrock")
                && !table_applies_to("azure")
                && !table_applies_to("openai-compatible")
        );
    }

    #[test]
    fn cost_from_table() {
        // gpt-4o-mini: 1M in at 0.15 + 1M out at 0.60.
        let c = cost_usd(
            "gpt-4o-mini",
            &usage(1_000_000, 1_000_000, None),
            None,
            None,
        )
        .unwrap();
        assert!((c - 0.75).abs() < 1e-12, "{c}");
        // Claude Haiku 3.5: 1000 in (400 cached at 0.08) + 500 out at 4.00.
        let c = cost_usd(
            "claude-3-5-haiku-latest",
            &usage(1000, 500, Some(400)),
            None,
            None,
        )
        .unwrap();
        let want = (600.0 * 0.80 + 400.0 * 0.08 + 500.0 * 4.00) / 1e6;
        assert!((c - want).abs() < 1e-15, "{c} vs {want}");
        // No cached rate known: cached tokens at the input rate.
        let c = cost_usd("gpt-5", &usage(1000, 0, Some(1000)), None, None).unwrap();
        assert!((c - 1000.0 * 1.25 / 1e6).abs() < 1e-15);
    }

    #[test]
    fn long_prompt_tier() {
        let c = cost_usd("gemini-2.5-pro", &usage(200_001, 1000, None), None, None).unwrap();
        let want = (200_001.0 * 2.50 + 1000.0 * 15.00) / 1e6;
        assert!((c - want).abs() < 1e-12, "{c} vs {want}");
        let c = cost_usd("gemini-2.5-pro", &usage(200_000, 1000, None), None, None).unwrap();
        let want = (200_000.0 * 1.25 + 1000.0 * 10.00) / 1e6;
        assert!((c - want).abs() < 1e-12);
    }

    #[test]
    fn overrides_win_and_unknowns_are_none() {
        let u = usage(2_000_000, 1_000_000, Some(1_000_000));
        let c = cost_usd("gpt-4o", &u, Some(1.0), Some(2.0)).unwrap();
        assert!((c - 4.0).abs() < 1e-12, "{c}"); // cached billed at the override rate
        assert_eq!(cost_usd("my-local-model", &u, None, None), None);
        assert_eq!(cost_usd("my-local-model", &u, Some(1.0), None), None);
        let c = cost_usd("my-local-model", &u, Some(1.0), Some(0.0)).unwrap();
        assert!((c - 2.0).abs() < 1e-12);
        // One override, the other rate from the table.
        let c = cost_usd(
            "gpt-4o-mini",
            &usage(1_000_000, 1_000_000, None),
            None,
            Some(1.0),
        )
        .unwrap();
        assert!((c - 1.15).abs() < 1e-12);
        // Unknown token counts.
        let mut u = usage(1, 1, None);
        u.output = None;
        assert_eq!(cost_usd("gpt-4o", &u, None, None), None);
    }

    #[test]
    fn every_row_is_sane() {
        for e in TABLE {
            assert!(
                e.price.input >= 0.0 && e.price.output >= 0.0,
                "{:?}",
                e.names
            );
            if let Some(c) = e.price.cached_input {
                assert!(c <= e.price.input, "{:?}", e.names);
            }
            for n in e.names {
                assert_eq!(
                    lookup(n).map(|x| x.names),
                    Some(e.names),
                    "{n} found in another row"
                );
            }
        }
    }
}
