//! Grading prompts: the built-in files under `prompts/graders/` (embedded at build time), or a
//! user's override, compiled once as a minijinja template and rendered per answer.
//!
//! Precedence: the assertion's `config.prompt`, then the suite's `options.grader_prompts.<type>`,
//! then the built-in file. A prompt is inline text or `file://path` (looked up from the suite's
//! folder, then each parent). The rendered text is sent as one user message, unless it is a JSON
//! list of `{role, content}` messages (promptfoo's `rubricPrompt` convention), which is sent as
//! that conversation.

use std::path::PathBuf;

use serde_json::Value;

use super::super::{CompileContext, JudgeError};
use crate::provider::{Message, Request};
use crate::suite::model::{AssertionKind, AssertionSpec, Role, Vars};
use crate::suite::template::Templates;

/// The built-in prompt of a kind, as shipped in `prompts/graders/`.
pub(crate) fn builtin(kind: AssertionKind) -> Option<&'static str> {
    Some(match kind {
        AssertionKind::LlmRubric => include_str!("../../../prompts/graders/llm-rubric.txt"),
        AssertionKind::Factuality => include_str!("../../../prompts/graders/factuality.txt"),
        AssertionKind::ModelGradedClosedqa => {
            include_str!("../../../prompts/graders/model-graded-closedqa.txt")
        }
        AssertionKind::AnswerRelevance => {
            include_str!("../../../prompts/graders/answer-relevance.txt")
        }
        AssertionKind::SelectBest => include_str!("../../../prompts/graders/select-best.txt"),
        _ => return None,
    })
}

/// Variables every grading prompt can use.
const COMMON_VARS: &[&str] = &["output", "value", "vars", "question", "prompt"];

/// The variables a kind's prompt gets besides [`COMMON_VARS`].
pub(crate) fn kind_vars(kind: AssertionKind) -> &'static [&'static str] {
    match kind {
        AssertionKind::LlmRubric => &["rubric"],
        AssertionKind::Factuality => &["reference"],
        AssertionKind::ModelGradedClosedqa | AssertionKind::SelectBest => &["criterion", "outputs"],
        AssertionKind::AnswerRelevance => &["count"],
        _ => &[],
    }
}

/// Where a prompt came from, for messages.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    BuiltIn,
    Inline,
    File(PathBuf),
}

/// A compiled grading prompt.
#[derive(Debug)]
pub(crate) struct GraderPrompt {
    templates: Templates,
    source: Source,
}

const NAME: &str = "grader";

