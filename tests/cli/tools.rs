//! Tools end to end: the issue's example suite as written, every vendor's request format for
//! tools, tool choices and conversations with tool calls and results (the mock refuses a body
//! that does not have the vendor's documented shape), the three tool assertions, tool calls
//! in results, reports and snapshots, and `compare` naming a changed tool or argument.

use promptdrift_mock::{MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};

use crate::support::{Project, result_for, results};

const OPENAI_KEY: &str = "sk-test-openai-tools-0123";
const ANTHROPIC_KEY: &str = "sk-ant-test-tools-abcdef";

/// The issue's example, word for word (tools and cases), with providers and a prompt.
const ISSUE_EXAMPLE: &str = r#"tools:
  - type: function
    function:
      name: get_weather
      description: Current weather for a city
      parameters:
        type: object
        properties: { city: { type: string }, unit: { type: string, enum: [celsius, fahrenheit] } }
        required: [city]
cases:
  - vars: { city: Paris }
    assert:
      - type: tool-call
        value: { name: get_weather, arguments: { city: Paris } }   # subset match on arguments
"#;

fn issue_suite(mock: &MockServer) -> String {
    format!(
        r#"providers:
  - id: openai:gpt-4.1-mini
    config: {{ base_url: "{url}/v1" }}
  - id: anthropic:claude-haiku-4-5
    config: {{ base_url: "{url}" }}
prompts:
  - "What is the weather in {{{{ city }}}} right now?"
{ISSUE_EXAMPLE}"#,
        url = mock.url()
    )
}

fn keys() -> Project {
    Project::new()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
}

fn body_of(mock: &MockServer, p: Protocol) -> Value {
    let r = mock
        .requests()
        .into_iter()
        .find(|r| r.protocol == Some(p))
        .unwrap_or_else(|| panic!("no {p:?} request"));
    assert!(r.rejection.is_none(), "{p:?} refused: {:?}", r.rejection);
    r.body_json().expect("JSON body")
}

#[test]
fn the_issue_example_runs_as_written_on_openai_and_anthropic() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, OPENAI_KEY);
    mock.expect_key(Protocol::Anthropic, ANTHROPIC_KEY);
    mock.add_rule(Rule::new().prompt_contains("Paris").reply(Reply::tool(
        "get_weather",
        json!({"city": "Paris", "unit": "celsius"}),
    )));
    let p = keys();
    p.file("suites/weather.yaml", &issue_suite(&mock));
    let v = p.run(&["validate", "suites/weather.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    let r = p.run(&["run", "suites/weather.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());

    // OpenAI: `tools` in the function format, exactly as declared.
    let openai = body_of(&mock, Protocol::OpenAiChat);
    assert_eq!(
        openai["tools"],
        json!([{"type": "function", "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}
        }}])
    );
    assert!(openai.get("tool_choice").is_none());
    // Anthropic: `input_schema`, no `type`/`function` wrapper.
    let anthropic = body_of(&mock, Protocol::Anthropic);
    assert_eq!(
        anthropic["tools"],
        json!([{
            "name": "get_weather",
            "description": "Current weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}
        }])
    );

    // Results carry the calls as first-class output.
    let doc = results(&p, "results.json");
    for provider in ["openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5"] {
        let res = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["provider"] == provider)
            .unwrap();
        assert_eq!(res["status"], "passed", "{res}");
        assert_eq!(res["finish_reason"], "tool_calls");
        assert_eq!(res["tool_calls"][0]["name"], "get_weather");
        assert_eq!(
            res["tool_calls"][0]["arguments"],
            json!({"city": "Paris", "unit": "celsius"})
        );
        assert!(
            res["assertions"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("get_weather("),
            "{res}"
        );
    }
}

