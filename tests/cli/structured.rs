//! Structured output end to end: `response_format` (a prompt's or a provider's) reaches every
//! vendor in its own field (the mock refuses a body without the documented shape), and an
//! answer that does not validate is a failed `response-format` check naming the schema error.

use promptdrift_mock::{MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};

use crate::support::{Project, results};

fn body_of(mock: &MockServer, p: Protocol) -> Value {
    let r = mock
        .requests()
        .into_iter()
        .find(|r| r.protocol == Some(p))
        .unwrap_or_else(|| panic!("no {p:?} request"));
    assert!(r.rejection.is_none(), "{p:?} refused: {:?}", r.rejection);
    r.body_json().expect("JSON body")
}

fn all_vendors(url: &str) -> String {
    [
        format!("  - id: openai:gpt-4.1-mini\n    config: {{ base_url: \"{url}/v1\" }}\n"),
        format!("  - id: azure:my-deploy\n    config: {{ endpoint: \"{url}\", api: v1 }}\n"),
        format!("  - id: anthropic:claude-sonnet-4-5\n    config: {{ base_url: \"{url}\" }}\n"),
        format!("  - id: bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0\n    config: {{ endpoint_url: \"{url}\", region: us-east-1 }}\n"),
        format!("  - id: gemini:gemini-2.5-flash\n    config: {{ base_url: \"{url}\" }}\n"),
        format!("  - id: vertex:gemini-2.5-flash\n    config: {{ base_url: \"{url}\", project: p1 }}\n"),
        format!("  - id: ollama:llama3.2\n    config: {{ base_url: \"{url}\" }}\n"),
    ]
    .concat()
}

fn keys() -> Project {
    Project::new()
        .env("OPENAI_API_KEY", "sk-test-structured")
        .env("ANTHROPIC_API_KEY", "sk-ant-structured")
        .env("AZURE_OPENAI_API_KEY", "azure-structured")
        .env("AWS_BEARER_TOKEN_BEDROCK", "bedrock-structured")
        .env("GEMINI_API_KEY", "gemini-structured")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.structured")
}

const SCHEMA: &str = r#"{ type: object, properties: { city: { type: string }, temp_c: { type: number } }, required: [city, temp_c], additionalProperties: false }"#;

