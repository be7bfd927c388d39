//! The dated table of model retirements: what each vendor published, as read on the dates
//! given with each source. One row per retirement; `ids` are every id (snapshot and alias)
//! that stops answering on `retires`. A row is a vendor's own published date, never a guess:
//! "not sooner than" floors, "or later" dates and unannounced models are left out (so a model
//! missing here is *unknown*, not *safe*). Dates are the day requests start failing.
//!
//! Updating: add rows from the vendors' pages below, move [`TABLE_DATE`] to the day you read
//! them, and keep the source comment next to each block.

use super::{Entry, Platform, Source};

/// The day this table was last brought up to date with the sources below.
pub const TABLE_DATE: &str = "2026-12-07";

// ---- Sources ------------------------------------------------------------------------------

/// OpenAI API deprecations page, as read on the dates noted per block.
const OPENAI: Source = Source {
    url: "https://developers.openai.com/api/docs/deprecations",
};
/// Anthropic model deprecations (Claude API dates; Bedrock and Vertex set their own).
const ANTHROPIC: Source = Source {
    url: "https://platform.claude.com/docs/en/about-claude/model-deprecations",
};
/// Gemini API deprecations table ("the earliest possible dates on which a model might be
/// retired").
const GEMINI_API: Source = Source {
    url: "https://ai.google.dev/gemini-api/docs/deprecations",
};
/// Vertex AI model versions and lifecycle ("retirement timelines may be extended, they won't
/// be moved to an earlier date than what is listed").
const VERTEX: Source = Source {
    url: "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions",
};
/// Microsoft Foundry model retirement schedule, Azure OpenAI section.
const AZURE: Source = Source {
    url: "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule",
};
/// Amazon Bedrock model lifecycle (legacy policy: models launched before 2026-09-07).
const BEDROCK: Source = Source {
    url: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html",
};

const fn row(
    platform: Platform,
    ids: &'static [&'static str],
    deprecated: Option<&'static str>,
    retires: &'static str,
    successor: Option<&'static str>,
    source: &'static Source,
) -> Entry {
    Entry {
        platform,
        ids,
        deprecated,
        retires,
        successor,
        source,
    }
}

use Platform::{Anthropic, Azure, Bedrock, Gemini, OpenAi, Vertex};