#[test]
fn a_wrong_call_fails_with_the_difference_and_reports_show_the_calls() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .model("gpt-4.1-mini")
            .reply(Reply::tool("get_weather", json!({"city": "paris"}))),
    );
    mock.add_rule(
        Rule::new()
            .model("claude-haiku-4-5")
            .reply(Reply::text("I cannot check the weather.")),
    );
    let p = keys();
    p.file("suites/weather.yaml", &issue_suite(&mock));
    let r = p.run(&[
        "run",
        "suites/weather.yaml",
        "-o",
        "results.json",
        "-o",
        "junit.xml",
        "-o",
        "report.md",
        "-o",
        "report.html",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p, "results.json");
    let case_id = doc["results"][0]["case_id"].as_str().unwrap().to_string();
    let openai = result_for(&doc, &case_id, "openai:gpt-4.1-mini");
    let reason = openai["assertions"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("at `/city`: \"paris\" instead of \"Paris\""),
        "{reason}"
    );
    let anthropic = result_for(&doc, &case_id, "anthropic:claude-haiku-4-5");
    assert!(
        anthropic["assertions"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("the answer calls no tool"),
        "{anthropic}"
    );
    // The terminal, JUnit and Markdown reports show the call.
    let shown = "→ tool get_weather({\"city\":\"paris\"})";
    assert!(r.stdout.contains(shown), "{}", r.all());
    assert!(
        p.read("junit.xml").contains(shown),
        "{}",
        p.read("junit.xml")
    );
    assert!(
        p.read("report.md").contains(shown),
        "{}",
        p.read("report.md")
    );
}

/// Two tools and a conversation that already called one: every vendor gets its own format,
/// and the mock (which checks the documented shapes) accepts each body.
fn conversation_suite(providers: &str, choice: &str) -> String {
    format!(
        r#"providers:
{providers}prompts:
  - label: followup
    messages:
      - role: system
        content: You are a travel assistant.
      - role: user
        content: "What is the weather in {{{{ city }}}}?"
      - role: assistant
        tool_calls:
          - id: call_1
            type: function
            function: {{ name: get_weather, arguments: '{{"city": "{{{{ city }}}}"}}' }}
      - role: tool
        tool_call_id: call_1
        content: '{{"temp_c": 18, "sky": "clear"}}'
      - role: user
        content: Should I pack an umbrella? Look up the forecast too.
tools:
  - type: function
    function:
      name: get_weather
      description: Current weather for a city
      parameters: {{ type: object, properties: {{ city: {{ type: string }} }}, required: [city] }}
  - type: function
    function:
      name: get_forecast
      parameters: {{ type: object, properties: {{ city: {{ type: string }}, days: {{ type: integer }} }}, required: [city] }}
tool_choice: {choice}
cases:
  - id: umbrella
    vars: {{ city: Paris }}
    assert:
      - type: tool-call
        value: {{ name: get_forecast, arguments: {{ city: Paris }} }}
      - type: is-valid-tool-call
      - type: tool-call-f1
        value: [get_forecast]
      - type: not-tool-call
        value: delete_account
"#
    )
}

#[test]
fn every_vendor_gets_tools_choices_and_conversations_in_its_own_format() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::tool(
        "get_forecast",
        json!({"city": "Paris", "days": 2}),
    )));
    let url = mock.url();
    let providers = [
        format!("  - id: openai:gpt-4.1-mini\n    config: {{ base_url: \"{url}/v1\" }}\n"),
        format!("  - id: azure:my-deploy\n    config: {{ endpoint: \"{url}\" }}\n"),
        format!("  - id: anthropic:claude-sonnet-4-5\n    config: {{ base_url: \"{url}\" }}\n"),
        format!("  - id: bedrock:anthropic.claude-haiku-4-5-20251001-v1:0\n    config: {{ endpoint_url: \"{url}\", region: us-east-1 }}\n"),
        format!("  - id: gemini:gemini-2.5-flash\n    config: {{ base_url: \"{url}\" }}\n"),
        format!("  - id: vertex:gemini-2.5-flash\n    config: {{ base_url: \"{url}\", project: p1, location: us-central1 }}\n"),
        format!("  - id: ollama:llama3.2\n    config: {{ base_url: \"{url}\" }}\n"),
    ]
    .concat();
    let p = keys()
        .env("AZURE_OPENAI_API_KEY", "azure-key-tools")
        .env("AWS_BEARER_TOKEN_BEDROCK", "bedrock-key-tools")
        .env("GEMINI_API_KEY", "gemini-key-tools")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.tools");
    p.file(
        "suites/trip.yaml",
        &conversation_suite(
            &providers,
            "{ type: function, function: { name: get_forecast } }",
        ),
    );
    let r = p.run(&["run", "suites/trip.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = results(&p, "results.json");
    assert_eq!(doc["results"].as_array().unwrap().len(), 7);
    for res in doc["results"].as_array().unwrap() {
        assert_eq!(res["status"], "passed", "{res}");
        assert_eq!(res["tool_calls"][0]["name"], "get_forecast", "{res}");
    }

    // OpenAI and Azure: the call with JSON-text arguments, the result as a `tool` message.
    for proto in [Protocol::OpenAiChat, Protocol::AzureClassic] {
        let b = body_of(&mock, proto);
        assert_eq!(
            b["tool_choice"],
            json!({"type": "function", "function": {"name": "get_forecast"}})
        );
        assert_eq!(b["messages"][2]["role"], "assistant");
        assert_eq!(b["messages"][2]["content"], Value::Null);
        assert_eq!(
            b["messages"][2]["tool_calls"],
            json!([{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
        );
        assert_eq!(
            b["messages"][3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 18, \"sky\": \"clear\"}"})
        );
    }
    // Anthropic: `tool_use` in the assistant turn, `tool_result` first in the next user turn.
    let a = body_of(&mock, Protocol::Anthropic);
    assert_eq!(
        a["tool_choice"],
        json!({"type": "tool", "name": "get_forecast"})
    );
    assert_eq!(a["system"], "You are a travel assistant.");
    assert_eq!(
        a["messages"][1],
        json!({"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]})
    );
    assert_eq!(
        a["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"temp_c\": 18, \"sky\": \"clear\"}"},
            {"type": "text", "text": "Should I pack an umbrella? Look up the forecast too."}
        ]})
    );
    assert_eq!(a["tools"][1]["name"], "get_forecast");
    // Bedrock Converse: toolConfig with toolSpec/inputSchema.json; toolUse/toolResult blocks.
    let b = body_of(&mock, Protocol::BedrockConverse);
    assert_eq!(
        b["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "get_forecast"}})
    );
    assert_eq!(
        b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"],
        json!(["city"])
    );
    assert_eq!(
        b["messages"][1]["content"][0],
        json!({"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}})
    );
    assert_eq!(
        b["messages"][2]["content"][0],
        json!({"toolResult": {"toolUseId": "call_1", "content": [{"text": "{\"temp_c\": 18, \"sky\": \"clear\"}"}]}})
    );
    // Gemini and Vertex: functionDeclarations with parametersJsonSchema, ANY + allowed names,
    // functionCall in the model turn, functionResponse (an object) in the user turn.
    for proto in [Protocol::Gemini, Protocol::Vertex] {
        let g = body_of(&mock, proto);
        assert_eq!(
            g["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_forecast"]}})
        );
        assert_eq!(
            g["tools"][0]["functionDeclarations"][1]["parametersJsonSchema"]["properties"]["days"]
                ["type"],
            "integer"
        );
        assert_eq!(
            g["contents"][1],
            json!({"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]})
        );
        assert_eq!(
            g["contents"][2]["parts"][0],
            json!({"functionResponse": {"name": "get_weather", "response": {"temp_c": 18, "sky": "clear"}}})
        );
    }
    // Ollama: OpenAI-format tools, arguments as an object, `tool_name` on the result.
    let o = body_of(&mock, Protocol::OllamaChat);
    assert_eq!(o["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        o["messages"][2]["tool_calls"],
        json!([{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}])
    );
    assert_eq!(o["messages"][3]["tool_name"], "get_weather");
    assert!(o.get("tool_choice").is_none());
}

#[test]
fn tool_choice_none_and_required_and_unhonoured_choices_are_said() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Take an umbrella.")));
    let url = mock.url();
    let providers = [
        format!("  - id: bedrock:anthropic.claude-haiku-4-5-20251001-v1:0\n    config: {{ endpoint_url: \"{url}\", region: us-east-1 }}\n"),
        format!("  - id: ollama:llama3.2\n    config: {{ base_url: \"{url}\" }}\n"),
        format!("  - id: anthropic:claude-sonnet-4-5\n    config: {{ base_url: \"{url}\" }}\n"),
    ]
    .concat();
    let p = keys().env("AWS_BEARER_TOKEN_BEDROCK", "bedrock-key-tools");
    p.file("suites/none.yaml", &conversation_suite(&providers, "none"));
    let v = p.run(&["validate", "suites/none.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    // Bedrock has no `none` and the conversation needs its tools: said, not hidden.
    assert!(
        v.stderr.contains("Converse has no `none` tool choice"),
        "{}",
        v.all()
    );
    let r = p.run(&["run", "suites/none.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let a = body_of(&mock, Protocol::Anthropic);
    assert_eq!(a["tool_choice"], json!({"type": "none"}));
    let b = body_of(&mock, Protocol::BedrockConverse);
    assert!(b["toolConfig"].get("toolChoice").is_none(), "{b}");
    // Ollama honours `none` by not offering the tools.
    let o = body_of(&mock, Protocol::OllamaChat);
    assert!(o.get("tools").is_none(), "{o}");

    p.file(
        "suites/required.yaml",
        &conversation_suite(&providers, "required"),
    );
    let v = p.run(&["validate", "suites/required.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stderr
            .contains("Ollama has no `tool_choice`; `required` is not sent"),
        "{}",
        v.all()
    );
}

#[test]
fn bad_tool_declarations_are_located_errors() {
    let p = Project::new();
    p.file(
        "suites/bad.yaml",
        r#"providers: [openai:gpt-4.1-mini]
prompts:
  - label: p
    messages:
      - role: user
        content: hi
      - role: tool
        tool_call_id: call_9
        content: "18"
tools:
  - type: function
    function:
      name: get weather
  - type: function
    function:
      name: ok_tool
      parameters: { type: array }
tool_choice: { type: function, function: { name: get_wether } }
cases:
  - assert: [{ type: tool-call, value: { name: x, count: many } }]
"#,
    );
    let r = p.run(&["validate", "suites/bad.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    for needle in [
        "tool name `get weather` is not one every provider accepts",
        "suites/bad.yaml:13:13",
        "`parameters` must describe an object",
        "`tool_choice` names `get_wether`, which is not a declared tool",
        "did you mean `get weather`?",
        "no earlier assistant tool call has the id `call_9`",
    ] {
        assert!(
            r.stderr.contains(needle),
            "missing {needle:?}:\n{}",
            r.all()
        );
    }
}

#[test]
fn tools_from_a_file_and_templates_that_read_them() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Sunny in Oslo.")));
    let p = keys();
    p.file(
        "suites/tools.json",
        r#"[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#,
    );
    p.file(
        "suites/gateway.yaml",
        &format!(
            r#"providers:
  - id: http:gateway
    config:
      url: "{url}/v1/chat/completions"
      body:
        model: gw
        messages: "{{{{ messages }}}}"
        tools: "{{{{ tools }}}}"
        tool_choice: "{{{{ tool_choice }}}}"
      response_path: $.choices[0].message.content
prompts: ["Weather in {{{{ city }}}}?"]
tools: file://tools.json
tool_choice: required
cases:
  - vars: {{ city: Oslo }}
"#,
            url = mock.url()
        ),
    );
    let r = p.run(&["run", "suites/gateway.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let b = body_of(&mock, Protocol::OpenAiChat);
    assert_eq!(b["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(b["tool_choice"], "required");
}

#[test]
fn compare_names_a_changed_tool_or_argument() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .model("model-a")
            .reply(Reply::tool("get_weather", json!({"city": "Paris"}))),
    );
    mock.add_rule(
        Rule::new()
            .model("model-b")
            .prompt_contains("weather")
            .reply(Reply::tool("search_web", json!({"q": "weather Paris"}))),
    );
    mock.add_rule(
        Rule::new()
            .model("model-b")
            .reply(Reply::tool("get_weather", json!({"city": "paris"}))),
    );
    let url = mock.url();
    let p = Project::new().env("OPENAI_API_KEY", OPENAI_KEY);
    p.file(
        "suites/drift.yaml",
        &format!(
            r#"providers:
  - id: openai:model-a
    label: old
    config: {{ base_url: "{url}/v1" }}
  - id: openai:model-b
    label: new
    config: {{ base_url: "{url}/v1" }}
prompts: ["{{{{ question }}}}"]
tools:
  - type: function
    function: {{ name: get_weather, parameters: {{ type: object, properties: {{ city: {{ type: string }} }} }} }}
  - type: function
    function: {{ name: search_web, parameters: {{ type: object, properties: {{ q: {{ type: string }} }} }} }}
cases:
  - id: which-tool
    vars: {{ question: "What is the weather in Paris?" }}
  - id: which-city
    vars: {{ question: "Temperature in Paris?" }}
"#
        ),
    );
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "suites/drift.yaml",
        "-o",
        "comparison.json",
    ]);
    let doc: Value = serde_json::from_str(&p.read("comparison.json")).unwrap();
    let case = |id: &str| {
        doc["comparisons"][0]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["case_id"] == id)
            .unwrap()
            .clone()
    };
    let tool = case("which-tool");
    assert_eq!(tool["class"], "changed", "{tool}");
    assert_eq!(tool["reasons"][0], "tool get_weather → search_web");
    let city = case("which-city");
    assert_eq!(city["class"], "changed", "{city}");
    assert_eq!(city["reasons"][0], "get_weather $.city Paris → paris");
    assert_eq!(
        city["candidate"]["tool_calls"][0]["arguments"]["city"],
        "paris"
    );
    assert!(
        r.stdout.contains("tool get_weather → search_web"),
        "{}",
        r.all()
    );
}
