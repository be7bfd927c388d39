//! Reading grader answers. Graders are asked for one JSON object (or, for closed QA, a final
//! `Y`/`N` line); models wrap JSON in prose or code fences, so the object is looked for the way
//! `contains-json` finds one. Anything that does not hold the expected fields is an error whose
//! message is sent back to the grader once (see `super::repair`), then reported.

use serde_json::{Map, Value};

use super::super::json::find_json;

fn object(text: &str) -> Result<Map<String, Value>, String> {
    match find_json(text) {
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err("the reply is JSON but not an object".into()),
        None if text.trim().is_empty() => Err("the reply is empty".into()),
        None => Err("the reply holds no JSON object".into()),
    }
}

fn reason(o: &Map<String, Value>) -> String {
    match o.get("reason") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "pass" => Some(true),
            "false" | "no" | "fail" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An `llm-rubric` verdict.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RubricVerdict {
    pub(crate) pass: bool,
    pub(crate) score: f64,
    pub(crate) reason: String,
}

/// `{"pass": bool, "score": 0–1, "reason": "…"}`. `score` may be missing (1 or 0 from `pass`);
/// `pass` may be missing when `score` is there (pass = score ≥ 0.5).
pub(crate) fn rubric(text: &str) -> Result<RubricVerdict, String> {
    let o = object(text)?;
    let pass = match o.get("pass") {
        None | Some(Value::Null) => None,
        Some(v) => Some(boolean(v).ok_or_else(|| format!("`pass` is {v}, not true or false"))?),
    };
    let score = match o.get("score") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let s = number(v).ok_or_else(|| format!("`score` is {v}, not a number"))?;
            if !(0.0..=1.0).contains(&s) {
                return Err(format!("`score` is {s}, outside 0–1"));
            }
            Some(s)
        }
    };
    let (pass, score) = match (pass, score) {
        (Some(p), Some(s)) => (p, s),
        (Some(p), None) => (p, if p { 1.0 } else { 0.0 }),
        (None, Some(s)) => (s >= 0.5, s),
        (None, None) => return Err("the JSON object has neither `pass` nor `score`".into()),
    };
    Ok(RubricVerdict {
        pass,
        score,
        reason: reason(&o),
    })
}

/// A factuality category (0 = A … 4 = E) and the grader's reason. Accepts the JSON object
/// asked for, or a reply whose last line is the letter alone (`C`, `(C)`), as OpenAI evals'
/// original prompt has it.
pub(crate) fn factuality(text: &str) -> Result<(usize, String), String> {
    let letter = |s: &str| -> Option<usize> {
        let t = s.trim().trim_matches(|c: char| "()[]*.\"' ".contains(c));
        match t.to_ascii_uppercase().as_str() {
            "A" => Some(0),
            "B" => Some(1),
            "C" => Some(2),
            "D" => Some(3),
            "E" => Some(4),
            _ => None,
        }
    };
    if let Ok(o) = object(text) {
        return match o.get("category").or_else(|| o.get("choice")) {
            Some(Value::String(s)) => letter(s)
                .map(|c| (c, reason(&o)))
                .ok_or_else(|| format!("`category` is {s:?}, not one of A, B, C, D, E")),
            Some(v) => Err(format!("`category` is {v}, not one of A, B, C, D, E")),
            None => Err("the JSON object has no `category`".into()),
        };
    }
    let last = text.lines().rev().find(|l| !l.trim().is_empty());
    match last.and_then(letter) {
        Some(c) => {
            let body = text.trim_end();
            let cut = body.rfind('\n').map_or("", |i| &body[..i]);
            Ok((c, cut.trim().to_string()))
        }
        None => Err("the reply holds no JSON object with a `category`".into()),
    }
}

/// A closed-QA verdict: the last non-empty line is `Y` or `N` (punctuation and `**` around it
/// are ignored); the lines before are the reason.
pub(crate) fn closed_qa(text: &str) -> Result<(bool, String), String> {
    let body = text.trim_end();
    let Some(last) = body.lines().rev().find(|l| !l.trim().is_empty()) else {
        return Err("the reply is empty".into());
    };
    let t = last
        .trim()
        .trim_matches(|c: char| "*_.\"'`:()[] ".contains(c))
        .to_ascii_uppercase();
    let t = t
        .strip_prefix("ANSWER")
        .map_or(t.as_str(), |r| r.trim_start_matches([':', ' ']));
    let pass = match t {
        "Y" | "YES" => true,
        "N" | "NO" => false,
        _ => {
            return Err(format!(
                "the last line is {:?}, not Y or N",
                super::super::args::quote(last.trim())
            ));
        }
    };
    let cut = body.rfind('\n').map_or("", |i| &body[..i]);
    Ok((pass, cut.trim().to_string()))
}

