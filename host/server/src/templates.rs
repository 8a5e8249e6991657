//! JSON templates (webhooks' events, automations' parameters and
//! payloads): every string inside a JSON value is a Jinja template
//! (minijinja, Prefect's template language) rendered against a context. A
//! string that is one `{{ expression }}` and nothing else keeps the
//! expression's JSON type (a number stays a number, an object an object);
//! any other string renders to a string. Templates come from API callers,
//! so rendering is bounded (fuel) and never panics.

use minijinja::Environment;
use serde_json::Value;

/// How much work one string may take to render.
const FUEL: u64 = 50_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env
}

/// The single expression of `s` when it is `{{ expr }}` and nothing else.
fn lone_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

/// Renders `template` against `context`.
pub fn render(template: &Value, context: &Value) -> Result<Value, String> {
    let env = environment();
    let ctx = minijinja::Value::from_serialize(context);
    render_in(&env, template, &ctx)
}

fn render_in(
    env: &Environment<'static>,
    template: &Value,
    ctx: &minijinja::Value,
) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => render_string(env, s, ctx)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_in(env, v, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_in(env, v, ctx)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn render_string(
    env: &Environment<'static>,
    s: &str,
    ctx: &minijinja::Value,
) -> Result<Value, String> {
    if !s.contains("{{") && !s.contains("{%") {
        return Ok(Value::String(s.to_string()));
    }
    if let Some(expr) = lone_expression(s) {
        let value = env
            .compile_expression(expr)
            .and_then(|e| e.eval(ctx))
            .map_err(|e| format!("template {s:?}: {e}"))?;
        if value.is_undefined() {
            return Ok(Value::Null);
        }
        return serde_json::to_value(&value).map_err(|e| format!("template {s:?}: {e}"));
    }
    env.render_str(s, ctx)
        .map(Value::String)
        .map_err(|e| format!("template {s:?}: {e}"))
}

/// Checks that every string of `template` parses as a template.
pub fn check(template: &Value) -> Result<(), String> {
    let env = environment();
    match template {
        Value::String(s) => {
            if let Some(expr) = lone_expression(s) {
                env.compile_expression(expr)
                    .map(drop)
                    .map_err(|e| format!("template {s:?}: {e}"))
            } else {
                env.template_from_str(s)
                    .map(drop)
                    .map_err(|e| format!("template {s:?}: {e}"))
            }
        }
        Value::Array(items) => items.iter().try_for_each(check),
        Value::Object(map) => map.values().try_for_each(check),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lone_expressions_keep_their_type_and_text_renders() {
        let ctx = json!({"body": {"file": "a.csv", "size": 12, "tags": ["x"]}});
        let t = json!({
            "event": "file.uploaded",
            "path": "{{ body.file }}",
            "size": "{{ body.size }}",
            "tags": "{{ body.tags }}",
            "label": "got {{ body.file }} ({{ body.size }} bytes)",
            "missing": "{{ body.nope }}",
            "n": 3,
        });
        assert_eq!(
            render(&t, &ctx).unwrap(),
            json!({
                "event": "file.uploaded",
                "path": "a.csv",
                "size": 12,
                "tags": ["x"],
                "label": "got a.csv (12 bytes)",
                "missing": null,
                "n": 3,
            })
        );
    }

    #[test]
    fn bad_and_runaway_templates_are_errors() {
        assert!(check(&json!({"x": "{{ body. }}"})).is_err());
        assert!(check(&json!(["{% for %}"])).is_err());
        let endless = json!(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
        );
        assert!(render(&endless, &json!({})).is_err());
    }
}