#[test]
fn every_vendor_gets_the_schema_and_answers_are_checked_against_it() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .prompt_contains("Paris")
            .reply(Reply::json_text(json!({"city": "Paris", "temp_c": 18}))),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("Oslo")
            .reply(Reply::json_text(json!({"city": "Oslo"}))),
    );
    let p = keys();
    p.file(
        "suites/weather.yaml",
        &format!(
            r#"providers:
{providers}prompts:
  - label: weather-json
    text: "Weather in {{{{ city }}}} as JSON"
    response_format:
      type: json_schema
      json_schema:
        name: weather
        strict: true
        schema: {SCHEMA}
cases:
  - id: paris
    vars: {{ city: Paris }}
  - id: oslo
    vars: {{ city: Oslo }}
"#,
            providers = all_vendors(&mock.url())
        ),
    );
    let r = p.run(&["run", "suites/weather.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p, "results.json");
    let all = doc["results"].as_array().unwrap();
    assert_eq!(all.len(), 14);
    for res in all {
        let check = &res["assertions"][0];
        assert_eq!(check["type"], "response-format", "{res}");
        assert_eq!(
            check["value"],
            json!({"type": "json_schema", "name": "weather"})
        );
        if res["case_id"] == "paris" {
            assert_eq!(res["status"], "passed", "{res}");
        } else {
            assert_eq!(res["status"], "failed", "{res}");
            let reason = check["reason"].as_str().unwrap();
            assert!(
                reason.contains("does not match `response_format` (json_schema `weather`)")
                    && reason.contains("\"temp_c\" is a required property"),
                "{reason}"
            );
        }
    }
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}, "temp_c": {"type": "number"}}, "required": ["city", "temp_c"], "additionalProperties": false});
    for proto in [Protocol::OpenAiChat, Protocol::AzureV1] {
        assert_eq!(
            body_of(&mock, proto)["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": "weather", "schema": schema, "strict": true}})
        );
    }
    assert_eq!(
        body_of(&mock, Protocol::Anthropic)["output_config"],
        json!({"format": {"type": "json_schema", "schema": schema}})
    );
    let b = body_of(&mock, Protocol::BedrockConverse);
    let js = &b["outputConfig"]["textFormat"]["structure"]["jsonSchema"];
    assert_eq!(b["outputConfig"]["textFormat"]["type"], "json_schema");
    assert_eq!(js["name"], "weather");
    assert_eq!(
        serde_json::from_str::<Value>(js["schema"].as_str().unwrap()).unwrap(),
        schema
    );
    for proto in [Protocol::Gemini, Protocol::Vertex] {
        let g = body_of(&mock, proto);
        assert_eq!(
            g["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert_eq!(g["generationConfig"]["responseJsonSchema"], schema);
    }
    assert_eq!(body_of(&mock, Protocol::OllamaChat)["format"], schema);
}

#[test]
fn provider_json_object_format_prompt_override_and_what_is_not_sent() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("not json at all")));
    let url = mock.url();
    let p = keys();
    p.file(
        "suites/object.yaml",
        &format!(
            r#"providers:
  - id: openai:gpt-4.1-mini
    config: {{ base_url: "{url}/v1", response_format: {{ type: json_object }} }}
  - id: anthropic:claude-haiku-4-5
    config: {{ base_url: "{url}", response_format: {{ type: json_object }} }}
prompts:
  - "Say something as JSON: {{{{ topic }}}}"
  - label: plain
    text: "Say something: {{{{ topic }}}}"
    response_format: {{ type: text }}
cases:
  - vars: {{ topic: cats }}
"#
        ),
    );
    let v = p.run(&["validate", "suites/object.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stderr.contains(
            "Anthropic has no JSON-object mode; `response_format: {type: json_object}` is not sent"
        ),
        "{}",
        v.all()
    );
    let r = p.run(&["run", "suites/object.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let openai = mock
        .requests()
        .into_iter()
        .filter(|r| r.protocol == Some(Protocol::OpenAiChat))
        .map(|r| r.body_json().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(openai.len(), 2);
    let with_format: Vec<&Value> = openai
        .iter()
        .filter(|b| b.get("response_format").is_some())
        .collect();
    assert_eq!(with_format.len(), 1, "the `plain` prompt sends none");
    assert_eq!(
        with_format[0]["response_format"],
        json!({"type": "json_object"})
    );
    let doc = results(&p, "results.json");
    for res in doc["results"].as_array().unwrap() {
        let first = &res["assertions"][0];
        if res["prompt"] == "plain" {
            assert!(res["assertions"].as_array().unwrap().is_empty(), "{res}");
            assert_eq!(res["status"], "passed");
        } else {
            assert_eq!(first["type"], "response-format");
            assert!(
                first["reason"]
                    .as_str()
                    .unwrap()
                    .contains("the answer is not JSON"),
                "{res}"
            );
        }
    }
}

#[test]
fn bad_response_formats_are_located_errors() {
    let p = Project::new();
    p.file("suites/schema.json", r#"{"type": 7}"#);
    p.file(
        "suites/bad.yaml",
        r#"providers:
  - id: openai:gpt-4.1-mini
    config: { json_mode: true, response_format: { type: json_object } }
prompts:
  - label: a
    text: hi
    response_format: { type: json_schema }
  - label: b
    text: hi
    response_format: { type: json_schema, json_schema: { name: "has space", schema: { type: object } } }
  - label: c
    text: hi
    response_format: { type: json_schema, json_schema: { schema: "file://schema.json" } }
cases:
  - assert: [{ type: is-json }]
"#,
    );
    let r = p.run(&["validate", "suites/bad.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    for needle in [
        "set `json_mode` or `response_format`, not both",
        "`type: json_schema` needs `json_schema: {name, schema}`",
        "response format name `has space` is not one every provider accepts",
        "`schema` is not a valid JSON Schema",
        "suites/bad.yaml:7:",
    ] {
        assert!(
            r.stderr.contains(needle),
            "missing {needle:?}:\n{}",
            r.all()
        );
    }
}