/// `{"questions": ["…", …]}` with at least one non-empty question.
pub(crate) fn questions(text: &str) -> Result<Vec<String>, String> {
    let items = match find_json(text) {
        Some(Value::Object(o)) => match o.get("questions") {
            Some(Value::Array(a)) => a.clone(),
            Some(v) => return Err(format!("`questions` is {v}, not a list")),
            None => return Err("the JSON object has no `questions`".into()),
        },
        Some(Value::Array(a)) => a,
        Some(_) | None => return Err("the reply holds no JSON object with `questions`".into()),
    };
    let qs: Vec<String> = items
        .iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect();
    if qs.is_empty() {
        return Err("`questions` holds no question".into());
    }
    Ok(qs)
}

/// The number of the best answer (1-based in the reply, 0-based here) and the reason.
pub(crate) fn best(text: &str, n: usize) -> Result<(usize, String), String> {
    let (v, why) = match object(text) {
        Ok(o) => match o.get("best") {
            Some(v) => (number(v), reason(&o)),
            None => return Err("the JSON object has no `best`".into()),
        },
        // A bare number is accepted too.
        Err(e) => match text.trim().parse::<f64>() {
            Ok(x) => (Some(x), String::new()),
            Err(_) => return Err(e),
        },
    };
    match v {
        Some(x) if x.fract() == 0.0 && x >= 1.0 && x <= n as f64 => Ok((x as usize - 1, why)),
        Some(x) => Err(format!("`best` is {x}, not a number from 1 to {n}")),
        None => Err("`best` is not a number".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rubric_answers() {
        let v = rubric(r#"{"reason": "polite", "pass": true, "score": 0.9}"#).unwrap();
        assert_eq!((v.pass, v.score, v.reason.as_str()), (true, 0.9, "polite"));
        // Code fences and prose around the object are fine.
        let v = rubric("Sure.\n```json\n{\"pass\": false, \"reason\": \"rude\"}\n```").unwrap();
        assert_eq!((v.pass, v.score), (false, 0.0));
        let v = rubric(r#"{"score": 0.7}"#).unwrap();
        assert!(v.pass);
        assert!(rubric("I think it passes").unwrap_err().contains("no JSON"));
        assert!(
            rubric(r#"{"pass": "maybe"}"#)
                .unwrap_err()
                .contains("`pass`")
        );
        assert!(
            rubric(r#"{"pass": true, "score": 8}"#)
                .unwrap_err()
                .contains("0–1")
        );
        assert!(
            rubric(r#"{"verdict": "ok"}"#)
                .unwrap_err()
                .contains("neither")
        );
        assert!(rubric("").unwrap_err().contains("empty"));
    }

    #[test]
    fn factuality_answers() {
        assert_eq!(
            factuality(r#"{"category": "B", "reason": "adds detail"}"#).unwrap(),
            (1, "adds detail".into())
        );
        assert_eq!(factuality(r#"{"category": "(d)"}"#).unwrap().0, 3);
        assert_eq!(
            factuality("The answers agree on every fact.\n(C)").unwrap(),
            (2, "The answers agree on every fact.".into())
        );
        assert!(factuality(r#"{"category": "F"}"#).is_err());
        assert!(factuality("no idea").is_err());
    }

    #[test]
    fn closed_qa_answers() {
        assert_eq!(
            closed_qa("It names Paris.\nY").unwrap(),
            (true, "It names Paris.".into())
        );
        assert!(!closed_qa("Missing the date.\n\n**N**\n").unwrap().0);
        assert!(closed_qa("Answer: yes").unwrap().0);
        assert!(closed_qa("Maybe").unwrap_err().contains("not Y or N"));
        assert!(closed_qa("   ").is_err());
    }

    #[test]
    fn question_and_best_answers() {
        assert_eq!(
            questions(r#"{"questions": ["Where is Paris?", " ", "What is France's capital?"]}"#)
                .unwrap(),
            ["Where is Paris?", "What is France's capital?"]
        );
        assert!(questions(r#"{"questions": []}"#).is_err());
        assert_eq!(
            best(r#"{"best": 2, "reason": "funnier"}"#, 3).unwrap(),
            (1, "funnier".into())
        );
        assert_eq!(best("3", 3).unwrap().0, 2);
        assert!(best(r#"{"best": 4}"#, 3).unwrap_err().contains("1 to 3"));
        assert!(best(r#"{"best": 0}"#, 3).is_err());
        assert!(best("the second", 3).is_err());
    }
}
