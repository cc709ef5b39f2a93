//! Logging: human-readable lines on a terminal, JSON with `--log-format json`; always on stderr
//! so command output on stdout stays parseable.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. The level comes from `RUST_LOG` if set, else `-v`/`-q`, else
/// the config's `LOG_LEVEL`, else `info`.
pub fn init(format: LogFormat, verbosity: i8, config_level: Option<&str>) {
    let level = match verbosity {
        i8::MIN..=-2 => "error",
        -1 => "warn",
        0 => config_level.unwrap_or("info"),
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{level},hyper=warn,reqwest=warn,rustls=warn,sqlx=warn,h2=warn{}",
            if verbosity > 0 {
                ""
            } else {
                ",unifi_dns_sync_store=warn"
            }
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests running commands in one process) is harmless.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
