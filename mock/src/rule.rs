//! Scripted behaviour: a [`Rule`] matches requests and says how to [`Reply`].
//!
//! Rules are tried in the order they were added; the first one that matches and still has
//! uses left answers. Anything unmatched gets the server's default reply (an echo).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::protocol::Protocol;
use crate::record::RecordedRequest;
use crate::reply::Reply;

type Predicate = Arc<dyn Fn(&RecordedRequest) -> bool + Send + Sync>;

/// Matches requests and answers them.
///
/// Every condition set must hold (they combine with AND); a rule with no condition matches
/// everything. Without [`reply`](Rule::reply) it answers with [`Reply::echo`].
///
/// ```
/// use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
///
/// let mock = MockServer::start();
/// // The first two requests are rate limited, then the rule below answers.
/// mock.add_rule(Rule::new().times(2).reply(Reply::error(ErrorKind::RateLimited)));
/// mock.add_rule(
///     Rule::new()
///         .protocol(Protocol::OpenAiChat)
///         .model("gpt-a")
///         .prompt_contains("capital of France")
///         .reply(Reply::text("Paris")),
/// );
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Rule {
    protocols: Vec<Protocol>,
    model: Option<String>,
    prompt_contains: Vec<String>,
    body_contains: Vec<String>,
    headers: Vec<(String, Option<String>)>,
    stream: Option<bool>,
    predicate: Option<Predicate>,
    times: Option<usize>,
    pub(crate) reply: Reply,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("protocols", &self.protocols)
            .field("model", &self.model)
            .field("prompt_contains", &self.prompt_contains)
            .field("body_contains", &self.body_contains)
            .field("headers", &self.headers)
            .field("stream", &self.stream)
            .field("predicate", &self.predicate.as_ref().map(|_| "<fn>"))
            .field("times", &self.times)
            .field("reply", &self.reply)
            .finish()
    }
}

impl Rule {
    /// A rule that matches every request and echoes.
    pub fn new() -> Rule {
        Rule::default()
    }

    /// Only requests of this protocol (call again to allow several).
    pub fn protocol(mut self, p: Protocol) -> Rule {
        self.protocols.push(p);
        self
    }

    /// Only this model, exactly: body `model` (OpenAI, Anthropic, Ollama, Azure v1), Azure
    /// deployment, Bedrock modelId (decoded once) or Gemini/Vertex model from the path.
    pub fn model(mut self, model: impl Into<String>) -> Rule {
        self.model = Some(model.into());
        self
    }

    /// The last user message contains this text (repeatable: all must be present).
    pub fn prompt_contains(mut self, needle: impl Into<String>) -> Rule {
        self.prompt_contains.push(needle.into());
        self
    }

    /// The raw body contains this text (repeatable).
    pub fn body_contains(mut self, needle: impl Into<String>) -> Rule {
        self.body_contains.push(needle.into());
        self
    }

    /// The request has this header (any value).
    pub fn header(mut self, name: impl Into<String>) -> Rule {
        self.headers.push((name.into(), None));
        self
    }

    /// The request has this header with exactly this value.
    pub fn header_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Rule {
        self.headers.push((name.into(), Some(value.into())));
        self
    }

    /// Only streamed (`true`) or only non-streamed (`false`) requests.
    pub fn stream(mut self, stream: bool) -> Rule {
        self.stream = Some(stream);
        self
    }

    /// Any other condition.
    ///
    /// ```
    /// # use promptdrift_mock::Rule;
    /// let r = Rule::new().when(|req| req.body_json().is_some_and(|j| j["temperature"] == 0));
    /// ```
    pub fn when(mut self, f: impl Fn(&RecordedRequest) -> bool + Send + Sync + 'static) -> Rule {
        self.predicate = Some(Arc::new(f));
        self
    }

    /// Answers at most `n` requests, then stops matching (later rules take over).
    pub fn times(mut self, n: usize) -> Rule {
        self.times = Some(n);
        self
    }

    /// What to answer.
    pub fn reply(mut self, reply: Reply) -> Rule {
        self.reply = reply;
        self
    }

    pub(crate) fn times_limit(&self) -> Option<usize> {
        self.times
    }

    pub(crate) fn matches(&self, r: &RecordedRequest) -> bool {
        if !self.protocols.is_empty() && !r.protocol.is_some_and(|p| self.protocols.contains(&p)) {
            return false;
        }
        if let Some(m) = &self.model
            && r.model.as_deref() != Some(m.as_str())
        {
            return false;
        }
        if !self.prompt_contains.is_empty() {
            let prompt = r.prompt.as_deref().unwrap_or("");
            if !self
                .prompt_contains
                .iter()
                .all(|n| prompt.contains(n.as_str()))
            {
                return false;
            }
        }
        if !self.body_contains.is_empty() {
            let body = String::from_utf8_lossy(&r.body);
            if !self.body_contains.iter().all(|n| body.contains(n.as_str())) {
                return false;
            }
        }
        for (name, value) in &self.headers {
            let ok = match value {
                None => r.header(name).is_some(),
                Some(v) => r.header_all(name).contains(&v.as_str()),
            };
            if !ok {
                return false;
            }
        }
        if self.stream.is_some_and(|s| s != r.stream) {
            return false;
        }
        self.predicate.as_ref().is_none_or(|f| f(r))
    }
}

/// A rule installed in a server, with its use count.
pub(crate) struct ActiveRule {
    pub rule: Rule,
    pub hits: Arc<AtomicUsize>,
}

impl ActiveRule {
    /// Claims one use if the rule matches and is not exhausted.
    pub(crate) fn try_take(&self, r: &RecordedRequest) -> bool {
        if let Some(max) = self.rule.times
            && self.hits.load(Ordering::Relaxed) >= max
        {
            return false;
        }
        if !self.rule.matches(r) {
            return false;
        }
        // Callers hold the rules lock, so load-then-add cannot overshoot `times`.
        self.hits.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// Returned by [`MockServer::add_rule`](crate::MockServer::add_rule): how often the rule
/// answered.
#[derive(Debug, Clone)]
pub struct RuleHandle {
    pub(crate) hits: Arc<AtomicUsize>,
    pub(crate) times: Option<usize>,
}

impl RuleHandle {
    /// Requests this rule answered so far.
    #[must_use]
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// Whether a `.times(n)` rule has used all its answers.
    #[must_use]
    pub fn is_exhausted(&self) -> bool {
        self.times.is_some_and(|t| self.hits() >= t)
    }
}
