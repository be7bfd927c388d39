//! JavaScript in an embedded QuickJS engine (rquickjs; cargo feature `javascript`, on by
//! default).
//!
//! Each call gets a fresh runtime (no state leaks from one case to the next) with a memory cap
//! and a deadline. Inline code becomes `function(<input>, context, process) { body }`; a file
//! is run as a CommonJS module (`module.exports = …`, `exports.fn = …`) or, when it uses
//! `export`, as an ES module, and the named function, the module itself when it is a function,
//! or its default export is called with `(<input>, context)`. `require` and `import` of other
//! modules are not available (an error says so); `console.*` does nothing; `process.env` is
//! empty. A returned promise is awaited.

use std::time::Duration;

use serde_json::Value;

use super::Code;

/// How long one call may run.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Whether this build has the JavaScript engine.
pub const AVAILABLE: bool = cfg!(feature = "javascript");

/// Calls `code` with the named parameters bound to `args` (JSON in, JSON out; `undefined` is
/// `None`). `body` turns inline code into a function body (see [`super::js_assertion_body`]).
pub fn call(
    code: &Code,
    body: fn(&str) -> String,
    params: &[&str],
    args: &[&Value],
) -> Result<Option<Value>, String> {
    #[cfg(feature = "javascript")]
    {
        engine::call(code, body, params, args)
    }
    #[cfg(not(feature = "javascript"))]
    {
        let _ = (code, body, params, args);
        Err(unavailable())
    }
}

/// The error for a build without the engine.
pub fn unavailable() -> String {
    "this promptdrift was built without JavaScript support (cargo feature `javascript`); \
     rebuild with default features to run `javascript` assertions and transforms"
        .into()
}

#[cfg(feature = "javascript")]
mod engine {
    use std::time::Instant;

    use rquickjs::{Context, Ctx, Function, Object, Promise, Runtime, Value as JsValue};
    use serde_json::Value;

    use super::super::Code;
    use super::TIMEOUT;

    const MEMORY_LIMIT: usize = 512 * 1024 * 1024;

    /// Globals every script sees.
    const PRELUDE: &str = r#"
globalThis.console = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
globalThis.__pd_require = function (name) {
  throw new Error("require('" + name + "') is not available: promptdrift runs JavaScript in an embedded engine without Node modules");
};
globalThis.require = globalThis.__pd_require;
globalThis.process = { env: {}, mainModule: { require: globalThis.__pd_require } };
"#;

    pub(super) fn call(
        code: &Code,
        body: fn(&str) -> String,
        params: &[&str],
        args: &[&Value],
    ) -> Result<Option<Value>, String> {
        let rt = Runtime::new().map_err(|e| format!("cannot start the JavaScript engine: {e}"))?;
        rt.set_memory_limit(MEMORY_LIMIT);
        let deadline = Instant::now() + TIMEOUT;
        rt.set_interrupt_handler(Some(Box::new(move || Instant::now() > deadline)));
        let ctx =
            Context::full(&rt).map_err(|e| format!("cannot start the JavaScript engine: {e}"))?;
        let out = ctx.with(|ctx| -> Result<Option<Value>, String> {
            ctx.eval::<(), _>(PRELUDE).map_err(|e| caught(&ctx, e))?;
            let func = function(&ctx, code, body, params)?;
            let mut js_args = rquickjs::function::Args::new(ctx.clone(), args.len() + 1);
            for a in args {
                let v = ctx.json_parse(a.to_string()).map_err(|e| caught(&ctx, e))?;
                js_args.push_arg(v).map_err(|e| caught(&ctx, e))?;
            }
            let process: JsValue = ctx.globals().get("process").map_err(|e| caught(&ctx, e))?;
            js_args.push_arg(process).map_err(|e| caught(&ctx, e))?;
            let ret: JsValue = func.call_arg(js_args).map_err(|e| caught(&ctx, e))?;
            let ret = match ret.as_promise() {
                Some(p) => p.clone().finish::<JsValue>().map_err(|e| caught(&ctx, e))?,
                None => ret,
            };
            to_json(&ctx, ret)
        });
        if Instant::now() > deadline {
            return Err(format!(
                "the JavaScript code ran longer than {} s and was stopped",
                TIMEOUT.as_secs()
            ));
        }
        out
    }

