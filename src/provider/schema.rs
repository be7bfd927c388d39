//! The suite JSON Schema that `promptdrift schema` prints (committed as
//! `docs/suite.schema.json`): the shape of the suite types (`suite::raw::types_schema`) plus
//! what only the provider registry knows, so an editor flags `opnai:gpt-4o-mini`, a misspelt
//! `base_ulr` or `anthropic` with no model as they are typed, as `promptdrift validate` does.
//!
//! What is added, from the registry's tables ([`chat_kind_table`], [`embedder_kind_table`]),
//! with draft-07 constructs that yaml-language-server evaluates (`pattern`, `if`/`then`,
//! `additionalProperties`):
//!
//! - `$defs/ProviderId` and `$defs/EmbedderId`: one pattern of the known kinds, `kind:model`
//!   where the kind needs a model, `kind` or `kind:name` where it does not, no whitespace;
//!   promptfoo's vendor names (`google:`, `azureopenai:`) count as the kind they are read as
//!   ([`super::ids`]).
//! - `$defs/Provider` and `$defs/Embedder` (a provider written as a mapping): one `if`/`then`
//!   per kind closing `config` to the common keys and that kind's own `CONFIG_KEYS`, the same
//!   constants the providers check with `registry::check_other_keys`.
//! - `embedder:` takes `$defs/EmbedderItem` (the embeddings kinds and their keys).

use schemars::Schema;
use serde_json::{Map, Value, json};

use super::ids::VENDORS;
use super::registry::{KindInfo, ModelPart, chat_kind_table, embedder_kind_table};

/// The suite JSON Schema: the suite types' shape with provider ids and each kind's config keys.
pub fn suite_schema() -> Schema {
    let mut root = Value::from(crate::suite::raw::types_schema());
    add_provider_tables(&mut root);
    Schema::try_from(root).expect("the schema stays a JSON object")
}

/// [`suite_schema`] as pretty JSON with a trailing newline: what `promptdrift schema` prints and
/// `docs/suite.schema.json` holds.
pub fn suite_schema_json() -> String {
    let mut text =
        serde_json::to_string_pretty(&suite_schema()).expect("a schema is always valid JSON");
    text.push('\n');
    text
}

/// Which table a provider entry is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// `providers:` and `grader:`.
    Chat,
    /// `embedder:`.
    Embedder,
}

impl Role {
    fn kinds(self) -> &'static [KindInfo] {
        match self {
            Role::Chat => chat_kind_table(),
            Role::Embedder => embedder_kind_table(),
        }
    }

    /// Every id prefix with its kind: each kind by its own name, then promptfoo's vendor names
    /// read as a kind of this role (`google` as `gemini`).
    fn prefixes(self) -> Vec<(&'static str, &'static KindInfo)> {
        let kinds = self.kinds();
        let mut out: Vec<(&'static str, &'static KindInfo)> =
            kinds.iter().map(|k| (k.kind, k)).collect();
        for &(vendor, kind) in VENDORS {
            if let Some(k) = kinds.iter().find(|k| k.kind == kind)
                && !out.iter().any(|(name, _)| *name == vendor)
            {
                out.push((vendor, k));
            }
        }
        out
    }

    /// Names of the `$defs` entries: (id, mapping, item).
    fn defs(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Role::Chat => ("ProviderId", "Provider", "ProviderItem"),
            Role::Embedder => ("EmbedderId", "Embedder", "EmbedderItem"),
        }
    }
}

