//! Conversation content for vendors whose messages are lists of typed blocks (Anthropic,
//! Bedrock Converse, Gemini): one neutral message becomes a vendor role and its blocks, and
//! consecutive turns of one vendor role are merged into one message, as those APIs require
//! alternating roles (a `tool` result is a `user` turn for all three).

use serde_json::Value;

/// Turns being built: (vendor role, blocks), consecutive same-role turns merged.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    turns: Vec<(&'static str, Vec<Value>)>,
}

impl Turns {
    /// Appends `blocks` as a turn of `role`, merging it into the previous turn of the same
    /// role. Tool results go first in their turn (Anthropic requires `tool_result` blocks
    /// before any text in a user message), so `results_first` blocks are placed before the
    /// turn's other blocks.
    pub(crate) fn push(&mut self, role: &'static str, blocks: Vec<Value>, results_first: bool) {
        match self.turns.last_mut() {
            Some((r, existing)) if *r == role => {
                if results_first {
                    let at = existing
                        .iter()
                        .position(|b| !is_result(b))
                        .unwrap_or(existing.len());
                    existing.splice(at..at, blocks);
                } else {
                    existing.extend(blocks);
                }
            }
            _ => self.turns.push((role, blocks)),
        }
    }

    /// The merged turns.
    pub(crate) fn into_inner(self) -> Vec<(&'static str, Vec<Value>)> {
        self.turns
    }
}

/// Whether a block is a tool result in any of the three vendors' spellings.
fn is_result(block: &Value) -> bool {
    block.get("type").and_then(Value::as_str) == Some("tool_result")
        || block.get("toolResult").is_some()
        || block.get("functionResponse").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_role_turns_merge_with_results_first() {
        let mut t = Turns::default();
        t.push("user", vec![json!({"type": "text", "text": "q"})], false);
        t.push("assistant", vec![json!({"type": "tool_use"})], false);
        t.push("user", vec![json!({"type": "tool_result", "n": 1})], true);
        t.push("user", vec![json!({"type": "text", "text": "and?"})], false);
        t.push("user", vec![json!({"type": "tool_result", "n": 2})], true);
        let turns = t.into_inner();
        assert_eq!(turns.len(), 3);
        assert_eq!(
            turns[2].1,
            vec![
                json!({"type": "tool_result", "n": 1}),
                json!({"type": "tool_result", "n": 2}),
                json!({"type": "text", "text": "and?"}),
            ]
        );
    }
}
