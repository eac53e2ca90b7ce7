//! `[LEVEL] message` lines on stderr, filtered by `-L/--log-level`.

use crate::sanitize::escape_controls;

/// One whole log line, `[LEVEL] message`, without the line end. Messages
/// quote names, URLs and server text, so control characters and bidi
/// overrides in them are escaped: no log line can write to the terminal
/// (OSC 52, cursor moves), reorder itself, or forge a second line.
pub fn line(level: Level, message: &str) -> String {
    format!("[{}] {}", level.label(), escape_controls(message))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// The name `-L/--log-level` takes.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    /// The whole stderr line for `message`, newline included.
    pub fn line(self, message: &str) -> String {
        format!("[{}] {message}\n", self.label())
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_is_one_line_with_controls_escaped() {
        let message = "profile 'x': error: HTTP 401: \u{1b}]52;c;QQ==\u{7}\u{202e}\n[INFO] forged";
        let line = line(Level::Error, message);
        assert_eq!(
            line,
            "[ERROR] profile 'x': error: HTTP 401: \\x1b]52;c;QQ==\\x07\\u202e\\x0a[INFO] forged"
        );
        assert!(!line.chars().any(crate::sanitize::is_unsafe));
        assert_eq!(self::line(Level::Info, "plain"), "[INFO] plain");
    }
}