fn add_provider_tables(root: &mut Value) {
    let defs = root["$defs"]
        .as_object_mut()
        .expect("the types schema has $defs");
    let common: Vec<String> = defs["ProviderConfig"]["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let provider = defs["Provider"].clone();
    let item = defs["ProviderItem"].clone();
    for role in [Role::Chat, Role::Embedder] {
        let (id, mapping, item_name) = role.defs();
        defs.insert(id.into(), id_schema(role));
        defs.insert(mapping.into(), mapping_schema(&provider, role, &common));
        defs.insert(item_name.into(), item_schema(&item, role));
    }
    let embedder = &mut root["properties"]["embedder"];
    *embedder = retarget(embedder, "ProviderItem", "EmbedderItem");
}

/// The pattern every id of `role` matches: `^(?:(?:openai|…):\S+|(?:http|…)(?::\S*)?)$`.
fn id_pattern(role: Role) -> String {
    let names = |part: ModelPart| {
        role.prefixes()
            .into_iter()
            .filter(|(_, k)| k.model == part)
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
            .join("|")
    };
    let mut forms = vec![format!("(?:{}):\\S+", names(ModelPart::Required))];
    let optional = names(ModelPart::Optional);
    if !optional.is_empty() {
        forms.push(format!("(?:{optional})(?::\\S*)?"));
    }
    format!("^(?:{})$", forms.join("|"))
}

fn id_schema(role: Role) -> Value {
    let kinds: Vec<String> = role
        .kinds()
        .iter()
        .map(|k| format!("- `{}`: {}", k.kind, k.summary))
        .collect();
    let (what, examples) = match role {
        Role::Chat => (
            "A provider id: `kind:model` (no spaces), the kind one of:",
            json!([
                "openai:gpt-5.4-mini",
                "anthropic:claude-haiku-4-5",
                "gemini:gemini-3.5-flash",
                "bedrock:anthropic.claude-haiku-4-5-20251001-v1:0",
                "azure:my-deployment",
                "ollama:llama3.2",
                "replay"
            ]),
        ),
        Role::Embedder => (
            "An embeddings provider id: `kind:model` (no spaces), the kind one of:",
            json!([
                "openai:text-embedding-3-small",
                "gemini:gemini-embedding-001",
                "ollama:nomic-embed-text",
                "replay"
            ]),
        ),
    };
    let known: Vec<&str> = role.kinds().iter().map(|k| k.kind).collect();
    json!({
        "description": format!("{what}\n\n{}", kinds.join("\n\n")),
        "type": "string",
        "pattern": id_pattern(role),
        "patternErrorMessage": format!(
            "not a known provider id: write `kind:model` with no spaces, the kind one of {}",
            known.join(", ")
        ),
        "examples": examples,
    })
}

/// A provider mapping of `role`: its `id` an id of the role, its `config` closed to the common
/// keys and the kind's own, one `if`/`then` per kind.
fn mapping_schema(provider: &Value, role: Role, common: &[String]) -> Value {
    let (id, _, _) = role.defs();
    let mut schema = provider.clone();
    let description = schema["properties"]["id"]["description"].clone();
    schema["properties"]["id"] =
        json!({ "description": description, "$ref": format!("#/$defs/{id}") });
    if role == Role::Embedder {
        schema["description"] = json!("An embeddings provider written as a mapping.");
    }
    let per_kind: Vec<Value> = role
        .prefixes()
        .into_iter()
        .map(|(prefix, k)| kind_rule(prefix, k, role, common))
        .collect();
    schema["allOf"] = Value::Array(per_kind);
    schema
}

/// `if` the id starts with `name` (of kind `k`), `then` its `config` holds only the common keys
/// and `k`'s.
fn kind_rule(name: &str, k: &KindInfo, role: Role, common: &[String]) -> Value {
    let prefix = match k.model {
        ModelPart::Required => format!("^{name}:"),
        ModelPart::Optional => format!("^{name}(?::|$)"),
    };
    let mut keys: Vec<&str> = k.config_keys.to_vec();
    // A chat `replay` entry may carry the recorded provider's keys (they shape its request
    // path), which that provider checks (registry's `build_replay`); an embeddings replay
    // may not.
    if role == Role::Chat && k.kind == "replay" {
        for key in chat_kind_table().iter().flat_map(|o| o.config_keys) {
            if !keys.contains(key) {
                keys.push(key);
            }
        }
    }
    let mut properties = Map::new();
    for key in common {
        properties.insert(key.clone(), json!({}));
    }
    for key in keys {
        properties.entry(key.to_string()).or_insert_with(
            || json!({ "description": format!("A setting of `{}` (docs/providers.md).", k.kind) }),
        );
    }
    json!({
        "if": { "properties": { "id": { "pattern": prefix } }, "required": ["id"] },
        "then": {
            "properties": {
                "config": { "properties": properties, "additionalProperties": false }
            }
        }
    })
}

/// The "id or mapping" item of `role`.
fn item_schema(item: &Value, role: Role) -> Value {
    let (id, mapping, _) = role.defs();
    let mut schema = item.clone();
    if let Some(Value::Array(branches)) = schema.get_mut("anyOf") {
        for b in branches.iter_mut() {
            if b.get("type") == Some(&json!("string")) {
                let description = b["description"].clone();
                *b = json!({ "description": description, "$ref": format!("#/$defs/{id}") });
            } else {
                *b = retarget(b, "Provider", mapping);
            }
        }
    }
    if role == Role::Embedder {
        schema["description"] =
            json!("An embeddings provider id (`openai:text-embedding-3-small`) or a mapping.");
    }
    schema
}

/// `value` with every `$ref` to `#/$defs/{from}` pointing at `#/$defs/{to}` instead.
fn retarget(value: &Value, from: &str, to: &str) -> Value {
    let old = format!("#/$defs/{from}");
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if k == "$ref" && v.as_str() == Some(old.as_str()) {
                        json!(format!("#/$defs/{to}"))
                    } else {
                        retarget(v, from, to)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| retarget(v, from, to)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator() -> jsonschema::Validator {
        let schema = Value::from(suite_schema());
        jsonschema::validator_for(&schema).expect("a valid JSON Schema")
    }

    fn suite(providers: Value) -> Value {
        json!({ "providers": providers, "prompts": ["{{ q }}"], "cases": [{ "vars": { "q": "hi" } }] })
    }

    #[test]
    fn id_patterns() {
        let chat = regex::Regex::new(&id_pattern(Role::Chat)).unwrap();
        for ok in [
            "openai:gpt-4o-mini",
            "openai:chat:gpt-4o-mini",
            "anthropic:messages:claude-3-5-haiku-latest",
            "google:gemini-2.0-flash",
            "azureopenai:chat:my-deployment",
            "openai-compatible:llama3",
            "bedrock:us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "http",
            "http:gateway",
            "exec:cat",
            "replay",
        ] {
            assert!(chat.is_match(ok), "{ok}");
        }
        for bad in [
            "opnai:gpt-4o-mini",
            " openai:gpt-4o-mini",
            "openai:gpt 4o",
            "openai",
            "openai:",
            "anthropic",
            "",
            "http gateway",
            "google",
        ] {
            assert!(!chat.is_match(bad), "{bad:?}");
        }
        let embed = regex::Regex::new(&id_pattern(Role::Embedder)).unwrap();
        assert!(embed.is_match("openai:text-embedding-3-small"));
        assert!(embed.is_match("google:text-embedding-004"));
        assert!(
            !embed.is_match("azureopenai:embedding:x"),
            "azure serves no embeddings"
        );
        assert!(!embed.is_match("anthropic:claude-3-5-haiku-latest"));
    }

    #[test]
    fn config_keys_are_closed_per_kind() {
        let v = validator();
        let with = |id: &str, config: Value| suite(json!([{ "id": id, "config": config }]));
        assert!(v.is_valid(&with(
            "openai:gpt-4o-mini",
            json!({ "organization": "o", "temperature": 0 })
        )));
        assert!(!v.is_valid(&with("openai:gpt-4o-mini", json!({ "base_ulr": "x" }))));
        assert!(!v.is_valid(&with(
            "openai:gpt-4o-mini",
            json!({ "region": "us-east-1" })
        )));
        assert!(v.is_valid(&with("bedrock:m", json!({ "region": "us-east-1" }))));
        // promptfoo's vendor names take their kind's keys.
        assert!(v.is_valid(&with(
            "google:gemini-2.0-flash",
            json!({ "safety_settings": [] })
        )));
        assert!(!v.is_valid(&with("google:gemini-2.0-flash", json!({ "region": "x" }))));
        assert!(v.is_valid(&with(
            "replay",
            json!({ "cassette": "c.yaml", "project": "p" })
        )));
        assert!(!v.is_valid(&with("replay", json!({ "casette": "c.yaml" }))));
        assert!(v.is_valid(&with("http:gw", json!({ "url": "http://x", "body": {} }))));
        // Embedders have their own table.
        let mut s = suite(json!(["openai:gpt-4o-mini"]));
        s["embedder"] = json!({ "id": "ollama:nomic-embed-text", "config": { "truncate": true } });
        assert!(v.is_valid(&s));
        s["embedder"] = json!({ "id": "ollama:nomic-embed-text", "config": { "options": {} } });
        assert!(!v.is_valid(&s));
        s["embedder"] = json!("anthropic:claude-3-5-haiku-latest");
        assert!(!v.is_valid(&s));
        // A grader is a chat provider.
        s["embedder"] = Value::Null;
        s["grader"] = json!({ "id": "anthropic:claude-3-5-haiku-latest", "config": { "anthropic_beta": "x" } });
        assert!(v.is_valid(&s));
    }

    #[test]
    fn integers_are_bounded_by_their_rust_type() {
        let v = validator();
        let with = |config: Value| suite(json!([{ "id": "openai:gpt-4o-mini", "config": config }]));
        assert!(v.is_valid(&with(json!({ "max_tokens": 4_294_967_295_u64 }))));
        assert!(!v.is_valid(&with(json!({ "max_tokens": 4_294_967_296_u64 }))));
        assert!(!v.is_valid(&with(json!({ "max_tokens": -1 }))));
        assert!(v.is_valid(&with(json!({ "seed": i64::MIN }))));
    }
}
