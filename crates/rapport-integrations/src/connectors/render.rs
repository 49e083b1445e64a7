//! Templates: `{{name}}` placeholders filled from a message's variables (`to`, `text`,
//! `subject`, `params.<key>`, `record.<field>`, …), escaped for where the text goes — JSON
//! string contents, a URL component, HTML, or as is. A placeholder naming no variable is an
//! error, never an empty hole; a variable that is null fills in empty. A placeholder may pass
//! its value through a filter (`{{record.stage | map:ERP}}`: the semantic dictionary), which
//! the caller supplies.

use serde_json::{Map, Value as Json};
use std::fmt::Write;

/// Where the rendered text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    Plain,
    /// Inside a JSON string literal: quotes, backslashes and control characters escaped.
    Json,
    /// A URL component: percent-encoded.
    Url,
    Html,
}

/// The longest template or rendering.
pub const MAX_TEMPLATE: usize = 64 * 1024;

/// Applies a placeholder's filter: (variable name, filter text, value) → the value to show.
pub type Filter<'a> = &'a dyn Fn(&str, &str, &Json) -> Result<Json, String>;

/// `template` with its placeholders filled; the error names the unknown placeholder.
pub fn render(template: &str, vars: &Map<String, Json>, escape: Escape) -> Result<String, String> {
    render_with(template, vars, escape, &|_, filter, _| {
        Err(format!("unknown filter {filter:?}"))
    })
}

/// [`render`] with the placeholders' filters applied by `filter`.
pub fn render_with(
    template: &str,
    vars: &Map<String, Json>,
    escape: Escape,
    filter: Filter<'_>,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a {{ placeholder is not closed".into());
        };
        let (name, filter_text) = match after[..end].split_once('|') {
            Some((name, f)) => (name.trim(), Some(f.trim())),
            None => (after[..end].trim(), None),
        };
        let value = lookup(vars, name).ok_or_else(|| format!("no variable {name:?}"))?;
        let value = match filter_text {
            Some(f) => filter(name, f, value)?,
            None => value.clone(),
        };
        push_escaped(&mut out, &text_of(&value), escape);
        if out.len() > MAX_TEMPLATE {
            return Err(format!("the rendering is over {} KB", MAX_TEMPLATE / 1024));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup<'a>(vars: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    if name.is_empty() {
        return None;
    }
    let mut parts = name.split('.');
    let mut value = vars.get(parts.next()?)?;
    for part in parts {
        value = match value {
            Json::Object(map) => map.get(part)?,
            Json::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// A value as text: strings as they are, null as nothing, the rest as JSON.
pub fn text_of(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push_escaped(out: &mut String, text: &str, escape: Escape) {
    match escape {
        Escape::Plain => out.push_str(text),
        Escape::Json => {
            let quoted = Json::String(text.to_string()).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
        Escape::Url => {
            for byte in text.bytes() {
                if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                    out.push(byte as char);
                } else {
                    let _ = write!(out, "%{byte:02X}");
                }
            }
        }
        Escape::Html => out.push_str(&html(text)),
    }
}

/// Text made safe inside HTML.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Map<String, Json> {
        json!({
            "to": "+8613800000000",
            "text": "他说 \"你好\"\n<b>",
            "record": {"name": "华为 & Co", "amount": 1200.5, "owner": null},
            "items": ["a", "b"],
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn placeholders_are_filled_and_escaped_for_their_place() {
        let v = vars();
        assert_eq!(
            render(r#"{"t": "{{ text }}"}"#, &v, Escape::Json).unwrap(),
            r#"{"t": "他说 \"你好\"\n<b>"}"#
        );
        let body: Json =
            serde_json::from_str(&render(r#"{"t": "{{text}}"}"#, &v, Escape::Json).unwrap())
                .unwrap();
        assert_eq!(body["t"], "他说 \"你好\"\n<b>");
        assert_eq!(
            render("/q?n={{record.name}}", &v, Escape::Url).unwrap(),
            "/q?n=%E5%8D%8E%E4%B8%BA%20%26%20Co"
        );
        assert_eq!(
            render("<p>{{text}}</p>", &v, Escape::Html).unwrap(),
            "<p>他说 &quot;你好&quot;\n&lt;b&gt;</p>"
        );
        assert_eq!(
            render(
                "{{record.amount}}|{{record.owner}}|{{items.1}}",
                &v,
                Escape::Plain
            )
            .unwrap(),
            "1200.5||b"
        );
    }

    #[test]
    fn an_unknown_placeholder_is_an_error() {
        let v = vars();
        assert_eq!(
            render("{{record.nmae}}", &v, Escape::Plain).unwrap_err(),
            "no variable \"record.nmae\""
        );
        assert!(render("{{ to", &v, Escape::Plain).is_err());
        assert!(render("{{}}", &v, Escape::Plain).is_err());
        assert_eq!(
            render("{{ to | upper }}", &v, Escape::Plain).unwrap_err(),
            "unknown filter \"upper\""
        );
        let upper = |_: &str, f: &str, v: &Json| {
            assert_eq!(f, "upper");
            Ok(Json::String(text_of(v).to_uppercase()))
        };
        assert_eq!(
            render_with("{{ record.name|upper }}", &v, Escape::Plain, &upper).unwrap(),
            "华为 & CO"
        );
        assert_eq!(render("no holes", &v, Escape::Plain).unwrap(), "no holes");
    }
}
