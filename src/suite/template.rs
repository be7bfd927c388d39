//! Prompt and assertion templates: minijinja with strict undefined variables.
//!
//! Templates are compiled once per suite ([`Templates::add`]) and rendered per case. Variable
//! *values* are never parsed as templates, so a var holding `{{` or JSON is passed through as
//! text (a promptfoo pain point). A missing variable is an error naming the variable.

use std::collections::BTreeSet;

use minijinja::{Environment, UndefinedBehavior, value::Serde};

use super::model::Vars;

/// A set of compiled templates.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

/// A template that failed to compile or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template source is not valid template syntax.
    #[error("template syntax error: {message}")]
    Syntax {
        /// minijinja's description.
        message: String,
        /// 1-based line within the template.
        line: Option<usize>,
    },
    /// Variables the template uses that the case does not define.
    #[error("undefined variable{} {}", if .names.len() == 1 { "" } else { "s" }, .names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The missing names.
        names: Vec<String>,
    },
    /// Rendering failed for another reason (bad filter argument, fuel exhausted…).
    #[error("template error: {message}")]
    Render {
        /// minijinja's description.
        message: String,
    },
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// An empty set with strict undefined behaviour and a fuel limit (a template cannot loop
    /// forever).
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(1_000_000));
        // promptfoo's (Nunjucks') `dump`: the value as compact JSON (JSON.stringify).
        env.add_filter("dump", |v: minijinja::Value| {
            serde_json::to_string(&v).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
            })
        });
        // promptfoo's `load`: JSON text parsed into a value (JSON.parse).
        env.add_filter("load", |s: String| {
            serde_json::from_str::<serde_json::Value>(&s)
                .map(|v| minijinja::Value::from(Serde(v)))
                .map_err(|e| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("`load` needs JSON text: {e}"),
                    )
                })
        });
        Templates { env }
    }

    /// Compiles `source` under `name`.
    pub fn add(&mut self, name: &str, source: &str) -> Result<(), TemplateError> {
        self.env
            .add_template_owned(name.to_string(), source.to_string())
            .map_err(|e| TemplateError::Syntax {
                message: e.detail().unwrap_or("invalid syntax").to_string(),
                line: e.line(),
            })
    }

    /// Variables template `name` reads that are not in `vars`.
    pub fn missing_vars(&self, name: &str, vars: &Vars) -> Vec<String> {
        let Ok(t) = self.env.get_template(name) else {
            return Vec::new();
        };
        let used: BTreeSet<String> = t.undeclared_variables(false).into_iter().collect();
        used.into_iter()
            .filter(|u| !vars.contains_key(u) && self.env.globals().all(|(g, _)| g != u.as_str()))
            .collect()
    }

    /// Renders template `name` with `vars`.
    pub fn render(&self, name: &str, vars: &Vars) -> Result<String, TemplateError> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| TemplateError::Render {
                message: e.to_string(),
            })?;
        t.render(Serde(vars)).map_err(|e| {
            let missing = self.missing_vars(name, vars);
            if missing.is_empty() {
                TemplateError::Render {
                    message: e.detail().map_or_else(|| e.to_string(), str::to_string),
                }
            } else {
                TemplateError::Missing { names: missing }
            }
        })
    }

    /// Whether a string contains template syntax at all (plain strings skip the engine).
    pub fn is_template(source: &str) -> bool {
        source.contains("{{") || source.contains("{%") || source.contains("{#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> Vars {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn renders_and_names_missing_variables() {
        let mut t = Templates::new();
        t.add("p", "Hello {{ name }}, {{ city }}!").unwrap();
        assert_eq!(
            t.render("p", &vars(json!({"name": "Ada", "city": "Paris"})))
                .unwrap(),
            "Hello Ada, Paris!"
        );
        let err = t.render("p", &vars(json!({"name": "Ada"}))).unwrap_err();
        assert_eq!(
            err,
            TemplateError::Missing {
                names: vec!["city".into()]
            }
        );
        assert_eq!(err.to_string(), "undefined variable `city`");
    }

    #[test]
    fn values_are_not_reparsed() {
        let mut t = Templates::new();
        t.add("p", "{{ x }}").unwrap();
        assert_eq!(
            t.render("p", &vars(json!({"x": "{{ y }}"}))).unwrap(),
            "{{ y }}"
        );
    }

    #[test]
    fn dump_is_compact_json() {
        let mut t = Templates::new();
        t.add("p", "{{ x | dump }}").unwrap();
        assert_eq!(
            t.render("p", &vars(json!({"x": {"a": [1, "b"]}}))).unwrap(),
            r#"{"a":[1,"b"]}"#
        );
    }

    #[test]
    fn load_parses_json_text() {
        let mut t = Templates::new();
        t.add("p", "{{ (x | load).tone }}").unwrap();
        assert_eq!(
            t.render("p", &vars(json!({"x": "{\"tone\": \"formal\"}"})))
                .unwrap(),
            "formal"
        );
    }

    #[test]
    fn syntax_errors_have_lines() {
        let mut t = Templates::new();
        let err = t.add("p", "line one\n{{ oops ").unwrap_err();
        assert!(
            matches!(err, TemplateError::Syntax { line: Some(2), .. }),
            "{err:?}"
        );
    }
}
