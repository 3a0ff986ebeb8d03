//! Logging setup: `tracing` to stderr (stdout is kept for command output such as tokens),
//! level from `KEFU_LOG`, then `RUST_LOG`, then `info` (html5ever's repair notes at `error`);
//! text or JSON lines.

use crate::cli::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init(format: LogFormat) {
    let directives = std::env::var("KEFU_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        // html5ever (under the HTML sanitiser) warns about every malformed mail it repairs.
        .unwrap_or_else(|_| "info,html5ever=error".to_string());
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: ignoring invalid log filter {directives:?}: {e}");
        EnvFilter::new("info")
    });
    // Colours only on a terminal, and never with NO_COLOR set (https://no-color.org).
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