    fn function<'js>(
        ctx: &Ctx<'js>,
        code: &Code,
        body: fn(&str) -> String,
        params: &[&str],
    ) -> Result<Function<'js>, String> {
        match code {
            Code::Inline(src) => {
                let text = format!(
                    "(function ({}, process) {{\n{}\n}})",
                    params.join(", "),
                    body(src)
                );
                ctx.eval::<Function, _>(text)
                    .map_err(|e| format!("syntax error in the JavaScript code: {}", caught(ctx, e)))
            }
            Code::File { path, function } => {
                let src = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                let exports = if is_es_module(&src) {
                    es_module(ctx, path, &src)?
                } else {
                    common_js(ctx, path, &src)?
                };
                pick(&exports, function.as_deref(), path)
            }
        }
    }

    fn is_es_module(src: &str) -> bool {
        src.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("export ") || l.starts_with("export{") || l.starts_with("import ")
        })
    }

    fn common_js<'js>(
        ctx: &Ctx<'js>,
        path: &std::path::Path,
        src: &str,
    ) -> Result<JsValue<'js>, String> {
        let text = format!(
            "(function () {{ const module = {{ exports: {{}} }}; let exports = module.exports; \
             const require = globalThis.__pd_require; const __filename = {file}; \
             const __dirname = {dir};\n{src}\n;return module.exports; }})()",
            file = serde_json::to_string(&path.display().to_string()).unwrap_or_default(),
            dir = serde_json::to_string(
                &path
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
            .unwrap_or_default(),
        );
        ctx.eval::<JsValue, _>(text)
            .map_err(|e| format!("error in `{}`: {}", path.display(), caught(ctx, e)))
    }

    fn es_module<'js>(
        ctx: &Ctx<'js>,
        path: &std::path::Path,
        src: &str,
    ) -> Result<JsValue<'js>, String> {
        let name = path.display().to_string();
        let declared = rquickjs::Module::declare(ctx.clone(), name.clone(), src.to_string())
            .map_err(|e| format!("error in `{name}`: {}", caught(ctx, e)))?;
        let (module, promise) = declared
            .eval()
            .map_err(|e| format!("error in `{name}`: {}", caught(ctx, e)))?;
        promise
            .finish::<()>()
            .map_err(|e| format!("error in `{name}`: {}", caught(ctx, e)))?;
        let ns = module
            .namespace()
            .map_err(|e| format!("error in `{name}`: {}", caught(ctx, e)))?;
        Ok(ns.into_value())
    }

    fn pick<'js>(
        exports: &JsValue<'js>,
        function: Option<&str>,
        path: &std::path::Path,
    ) -> Result<Function<'js>, String> {
        if let Some(name) = function {
            return exports
                .as_object()
                .and_then(|o| o.get::<_, Function>(name).ok())
                .ok_or_else(|| format!("`{}` exports no function `{name}`", path.display()));
        }
        if let Some(f) = exports.as_function() {
            return Ok(f.clone());
        }
        let obj: Option<&Object> = exports.as_object();
        obj.and_then(|o| o.get::<_, Function>("default").ok())
            .ok_or_else(|| {
                format!(
                    "`{}` must export a function (module.exports = …, or a default export), or name one as `file://{}:name`",
                    path.display(),
                    path.display()
                )
            })
    }

    /// The pending exception's message (and stack when there is one).
    fn caught(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
        if !e.is_exception() {
            return e.to_string();
        }
        let ex = ctx.catch();
        if let Some(obj) = ex.as_object() {
            let message: Option<String> = obj.get("message").ok();
            let name: Option<String> = obj.get("name").ok();
            if let Some(m) = message {
                return match name {
                    Some(n) if !n.is_empty() && n != "Error" => format!("{n}: {m}"),
                    _ => m,
                };
            }
        }
        if ex.is_null() || ex.is_undefined() {
            return "interrupted".into();
        }
        ex.as_string()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| "JavaScript exception".into())
    }

    fn to_json<'js>(ctx: &Ctx<'js>, v: JsValue<'js>) -> Result<Option<Value>, String> {
        if v.is_undefined() || v.is_function() {
            return Ok(None);
        }
        let Some(text) = ctx.json_stringify(v).map_err(|e| caught(ctx, e))? else {
            return Ok(None);
        };
        let text = text.to_string().map_err(|e| e.to_string())?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("cannot read the JavaScript result: {e}"))
    }

    #[allow(dead_code)]
    fn _promise_type_check(p: Promise<'_>) -> Promise<'_> {
        p
    }
}

