//! The doc comments of the WIT interface, read from `wit/contree-auth.wit`
//! as it was at compile time: a tool's description is the doc comment of
//! the WIT function it calls, so the text lives once, in the WIT file.

/// The WIT source the component was built with.
pub const WIT_SOURCE: &str = include_str!("../../wit/contree-auth.wit");

/// The `///` doc comment just above `name: func(...)` (any `async` or
/// `static` keyword before `func` allowed), lines joined with `\n`, or
/// `None` when the function is missing or undocumented.
pub fn function_doc(source: &str, name: &str) -> Option<String> {
    let mut doc: Vec<&str> = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.strip_prefix(' ').unwrap_or(text));
            continue;
        }
        if declares_function(line, name) {
            return (!doc.is_empty()).then(|| doc.join("\n").trim().to_string());
        }
        // Attributes such as `@since(...)` sit between a doc and its item.
        if !line.starts_with('@') {
            doc.clear();
        }
    }
    None
}

fn declares_function(line: &str, name: &str) -> bool {
    // A world exports its functions itself (`export name: func`, WIT 0.3.0).
    let line = line.strip_prefix("export ").unwrap_or(line);
    let Some(rest) = line.strip_prefix(name) else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix(':') else {
        return false;
    };
    rest.split_whitespace()
        .find(|word| !matches!(*word, "async" | "static"))
        .is_some_and(|word| word == "func" || word.starts_with("func("))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_doc_right_above_the_function() {
        let wit = "\
interface x {
    /// Not this one.
    record r { a: u32 }

    /// First line.
    ///
    /// Second paragraph.
    @since(version = 0.2.0)
    list-profiles: func(offline: bool) -> u32;
    whoami: func();
    /// Exported by a world.
    export remove-profile: func();
    /// Ignored: another function's name starts the same.
    whoami-extra: func();
    /// Async.
    save-profile: async func();
}";
        assert_eq!(
            function_doc(wit, "list-profiles").as_deref(),
            Some("First line.\n\nSecond paragraph.")
        );
        assert_eq!(function_doc(wit, "whoami"), None, "undocumented");
        assert_eq!(function_doc(wit, "save-profile").as_deref(), Some("Async."));
        assert_eq!(
            function_doc(wit, "remove-profile").as_deref(),
            Some("Exported by a world.")
        );
        assert_eq!(function_doc(wit, "switch-profile"), None, "missing");
    }

    #[test]
    fn every_operation_is_documented_in_the_shipped_wit() {
        for name in [
            "list-profiles",
            "whoami",
            "switch-profile",
            "remove-profile",
            "save-profile",
        ] {
            let doc = function_doc(WIT_SOURCE, name);
            assert!(
                doc.as_deref().is_some_and(|d| !d.is_empty()),
                "wit/contree-auth.wit has no doc comment for {name}"
            );
        }
    }
}