/// Every known retirement.
pub static TABLE: &[Entry] = &[
    // ---- OpenAI (platform API) -----------------------------------------------------------
    // Source: OPENAI. Read through copies of the page: samarthputhraya/Modelpin
    // data/models.json (page fetched 2026-09-17 and 2026-10-04, rows quoted per id), the page
    // as of 2026-10-15 quoted in full by dev.to/importstatic ("Every OpenAI model shutdown
    // date until January 2027"), and w3cschool.cn/openai_api's copy (which has the
    // 2026-11-05 section). A later revision of the page names gpt-6.1-sol / gpt-6.1-terra as
    // replacements for the GPT-5 rows; the successors below are the ones each notice named.
    //
    // "2025-09-26: Legacy GPT model snapshots", shutdown 2026-09-28.
    row(
        OpenAi,
        &[
            "gpt-3.5-turbo-instruct",
            "gpt-3.5-turbo-1106",
            "babbage-002",
            "davinci-002",
        ],
        Some("2025-09-26"),
        "2026-09-28",
        Some("gpt-5.6-terra"),
        &OPENAI,
    ),
    // "2025-04-28" notice, shutdown 2025-10-27 (no replacement carried).
    row(
        OpenAi,
        &["o1-mini", "o1-mini-2024-09-12"],
        Some("2025-04-28"),
        "2025-10-27",
        None,
        &OPENAI,
    ),
    // "2025-11-18" notice, shutdown 2026-02-17.
    row(
        OpenAi,
        &["chatgpt-4o-latest"],
        Some("2025-11-18"),
        "2026-02-17",
        None,
        &OPENAI,
    ),
    // Chat-latest variants: notices 2026-04-22 (shutdown 2026-07-23) and 2026-05-08
    // (shutdown 2026-08-10).
    row(
        OpenAi,
        &["gpt-5-chat-latest", "gpt-5.1-chat-latest"],
        Some("2026-04-22"),
        "2026-07-23",
        None,
        &OPENAI,
    ),
    row(
        OpenAi,
        &["gpt-5.2-chat-latest", "gpt-5.3-chat-latest"],
        Some("2026-05-08"),
        "2026-08-10",
        None,
        &OPENAI,
    ),
    // "2026-04-22: Legacy GPT model snapshots", shutdown 2026-10-23.
    row(
        OpenAi,
        &["gpt-3.5-turbo", "gpt-3.5-turbo-0125"],
        Some("2026-04-22"),
        "2026-10-23",
        Some("gpt-5.6-terra"),
        &OPENAI,
    ),
    row(
        OpenAi,
        &[
            "gpt-4",
            "gpt-4-0613",
            "gpt-4-1106-preview",
            "gpt-4-turbo",
            "gpt-4-turbo-2024-04-09",
            "gpt-4o-2024-05-13",
            "o1",
            "o1-2024-12-17",
            "o1-pro",
            "o1-pro-2025-03-19",
            "o3-mini",
            "o3-mini-2025-01-31",
        ],
        Some("2026-04-22"),
        "2026-10-23",
        Some("gpt-5.6-sol"),
        &OPENAI,
    ),
    row(
        OpenAi,
        &["o4-mini", "o4-mini-2025-04-16"],
        Some("2026-04-22"),
        "2026-10-23",
        Some("gpt-5.6-terra"),
        &OPENAI,
    ),
    row(
        OpenAi,
        &["gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"],
        Some("2026-04-22"),
        "2026-10-23",
        Some("gpt-5.6-luna"),
        &OPENAI,
    ),
    // "2026-09-11: GPT-5.4-Cyber", shutdown 2026-10-01 (the 2026-10-04 page names no
    // replacement).
    row(
        OpenAi,
        &["gpt-5.4-cyber"],
        Some("2026-09-11"),
        "2026-10-01",
        None,
        &OPENAI,
    ),
    // "2026-06-11: GPT-5 and o3 model deprecations", shutdown 2026-12-11.
    row(
        OpenAi,
        &[
            "gpt-5",
            "gpt-5-2025-08-07",
            "gpt-5-pro",
            "gpt-5-pro-2025-10-06",
            "o3",
            "o3-2025-04-16",
            "o3-pro",
            "o3-pro-2025-06-10",
        ],
        Some("2026-06-11"),
        "2026-12-11",
        Some("gpt-5.6-sol"),
        &OPENAI,
    ),
    row(
        OpenAi,
        &["gpt-5-mini", "gpt-5-mini-2025-08-07"],
        Some("2026-06-11"),
        "2026-12-11",
        Some("gpt-5.6-terra"),
        &OPENAI,
    ),
    row(
        OpenAi,
        &["gpt-5-nano", "gpt-5-nano-2025-08-07"],
        Some("2026-06-11"),
        "2026-12-11",
        Some("gpt-5.6-luna"),
        &OPENAI,
    ),
    // "2026-10-14: GPT-4 series model deprecations", shutdown 2027-01-14, every row
    // "gpt-6-luna" (the aliases resolve to these snapshots and go with them).
    row(
        OpenAi,
        &[
            "gpt-4o",
            "gpt-4o-2024-08-06",
            "gpt-4o-2024-11-20",
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
            "gpt-4.1",
            "gpt-4.1-2025-04-14",
            "gpt-4.1-mini",
            "gpt-4.1-mini-2025-04-14",
        ],
        Some("2026-10-14"),
        "2027-01-14",
        Some("gpt-6-luna"),
        &OPENAI,
    ),
    // "2026-10-01: GPT-5.3-Codex, GPT-5.1, GPT-5.4-Nano", shutdown 2027-04-01.
    row(
        OpenAi,
        &["gpt-5.1", "gpt-5.1-2025-11-13"],
        Some("2026-10-01"),
        "2027-04-01",
        Some("gpt-6-sol"),
        &OPENAI,
    ),
    row(
        OpenAi,
        &["gpt-5.4-nano", "gpt-5.4-nano-2026-03-17"],
        Some("2026-10-01"),
        "2027-04-01",
        Some("gpt-6-luna"),
        &OPENAI,
    ),
    // ---- Anthropic (Claude API) ----------------------------------------------------------
    // Source: ANTHROPIC, read 2026-09-17 through samarthputhraya/Modelpin data/models.json
    // and the mirror swhsiang/claude-code-markdown about-claude/model-deprecations.md; the
    // Opus 4.5 notice (2026-11-23) through Modelpin 0.5.7's CHANGELOG (2026-11-26). Haiku 3's
    // day: the page and most reports say April 19, 2026 (release notes logged it April 20);
    // the earlier day is carried.
    row(
        Anthropic,
        &["claude-2.0", "claude-2.1", "claude-3-sonnet-20240229"],
        None,
        "2025-07-21",
        None,
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &[
            "claude-3-5-sonnet-20240620",
            "claude-3-5-sonnet-20241022",
            "claude-3-5-sonnet-latest",
        ],
        None,
        "2025-10-28",
        Some("claude-sonnet-4-5-20250929"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-3-opus-20240229", "claude-3-opus-latest"],
        Some("2025-06-30"),
        "2026-01-05",
        Some("claude-opus-4-5-20251101"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"],
        Some("2025-12-19"),
        "2026-02-19",
        Some("claude-haiku-4-5"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-3-7-sonnet-20250219", "claude-3-7-sonnet-latest"],
        Some("2025-10-28"),
        "2026-02-19",
        Some("claude-sonnet-4-5-20250929"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-3-haiku-20240307"],
        None,
        "2026-04-19",
        Some("claude-haiku-4-5"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-sonnet-4-20250514", "claude-sonnet-4-0"],
        Some("2026-04-14"),
        "2026-06-15",
        Some("claude-sonnet-4-6"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-opus-4-20250514", "claude-opus-4-0"],
        Some("2026-04-14"),
        "2026-06-15",
        Some("claude-opus-4-8"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-opus-4-1-20250805", "claude-opus-4-1"],
        Some("2026-06-05"),
        "2026-08-05",
        Some("claude-opus-4-8"),
        &ANTHROPIC,
    ),
    row(
        Anthropic,
        &["claude-opus-4-5-20251101", "claude-opus-4-5"],
        Some("2026-11-23"),
        "2027-01-22",
        Some("claude-opus-5-5"),
        &ANTHROPIC,
    ),
    // ---- Gemini API ----------------------------------------------------------------------
    // Source: GEMINI_API, read 2026-09-17/18 through Modelpin data/models.json. The page
    // announces no shutdown for gemini-2.5-pro/-flash/-flash-lite (Vertex does, below).
    row(
        Gemini,
        &["gemini-2.0-flash", "gemini-2.0-flash-001"],
        None,
        "2026-06-01",
        Some("gemini-3.6-flash"),
        &GEMINI_API,
    ),
    row(
        Gemini,
        &["gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001"],
        None,
        "2026-06-01",
        Some("gemini-3.1-flash-lite"),
        &GEMINI_API,
    ),
    row(
        Gemini,
        &["gemini-omni-flash-preview"],
        None,
        "2026-09-30",
        Some("gemini-omni-1.1-flash"),
        &GEMINI_API,
    ),
    row(
        Gemini,
        &["gemini-3.1-flash-lite"],
        None,
        "2027-05-07",
        Some("gemini-3.5-flash-lite"),
        &GEMINI_API,
    ),
    // ---- Vertex AI (Gemini models) -------------------------------------------------------
    // Source: VERTEX lifecycle table, read 2026-09-17 through Modelpin data/models.json
    // (a Vertex release note of 2026-04-02 said 2026-10-16 for the 2.5 models; the table's
    // 2026-10-20 is carried). "or later" dates (gemini-3.1-flash-lite, 3.5-flash) are floors
    // and left out.
    row(
        Vertex,
        &["gemini-2.0-flash", "gemini-2.0-flash-001"],
        None,
        "2026-06-01",
        Some("gemini-3.1-flash-lite"),
        &VERTEX,
    ),
    row(
        Vertex,
        &["gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001"],
        None,
        "2026-06-01",
        Some("gemini-3.1-flash-lite"),
        &VERTEX,
    ),
    row(
        Vertex,
        &["gemini-2.5-pro"],
        None,
        "2026-10-20",
        Some("gemini-3.5-flash"),
        &VERTEX,
    ),
    row(
        Vertex,
        &["gemini-2.5-flash"],
        None,
        "2026-10-20",
        Some("gemini-3.5-flash-lite"),
        &VERTEX,
    ),
    row(
        Vertex,
        &["gemini-2.5-flash-lite"],
        None,
        "2026-10-20",
        Some("gemini-3.1-flash-lite"),
        &VERTEX,
    ),
    // ---- Azure OpenAI --------------------------------------------------------------------
    // Source: AZURE, read from the page's source, MicrosoftDocs/azure-ai-docs
    // articles/foundry/openai/includes/concepts-model-retirement-schedule-content.md
    // (ms.date 2026-07-07, commit 00bb554). Azure sets a retirement date on every version at
    // launch; rows are text models, keyed by model name (every listed version of a name
    // shares the date, except gpt-4o 2024-08-06-ev3, retired 2026-03-31). Replacements are
    // the table's ("—" = none named). gpt-4.1 versions: PR MicrosoftDocs/azure-ai-docs#824
    // moved gpt-4.1-nano to 2026-10-14, as the table shows.
    row(
        Azure,
        &["gpt-5-chat", "gpt-5.1-chat", "gpt-5.2-chat", "gpt-5.3-chat"],
        None,
        "2026-06-29",
        Some("gpt-chat-latest"),
        &AZURE,
    ),
    row(Azure, &["o1"], None, "2026-09-16", None, &AZURE),
    row(Azure, &["o1-pro"], None, "2026-09-18", None, &AZURE),
    row(
        Azure,
        &["gpt-4o"],
        None,
        "2026-10-01",
        Some("gpt-5.1"),
        &AZURE,
    ),
    row(
        Azure,
        &["gpt-4o-mini"],
        None,
        "2026-10-01",
        Some("gpt-4.1-mini"),
        &AZURE,
    ),
    row(
        Azure,
        &["o3-mini"],
        None,
        "2026-10-01",
        Some("o4-mini"),
        &AZURE,
    ),
    row(
        Azure,
        &["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"],
        None,
        "2026-10-14",
        None,
        &AZURE,
    ),
    row(Azure, &["o3", "o4-mini"], None, "2026-10-16", None, &AZURE),
    row(
        Azure,
        &["gpt-chat-latest"],
        None,
        "2026-11-05",
        None,
        &AZURE,
    ),
    row(Azure, &["codex-mini"], None, "2026-11-15", None, &AZURE),
    row(
        Azure,
        &["gpt-5.1-codex-max"],
        None,
        "2026-12-05",
        None,
        &AZURE,
    ),
    row(Azure, &["o3-pro"], None, "2026-12-10", None, &AZURE),
    row(Azure, &["gpt-5.2"], None, "2026-12-12", None, &AZURE),
    row(
        Azure,
        &["o3-deep-research"],
        None,
        "2026-12-26",
        None,
        &AZURE,
    ),
    row(Azure, &["gpt-5.2-codex"], None, "2027-01-14", None, &AZURE),
    row(
        Azure,
        &["gpt-5", "gpt-5-mini", "gpt-5-nano"],
        None,
        "2027-02-06",
        None,
        &AZURE,
    ),
    row(Azure, &["gpt-5.3-codex"], None, "2027-02-25", None, &AZURE),
    row(Azure, &["gpt-5.4"], None, "2027-03-05", None, &AZURE),
    row(Azure, &["gpt-5.4-pro"], None, "2027-03-06", None, &AZURE),
    row(Azure, &["gpt-5-codex"], None, "2027-03-17", None, &AZURE),
    row(
        Azure,
        &["gpt-5.4-mini", "gpt-5.4-nano"],
        None,
        "2027-03-18",
        None,
        &AZURE,
    ),
    row(Azure, &["gpt-5-pro"], None, "2027-04-07", None, &AZURE),
    row(Azure, &["gpt-5.5"], None, "2027-04-23", None, &AZURE),
    row(
        Azure,
        &["gpt-5.1", "gpt-5.1-codex", "gpt-5.1-codex-mini"],
        None,
        "2027-05-15",
        None,
        &AZURE,
    ),
    // ---- Amazon Bedrock ------------------------------------------------------------------
    // Source: BEDROCK (its dates are Bedrock's own and differ from Anthropic's). Only rows
    // whose Bedrock date was readable here: Claude 3.5 Sonnet from the AWS release note
    // quoted by educative.io ("will lose public extended access on December 1, 2025, before
    // reaching end of life on March 1, 2026"; replacement ID from AWS's lifecycle post), and
    // Claude 3.7 Sonnet's EOL of 2026-04-28 as reported by bitslovers.com (no replacement
    // named). Other Bedrock models are not covered yet.
    row(
        Bedrock,
        &[
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
        ],
        None,
        "2026-03-01",
        Some("anthropic.claude-sonnet-4-5-20250929-v1:0"),
        &BEDROCK,
    ),
    row(
        Bedrock,
        &["anthropic.claude-3-7-sonnet-20250219-v1:0"],
        None,
        "2026-04-28",
        None,
        &BEDROCK,
    ),
];
