//! The harness: simulated consoles in this process (HTTPS, self-signed certificates), the real
//! binary as a child process, a temporary directory for the config file and the database, and the
//! API keys in the child's environment.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use unifi_sim::{Console, ConsoleSpec, Scenario, Simulator, SiteSpec};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_unifi-dns-sync");

/// API keys: distinctive strings, so that finding one anywhere is never a coincidence.
pub const HQ_KEY: &str = "hq-Kx7q2Zt9secretValue-81f0c3a95d2e";
pub const BRANCH_KEY: &str = "branch-Pw4m8Ln3secretValue-4b7e19d06ca8";

/// Variables of the parent that would change the child's behaviour.
const LEGACY_VARS: [&str; 6] = [
    "CONFIG_PATH",
    "SYNC_INTERVAL_SECONDS",
    "DB_PATH",
    "LOG_LEVEL",
    "WEB_UI_PORT",
    "RUST_LOG",
];

/// A finished child: exit code and output.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`unifi-dns-sync {}` exited {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

impl Run {
    /// Asserts the exit code; returns self for chaining.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        assert_eq!(self.code, expected, "unexpected exit code: {self:?}");
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.code(0)
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}: {self:?}"
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:?}"
        );
        self
    }

    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A command for the binary with a clean environment: none of the parent's
/// `UNIFI_DNS_SYNC_*`, legacy or `RUST_LOG` variables, working directory `cwd`.
pub fn command(
    cwd: &Path,
    args: &[String],
    env: &BTreeMap<String, String>,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(args).current_dir(cwd).stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("UNIFI_DNS_SYNC") || LEGACY_VARS.contains(&name.as_str()) {
            cmd.env_remove(&name);
        }
    }
    cmd.envs(env);
    cmd
}

