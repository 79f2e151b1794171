//! `${Name}` templates in a flow's texts.

use std::collections::BTreeMap;

/// The system parameters every flow knows from its start.
pub const SYSTEM_PARAMS: [&str; 7] = [
    "WaitNo",
    "StaffNo",
    "StaffNickName",
    "ChannelId",
    "ChannelName",
    "UserId",
    "SystemSessionId",
];

/// The variables a template names, in order, or the first malformed `${`.
pub fn variables(template: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        let after = &rest[at + 2..];
        let end = after.find('}').ok_or_else(|| {
            format!(
                "\"${{\" at {} is never closed",
                template.len() - rest.len() + at
            )
        })?;
        let name = &after[..end];
        if !is_name(name) {
            return Err(format!("${{{name}}} is not a variable name"));
        }
        out.push(name);
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// Whether `name` can name a variable: a letter or `_`, then letters, digits and `_`, at
/// most 64 characters.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= super::MAX_ID_CHARS
}

/// The template with every `${Name}` replaced by its value (empty when unknown; validation
/// makes sure every name is defined upstream, so only a value the shell has not learnt yet,
/// such as `${StaffNo}` before an agent took the session, is empty).
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find('}') {
            Some(end) if is_name(&after[..end]) => {
                if let Some(v) = vars.get(&after[..end]) {
                    out.push_str(v);
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_and_values_put_in() {
        let t = "There are ${WaitNo} ahead of you, ${UserId}.";
        assert_eq!(variables(t).unwrap(), vec!["WaitNo", "UserId"]);
        let vars = BTreeMap::from([("WaitNo".to_owned(), "3".to_owned())]);
        assert_eq!(render(t, &vars), "There are 3 ahead of you, .");
        assert_eq!(render("no vars", &vars), "no vars");
        assert_eq!(render("${WaitNo}${WaitNo}", &vars), "33");
    }

    #[test]
    fn malformed_templates_are_named() {
        assert!(
            variables("a ${WaitNo")
                .unwrap_err()
                .contains("never closed")
        );
        assert!(variables("${1x}").unwrap_err().contains("not a variable"));
        assert!(variables("${}").is_err());
        // Rendering never fails: what is not a variable stays as written.
        let vars = BTreeMap::new();
        assert_eq!(render("${1x} and ${open", &vars), "${1x} and ${open");
    }

    proptest::proptest! {
        #[test]
        fn rendering_any_text_never_panics(text in ".{0,80}") {
            let vars = BTreeMap::from([("A".to_owned(), "x".to_owned())]);
            let _ = render(&text, &vars);
            let _ = variables(&text);
        }
    }
}
