//! The command line (SPEC §4): argument parsing, loading the config and the database, and the
//! exit codes. Each command lives in its own module; `main.rs` only calls [`main`].
//!
//! Exit codes: 0 success; 1 error (config, database, nothing could run); 2 `plan
//! --detailed-exitcode` found changes; 3 partial (the cycle ran but a site could not be read or
//! written). Errors are printed on stderr as `error: …` with what failed, where, and what to do.

/// `println!` for command output, tolerant of a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

mod check;
mod inspect;
mod sync;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{self, Config, ProcessEnv};
use crate::logging::{self, LogFormat};

pub const EXIT_ERROR: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;
pub const EXIT_PARTIAL: u8 = 3;

#[derive(Parser, Debug)]
#[command(name = "unifi-dns-sync", version, about = "Keeps local DNS records consistent across many UniFi sites", long_about = None)]
pub struct Cli {
    /// Config file (TOML, or the earlier tool's controllers.json). Default: $UNIFI_DNS_SYNC_CONFIG,
    /// ./unifi-dns-sync.toml, /config/unifi-dns-sync.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL or path (overrides [database] url).
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less log output (-q warnings, -qq errors only).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The daemon: a sync cycle every interval until SIGTERM/SIGINT.
    Run {
        /// One cycle, then exit.
        #[arg(long)]
        once: bool,
        /// Plan every cycle but write nothing to any console.
        #[arg(long)]
        dry_run: bool,
    },
    /// One cycle now, applied; prints a summary.
    Sync {
        /// Apply deletes that the deletion threshold would withhold.
        #[arg(long)]
        force: bool,
        /// Apply only to this site (controller/site; repeatable). Every site is still read.
        #[arg(long = "site", value_name = "SITE")]
        sites: Vec<String>,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Discovery plus the plan: nothing is written to any console, nor to records, origins or copies.
    Plan {
        /// Exit 2 when the plan has changes (0 when none, 3 when a site could not be read).
        #[arg(long)]
        detailed_exitcode: bool,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Controllers, sites and the last run, from the database.
    Status {
        #[command(flatten)]
        output: OutputArg,
    },
    /// Each record with its origins and its copy state on every site.
    Records {
        /// Only records that involve this site (controller/site).
        #[arg(long)]
        site: Option<String>,
        /// Only names matching this glob (e.g. "*.hq.example").
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Sync events, newest first.
    History(HistoryArgs),
    /// Validates the config and checks every controller: reachable, TLS, key, version, sites.
    Check {
        #[command(flatten)]
        output: OutputArg,
    },
    /// Prints the SHA-256 fingerprint of the certificate a console presents.
    Fingerprint {
        /// The console's URL, e.g. https://192.168.1.1
        url: String,
    },
    /// Simulated consoles, a temporary database and the daemon with its dashboard, in one
    /// process; keeps changing the simulated sites so propagation can be watched.
    Demo {
        /// Address of the dashboard.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Only events newer than this (e.g. 1h, 7d).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Only events of this site (controller/site).
    #[arg(long)]
    pub site: Option<String>,
    /// Only records whose name matches this glob.
    #[arg(long)]
    pub domain: Option<String>,
    /// Only events with this status (CREATED, UPDATED, DELETED, SKIPPED, FAILED).
    #[arg(long)]
    pub status: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub output: OutputArg,
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Consistent online backup of the database into FILE (which must not exist).
    Backup { file: PathBuf },
    /// Deletes sync events older than the retention (default: [sync] history_retention).
    Prune {
        #[arg(long, value_name = "DURATION")]
        older_than: Option<String>,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArg {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// A command's failure: the message for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn error(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: EXIT_ERROR,
        }
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::error(e.to_string())
    }
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let log_format = cli.log_format;
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            match log_format {
                // Every stderr line stays a JSON object for log collectors. `run` has installed
                // the subscriber before any failure; `init` is a no-op then.
                LogFormat::Json => {
                    logging::init(log_format, 0, None);
                    tracing::error!("error: {}", f.message);
                }
                LogFormat::Text => eprintln!("error: {}", f.message),
            }
            ExitCode::from(f.code)
        }
    }
}

/// Runs a parsed command; `Ok` carries the exit code (0, 2 or 3).
pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let verbosity = cli.verbose as i8 - cli.quiet as i8;
    if let Command::Demo { listen } = &cli.command {
        logging::init(cli.log_format, verbosity, None);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            sync::wait_for_signal().await;
            signal.cancel();
        });
        return crate::demo::run(*listen, shutdown)
            .await
            .map_err(Failure::error);
    }
    if let Command::Fingerprint { url } = &cli.command {
        logging::init(cli.log_format, verbosity, None);
        return check::fingerprint(url, cli.log_format).await;
    }
    let loaded = config::load(cli.config.as_deref(), &ProcessEnv);
    let config = match loaded {
        Ok(c) => c,
        Err(e) => {
            logging::init(cli.log_format, verbosity, None);
            if let Command::Check { output } = &cli.command {
                return check::invalid_config(&e, output.output);
            }
            return Err(Failure::error(e.to_string()));
        }
    };
    logging::init(cli.log_format, verbosity, config.log_level.as_deref());
    config.log_warnings();
    let config = with_database(config, cli.database.as_deref());
    match cli.command {
        Command::Run { once, dry_run } => sync::run(config, once, dry_run).await,
        Command::Sync {
            force,
            sites,
            output,
        } => sync::sync(config, force, sites, output.output).await,
        Command::Plan {
            detailed_exitcode,
            output,
        } => sync::plan(config, detailed_exitcode, output.output).await,
        Command::Status { output } => inspect::status(&config, output.output).await,
        Command::Records {
            site,
            domain,
            output,
        } => inspect::records(&config, site.as_deref(), domain.as_deref(), output.output).await,
        Command::History(args) => inspect::history(&config, &args).await,
        Command::Check { output } => check::check(&config, output.output).await,
        Command::Db {
            command: DbCommand::Backup { file },
        } => inspect::backup(&config, &file).await,
        Command::Db {
            command: DbCommand::Prune { older_than },
        } => inspect::prune(&config, older_than.as_deref()).await,
        Command::Fingerprint { .. } | Command::Demo { .. } => Ok(0),
    }
}

fn with_database(mut config: Config, database: Option<&str>) -> Config {
    if let Some(url) = database {
        config.database.url = url.to_owned();
    }
    config
}

/// Prints JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::error(format!("cannot encode the output as JSON: {e}")))?;
    out!("{text}");
    Ok(())
}

/// Writes a line on stdout; a closed pipe (`… | head`) ends the program quietly instead of
/// panicking like `println!`.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}