impl GraderPrompt {
    /// The prompt for `spec`: its `config.prompt`, the suite's override for its type, or the
    /// built-in one. Unknown variables and syntax errors are reported here, not per answer.
    pub(crate) fn compile(
        spec: &AssertionSpec,
        ctx: &CompileContext<'_>,
    ) -> Result<Self, JudgeError> {
        let kind = spec.kind;
        let (text, source, at) = match spec.config.get("prompt") {
            Some(Value::String(s)) => {
                let (text, source) = read(s, ctx.files(), "config.prompt")?;
                (text, source, "config.prompt".to_string())
            }
            Some(other) => {
                return Err(JudgeError::at(
                    "config.prompt",
                    format!(
                        "`config.prompt` of `{}` must be text or `file://path`, not {}",
                        spec.type_name(),
                        super::super::args::describe(other)
                    ),
                ));
            }
            None => match ctx.grader_prompts.and_then(|m| m.get(kind.name())) {
                Some(s) => {
                    let (text, source) = read(s, ctx.files(), "options.grader_prompts")?;
                    (text, source, "options.grader_prompts".to_string())
                }
                None => (
                    builtin(kind)
                        .expect("compile only asks for grader kinds")
                        .to_string(),
                    Source::BuiltIn,
                    String::new(),
                ),
            },
        };
        let where_ = match &source {
            Source::BuiltIn => format!("the built-in `{}` prompt", kind.name()),
            Source::Inline => format!("the grading prompt in `{at}`"),
            Source::File(p) => format!("the grading prompt `{}`", p.display()),
        };
        let at_key = if at.is_empty() { "config.prompt" } else { &at };
        let mut templates = Templates::new();
        templates.add(NAME, &text).map_err(|e| {
            JudgeError::at(at_key, format!("{where_} has a {e}"))
                .with_help("grading prompts are minijinja templates: `{{ output }}`")
        })?;
        let mut known: Vars = Vars::new();
        for k in COMMON_VARS.iter().chain(kind_vars(kind)) {
            known.insert((*k).to_string(), Value::Null);
        }
        let unknown = templates.missing_vars(NAME, &known);
        if !unknown.is_empty() {
            let names: Vec<&str> = COMMON_VARS.iter().chain(kind_vars(kind)).copied().collect();
            return Err(JudgeError::at(
                at_key,
                format!(
                    "{where_} uses unknown variable{} {}",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown
                        .iter()
                        .map(|u| format!("`{u}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_help(format!(
                "a `{}` prompt can use: {}",
                kind.name(),
                names.join(", ")
            )));
        }
        Ok(GraderPrompt { templates, source })
    }

    /// Renders the prompt into a grader request (messages only: the runner adds the grader's
    /// sampling settings).
    pub(crate) fn request(&self, vars: &Vars) -> Result<Request, String> {
        let text = self.templates.render(NAME, vars).map_err(|e| {
            let which = match &self.source {
                Source::BuiltIn => "the built-in grading prompt".to_string(),
                Source::Inline => "the grading prompt".to_string(),
                Source::File(p) => format!("the grading prompt `{}`", p.display()),
            };
            format!("{which} cannot be rendered: {e}")
        })?;
        Ok(messages_request(&text))
    }
}

/// Reads inline text or a `file://` prompt.
fn read(
    s: &str,
    files: crate::suite::files::Files<'_>,
    at: &str,
) -> Result<(String, Source), JudgeError> {
    match crate::suite::file_ref(s) {
        None => Ok((s.to_string(), Source::Inline)),
        Some(rel) => {
            let (path, text) =
                crate::suite::files::read_text(files.dir, rel, files.access, "grading prompt")
                    .map_err(|e| {
                        let err = JudgeError::at(at, e.message);
                        match e.help {
                            Some(h) => err.with_help(h),
                            None => err,
                        }
                    })?;
            Ok((text, Source::File(path)))
        }
    }
}

/// One user message, or the conversation when the text is a JSON list of `{role, content}`.
fn messages_request(text: &str) -> Request {
    let trimmed = text.trim();
    if trimmed.starts_with('[')
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(trimmed)
    {
        let mut system: Option<String> = None;
        let mut messages = Vec::new();
        let mut ok = !items.is_empty();
        for item in &items {
            let role = item.get("role").and_then(Value::as_str);
            let content = item.get("content").and_then(Value::as_str);
            match (role, content) {
                (Some("system"), Some(c)) => match &mut system {
                    Some(s) => {
                        s.push_str("\n\n");
                        s.push_str(c);
                    }
                    None => system = Some(c.to_string()),
                },
                (Some("user"), Some(c)) => messages.push(Message::new(Role::User, c.to_string())),
                (Some("assistant"), Some(c)) => {
                    messages.push(Message::new(Role::Assistant, c.to_string()))
                }
                _ => ok = false,
            }
        }
        if ok && !messages.is_empty() {
            return Request {
                system,
                messages,
                ..Request::default()
            };
        }
    }
    Request {
        messages: vec![Message::new(Role::User, text.to_string())],
        ..Request::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_one_user_message_and_json_lists_are_conversations() {
        let r = messages_request("Grade this: x");
        assert_eq!(r.messages.len(), 1);
        assert_eq!(r.messages[0].role, Role::User);
        let r = messages_request(
            r#"[{"role":"system","content":"be strict"},{"role":"user","content":"grade x"}]"#,
        );
        assert_eq!(r.system.as_deref(), Some("be strict"));
        assert_eq!(r.messages[0].content, "grade x");
        // A list that is not a conversation is text.
        let r = messages_request("[1, 2, 3]");
        assert_eq!(r.messages[0].content, "[1, 2, 3]");
    }

    #[test]
    fn every_builtin_prompt_uses_only_known_variables() {
        for kind in [
            AssertionKind::LlmRubric,
            AssertionKind::Factuality,
            AssertionKind::ModelGradedClosedqa,
            AssertionKind::AnswerRelevance,
            AssertionKind::SelectBest,
        ] {
            let mut t = Templates::new();
            t.add("p", builtin(kind).unwrap()).unwrap();
            let mut known = Vars::new();
            for k in COMMON_VARS.iter().chain(kind_vars(kind)) {
                known.insert((*k).to_string(), Value::Null);
            }
            assert!(t.missing_vars("p", &known).is_empty(), "{kind:?}");
        }
    }
}