#[cfg(all(test, feature = "javascript"))]
mod tests {
    use super::*;
    use crate::script::{js_assertion_body, js_transform_body};
    use serde_json::json;

    fn run(code: &str, output: Value) -> Result<Option<Value>, String> {
        call(
            &Code::Inline(code.into()),
            js_assertion_body,
            &["output", "context"],
            &[&output, &json!({"vars": {"x": 2}})],
        )
    }

    #[test]
    fn expressions_bodies_and_results() {
        assert_eq!(
            run("output.length > 2", json!("abcd")).unwrap(),
            Some(json!(true))
        );
        assert_eq!(
            run("context.vars.x * 2", json!("")).unwrap(),
            Some(json!(4))
        );
        assert_eq!(
            run("const n = output.split(' ').length; ({pass: n === 2, score: 0.5, reason: 'n=' + n})", json!("a b")).unwrap(),
            Some(json!({"pass": true, "score": 0.5, "reason": "n=2"}))
        );
        assert_eq!(
            run(
                "if (output.startsWith('a')) {\n  return 1;\n}\nreturn 0;",
                json!("abc")
            )
            .unwrap(),
            Some(json!(1))
        );
        let t = call(
            &Code::Inline("JSON.parse(output).countries".into()),
            js_transform_body,
            &["output", "context"],
            &[&json!("{\"countries\": [\"FR\"]}"), &json!({})],
        )
        .unwrap();
        assert_eq!(t, Some(json!(["FR"])));
    }

    #[test]
    fn errors_are_messages() {
        let e = run("output.nope.deeper", json!("x")).unwrap_err();
        assert!(e.contains("TypeError"), "{e}");
        let e = run("require('fs')", json!("x")).unwrap_err();
        assert!(e.contains("require('fs') is not available"), "{e}");
        let e = run("while (true) {}\nreturn 1", json!("x")).unwrap_err();
        assert!(e.contains("longer than"), "{e}");
        let e = run("(", json!("x")).unwrap_err();
        assert!(e.contains("syntax error"), "{e}");
    }

    #[test]
    fn files_commonjs_and_es_modules() {
        let dir = tempfile::tempdir().unwrap();
        let cjs = dir.path().join("a.js");
        std::fs::write(&cjs, "module.exports = (output, context) => output === context.vars.want;\nmodule.exports.named = (o) => ({pass: false, reason: 'named ' + o});").unwrap();
        let ctx = json!({"vars": {"want": "yes"}});
        let out = call(
            &Code::File {
                path: cjs.clone(),
                function: None,
            },
            js_assertion_body,
            &["output", "context"],
            &[&json!("yes"), &ctx],
        )
        .unwrap();
        assert_eq!(out, Some(json!(true)));
        let out = call(
            &Code::File {
                path: cjs,
                function: Some("named".into()),
            },
            js_assertion_body,
            &["output", "context"],
            &[&json!("x"), &ctx],
        )
        .unwrap();
        assert_eq!(out, Some(json!({"pass": false, "reason": "named x"})));
        let esm = dir.path().join("b.mjs");
        std::fs::write(&esm, "export default async function (output) { return output.length; }\nexport function twice(o) { return o + o; }").unwrap();
        let out = call(
            &Code::File {
                path: esm.clone(),
                function: None,
            },
            js_assertion_body,
            &["output", "context"],
            &[&json!("abc"), &ctx],
        )
        .unwrap();
        assert_eq!(out, Some(json!(3)));
        let out = call(
            &Code::File {
                path: esm,
                function: Some("twice".into()),
            },
            js_assertion_body,
            &["output", "context"],
            &[&json!("ab"), &ctx],
        )
        .unwrap();
        assert_eq!(out, Some(json!("abab")));
    }
}