/// Runs the binary to completion on a blocking thread, so the in-process simulator keeps
/// serving meanwhile.
pub async fn run_bin(cwd: &Path, args: &[String], env: &BTreeMap<String, String>) -> Run {
    let mut cmd = command(cwd, args, env);
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the blocking task runs")
        .expect("the binary starts");
    Run {
        args: args.to_vec(),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A child left running (the daemon); killed if the test ends without waiting for it.
pub struct Daemon {
    child: std::process::Child,
    exited: Option<std::process::ExitStatus>,
}

impl Daemon {
    /// Watches a child started with [`command`].
    pub fn new(child: std::process::Child) -> Daemon {
        Daemon {
            child,
            exited: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM with `kill -TERM <pid>`.
    pub async fn sigterm(&self) {
        let pid = self.pid().to_string();
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
        })
        .await
        .expect("the blocking task runs")
        .expect("kill runs");
        assert!(status.success(), "kill -TERM {}: {status}", self.pid());
    }

    /// Waits for the exit, polling; `None` if it is still running after `deadline`.
    pub async fn wait(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.exited = Some(status);
                return Some(status);
            }
            if start.elapsed() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Simulated consoles plus a directory holding the config and the database.
pub struct World {
    pub sim: Simulator,
    pub dir: tempfile::TempDir,
    /// The child's environment: `TEST_KEY_<CONSOLE>` = the console's key.
    pub env: BTreeMap<String, String>,
}

impl World {
    /// Starts the consoles and writes the default config ([`World::config_text`]).
    pub async fn start(scenario: Scenario) -> World {
        let sim = Simulator::start(&scenario).await.expect("simulator starts");
        let env = sim
            .consoles()
            .iter()
            .map(|c| (key_var(c.name()), c.api_key().to_owned()))
            .collect();
        let world = World {
            sim,
            dir: tempfile::tempdir().expect("temp dir"),
            env,
        };
        world.write_config(&world.config_text());
        world
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("unifi-dns-sync.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("dns_sync.db")
    }

    /// Every console as a `[[controller]]` with its key in `TEST_KEY_<NAME>` and its certificate
    /// pinned; the web listener on an ephemeral port.
    pub fn config_text(&self) -> String {
        let mut text = format!(
            "[database]\nurl = \"{}\"\n\n[sync]\n\n[web]\nlisten = \"127.0.0.1:0\"\n",
            self.db_path().display()
        );
        for c in self.sim.consoles() {
            text.push_str(&unifi_dns_sync::demo::controller_toml(
                c,
                &key_var(c.name()),
                "timeout = \"5s\"\nrequests_per_second = 1000",
            ));
        }
        text
    }

    /// The default config with these lines added to `[sync]`.
    pub fn config_with_sync(&self, lines: &str) -> String {
        self.config_text()
            .replacen("[sync]\n", &format!("[sync]\n{lines}\n"), 1)
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("config written");
    }

    /// `--config <the config> ARGS`.
    fn args(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec![
            "--config".to_owned(),
            self.config_path().display().to_string(),
        ];
        all.extend(strings(args));
        all
    }

    /// Runs `unifi-dns-sync --config <config> ARGS` with the keys in the environment.
    pub async fn cli(&self, args: &[&str]) -> Run {
        run_bin(self.dir.path(), &self.args(args), &self.env).await
    }

    /// Like [`World::cli`] with environment changes (`None` removes a variable).
    pub async fn cli_env(&self, args: &[&str], changes: &[(&str, Option<&str>)]) -> Run {
        let mut env = self.env.clone();
        for (name, value) in changes {
            match value {
                Some(v) => env.insert((*name).to_owned(), (*v).to_owned()),
                None => env.remove(*name),
            };
        }
        run_bin(self.dir.path(), &self.args(args), &env).await
    }

    /// The child for `run` (daemon), stdout and stderr into files of the temp dir.
    pub fn spawn(&self, args: &[&str], log: &str) -> Daemon {
        let out = std::fs::File::create(self.dir.path().join(format!("{log}.out"))).unwrap();
        let err = std::fs::File::create(self.dir.path().join(format!("{log}.err"))).unwrap();
        let child = command(self.dir.path(), &self.args(args), &self.env)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the binary starts");
        Daemon {
            child,
            exited: None,
        }
    }

    pub fn read_log(&self, log: &str) -> String {
        let out =
            std::fs::read_to_string(self.dir.path().join(format!("{log}.out"))).unwrap_or_default();
        let err =
            std::fs::read_to_string(self.dir.path().join(format!("{log}.err"))).unwrap_or_default();
        format!("--- stdout ---\n{out}\n--- stderr ---\n{err}")
    }

    pub fn console(&self, name: &str) -> Arc<Console> {
        self.sim
            .console(name)
            .unwrap_or_else(|| panic!("no console {name}"))
    }

    /// `TYPE name value` of a site's policies, sorted.
    pub fn domains(&self, console: &str, site: &str) -> Vec<String> {
        let mut d: Vec<String> = self
            .console(console)
            .policies(site)
            .unwrap()
            .iter()
            .map(describe)
            .collect();
        d.sort();
        d
    }

    /// Every site's policies, by `console/site`.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for c in self.sim.consoles() {
            for site in c.state().sites {
                out.insert(
                    format!("{}/{}", c.name(), site.internal_reference),
                    self.domains(c.name(), &site.internal_reference),
                );
            }
        }
        out
    }

    pub fn reset_counters(&self) {
        for c in self.sim.consoles() {
            c.reset_counters();
        }
    }

    /// POST/PUT/DELETE on DNS policies, by console.
    pub fn writes(&self) -> BTreeMap<String, u64> {
        self.sim
            .consoles()
            .iter()
            .map(|c| (c.name().to_owned(), c.counters().writes()))
            .collect()
    }

    pub fn total_writes(&self) -> u64 {
        self.writes().values().sum()
    }

    /// A person creates a policy in the console.
    pub fn person_creates(&self, console: &str, site: &str, body: &Value) -> String {
        let mut b = body.clone();
        b["enabled"] = json!(true);
        self.console(console)
            .create_policy(site, &b)
            .unwrap_or_else(|e| panic!("{console}/{site}: create {body}: {e:?}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A person deletes the policy that [`describe`]s as `what`.
    pub fn person_deletes(&self, console: &str, site: &str, what: &str) {
        let c = self.console(console);
        let policies = c.policies(site).unwrap();
        let p = policies
            .iter()
            .find(|p| describe(p) == what)
            .unwrap_or_else(|| panic!("{console}/{site} has no {what}"));
        c.delete_policy(site, p["id"].as_str().unwrap().parse().unwrap())
            .unwrap_or_else(|e| panic!("{console}/{site}: delete {what}: {e:?}"));
    }
}

/// The environment variable holding a console's key.
pub fn key_var(console: &str) -> String {
    format!(
        "TEST_KEY_{}",
        console.to_ascii_uppercase().replace('-', "_")
    )
}

/// `TYPE domain value` of an API policy.
pub fn describe(p: &Value) -> String {
    let t = p["type"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches("_RECORD");
    let value = [
        "ipv4Address",
        "ipv6Address",
        "targetDomain",
        "text",
        "ipAddress",
    ]
    .iter()
    .find_map(|k| p.get(*k).and_then(Value::as_str))
    .unwrap_or_default();
    format!("{t} {} {value}", p["domain"].as_str().unwrap_or_default())
}

pub fn a(domain: &str, ip: &str) -> Value {
    json!({"type": "A_RECORD", "domain": domain, "ipv4Address": ip, "ttlSeconds": 300})
}

pub fn cname(domain: &str, target: &str) -> Value {
    json!({"type": "CNAME_RECORD", "domain": domain, "targetDomain": target, "ttlSeconds": 0})
}

/// The native records of [`two_consoles`], as [`describe`] prints them.
pub const NATIVE: [&str; 4] = [
    "A ci.lab.example 10.2.0.5",
    "A nas.hq.example 10.1.0.10",
    "A printer.branch.example 10.3.0.20",
    "CNAME files.hq.example nas.hq.example",
];

/// Two consoles, three sites: hq/default (an A and a CNAME), hq/lab (an A), branch/default (an A).
/// A full sync makes 8 copies.
pub fn two_consoles() -> Scenario {
    Scenario::new()
        .console(
            ConsoleSpec::new("hq", HQ_KEY)
                .site(
                    SiteSpec::new("default")
                        .policy(a("nas.hq.example", "10.1.0.10"))
                        .policy(cname("files.hq.example", "nas.hq.example")),
                )
                .site(SiteSpec::new("lab").policy(a("ci.lab.example", "10.2.0.5"))),
        )
        .console(
            ConsoleSpec::new("branch", BRANCH_KEY)
                .site(SiteSpec::new("default").policy(a("printer.branch.example", "10.3.0.20"))),
        )
}

pub const SITES: [(&str, &str); 3] = [("hq", "default"), ("hq", "lab"), ("branch", "default")];

/// Asserts that every site holds exactly the native records plus `extra` (sorted).
#[track_caller]
pub fn assert_converged(world: &World, extra: &[&str]) {
    let mut want: Vec<String> = NATIVE
        .iter()
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect();
    want.sort();
    for (console, site) in SITES {
        assert_eq!(world.domains(console, site), want, "{console}/{site}");
    }
}

/// Polls `check` every 50 ms until it returns `Some`, failing after `deadline`.
pub async fn poll<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "gave up after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The site entry of `status --output json`.
#[track_caller]
pub fn status_site<'a>(status: &'a Value, label: &str) -> &'a Value {
    status["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["site"] == label)
        .unwrap_or_else(|| panic!("no site {label} in {status:#}"))
}

/// The record entry of `records --output json` with this name.
#[track_caller]
pub fn record<'a>(records: &'a Value, name: &str) -> &'a Value {
    records
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no record {name} in {records:#}"))
}

/// `site → state` of a record's copies.
pub fn copy_states(record: &Value) -> BTreeMap<String, String> {
    record["copies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["site"].as_str().unwrap_or_default().to_owned(),
                c["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
