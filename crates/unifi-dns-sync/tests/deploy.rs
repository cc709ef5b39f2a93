//! Deployment artefacts (SPEC §8): the Helm chart `deploy/helm/unifi-dns-sync`, the `Dockerfile`
//! and the systemd unit `deploy/systemd/unifi-dns-sync.service`.
//!
//! The chart is rendered by Helm itself: `deploy/helm/tests/render.py` drives Helm v4's Go SDK
//! through the PyPI package `helm-python-sdk` (no `helm` binary, no cluster), which also validates
//! the values against `values.schema.json`. Needs `pip install helm-python-sdk pyyaml`; without
//! it these tests fail and say so.
//!
//! Beyond the shape of the manifests, the rendered ConfigMap is loaded by our own config loader
//! with the environment the Deployment gives the pod, and then run for real: the binary starts
//! with the container's args, env and mounts (each mount a temporary directory) against simulated
//! consoles, and the probes, the Docker HEALTHCHECK, `kubectl exec … status` and SIGTERM are
//! exercised as Kubernetes and Docker would.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use unifi_dns_sync::cli::{Cli, Command as CliCommand};
use unifi_dns_sync::config::{self, SecretSource, TlsMode};

const BIN: &str = env!("CARGO_BIN_EXE_unifi-dns-sync");
const PIP: &str = "pip install helm-python-sdk pyyaml";

/// Distinctive secrets: finding one anywhere is never a coincidence.
const HQ_KEY: &str = "hq-Zq81xT4secretKeyValue-aa17c3";
const BRANCH_KEY: &str = "branch-Mw27pR9secretKeyValue-5be90d";
const WEB_TOKEN: &str = "webtoken-Lk44vN2secretValue-0c0ffee";
const HQ_FINGERPRINT: &str = "sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

// ---------------------------------------------------------------------------------------------
// Paths and small helpers

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn chart_dir() -> PathBuf {
    root().join("deploy/helm/unifi-dns-sync")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Standard base64 (with padding), as Kubernetes stores Secret data.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c)
            .unwrap_or_else(|| panic!("{text:?} is not base64"));
        bits = (bits << 6) | v as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

/// `clap`'s view of a command line (`argv[0]` included).
fn parse_cli(argv: &[String]) -> Cli {
    Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{argv:?} is not a valid command line: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Rendering the chart with Helm

/// Fails the test, with the install line, when Python or the Helm SDK is missing.
fn require_helm() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let result = CHECK.get_or_init(|| {
        match Command::new("python3")
            .args(["-c", "import helm_python, yaml"])
            .output()
        {
            Err(e) => Err(format!(
                "python3 cannot be started ({e}): install Python 3, then run `{PIP}`"
            )),
            Ok(out) if !out.status.success() => Err(format!(
                "the Helm SDK for Python is missing ({}): run `{PIP}` (it bundles Helm v4's Go SDK; \
                 .ci/run installs it)",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Ok(_) => Ok(()),
        }
    });
    if let Err(message) = result {
        panic!("{message}");
    }
}

/// The objects Helm rendered, and NOTES.txt.
struct Rendered {
    /// (template path, object), in file order.
    objects: Vec<(String, Value)>,
    notes: String,
}

impl Rendered {
    fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|(_, o)| o["kind"] == kind)
            .map(|(_, o)| o)
            .collect()
    }

    fn has(&self, kind: &str) -> bool {
        !self.all(kind).is_empty()
    }

    #[track_caller]
    fn one(&self, kind: &str) -> &Value {
        let all = self.all(kind);
        assert_eq!(
            all.len(),
            1,
            "expected exactly one {kind}, got {}",
            all.len()
        );
        all[0]
    }

    fn deployment(&self) -> &Value {
        self.one("Deployment")
    }

    fn pod(&self) -> &Value {
        &self.deployment()["spec"]["template"]["spec"]
    }

    fn container(&self) -> &Value {
        let containers = self.pod()["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "one container");
        &containers[0]
    }

    fn config_toml(&self) -> String {
        self.one("ConfigMap")["data"]["unifi-dns-sync.toml"]
            .as_str()
            .expect("the ConfigMap holds unifi-dns-sync.toml")
            .to_owned()
    }

    /// A Secret's decoded data, if the chart rendered a Secret of that name.
    fn secret_data(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let secret = self
            .all("Secret")
            .into_iter()
            .find(|s| s["metadata"]["name"] == name)?;
        let mut out = BTreeMap::new();
        for (k, v) in secret["data"].as_object().into_iter().flatten() {
            let bytes = base64_decode(v.as_str().expect("Secret data are strings"));
            out.insert(k.clone(), String::from_utf8(bytes).expect("UTF-8 secret"));
        }
        if let Some(plain) = secret["stringData"].as_object() {
            for (k, v) in plain {
                out.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
            }
        }
        Some(out)
    }

    /// Every volume mount of the container: mount path → volume.
    fn mounts(&self) -> BTreeMap<String, Value> {
        let volumes = self.pod()["volumes"].as_array().expect("volumes").clone();
        self.container()["volumeMounts"]
            .as_array()
            .expect("volumeMounts")
            .iter()
            .map(|m| {
                let name = &m["name"];
                let volume = volumes
                    .iter()
                    .find(|v| &v["name"] == name)
                    .unwrap_or_else(|| panic!("the mount {m} names no volume"))
                    .clone();
                (
                    m["mountPath"].as_str().expect("mountPath").to_owned(),
                    volume,
                )
            })
            .collect()
    }
}

/// Renders the chart with `values` over values.yaml; `Err` carries Helm's message.
fn render(values: &Value) -> Result<Rendered, String> {
    require_helm();
    let dir = tempfile::tempdir().expect("temp dir");
    let values_file = dir.path().join("values.json");
    std::fs::write(&values_file, serde_json::to_vec_pretty(values).unwrap()).unwrap();
    let out_dir = dir.path().join("out");
    let output = Command::new("python3")
        .arg(root().join("deploy/helm/tests/render.py"))
        .arg("render")
        .arg(chart_dir())
        .arg("--values")
        .arg(&values_file)
        .arg("--out")
        .arg(&out_dir)
        .args(["--name", "dns", "--namespace", "unifi"])
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => {}
        Some(1) => return Err(stderr),
        other => panic!("render.py failed ({other:?}): {stderr}"),
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let objects = files
        .iter()
        .map(|f| {
            let doc: Value = serde_json::from_str(&read(f)).unwrap();
            (
                doc["template"].as_str().unwrap().to_owned(),
                doc["object"].clone(),
            )
        })
        .collect();
    let notes = std::fs::read_to_string(out_dir.join("NOTES.txt")).unwrap_or_default();
    Ok(Rendered { objects, notes })
}

#[track_caller]
fn render_ok(values: &Value) -> Rendered {
    render(values).unwrap_or_else(|e| panic!("Helm refused the values {values}:\n{e}"))
}

#[track_caller]
fn render_err(values: &Value) -> String {
    match render(values) {
        Ok(r) => panic!(
            "Helm accepted the values {values}; rendered {} objects",
            r.objects.len()
        ),
        Err(e) => e,
    }
}

/// Two consoles, their keys and a web token: the chart's defaults otherwise.
fn two_controllers() -> Value {
    json!({
        "config": {
            "controllers": [
                {"name": "hq", "url": "https://192.168.1.1", "tls": {"fingerprint": HQ_FINGERPRINT}, "priority": 10},
                {"name": "branch-2", "url": "https://10.20.0.1", "tls": "verify", "max_parallel_reads": 2, "timeout": "20s"}
            ],
            "sites": [{"match": "hq/default", "receive": false, "domains": ["*.example"]}]
        },
        "secret": {"apiKeys": {"hq": HQ_KEY, "branch-2": BRANCH_KEY}, "webToken": WEB_TOKEN}
    })
}

/// Deep-merges `patch` into `base` (objects merge, everything else replaces).
fn merged(mut base: Value, patch: Value) -> Value {
    fn merge(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }
    merge(&mut base, patch);
    base
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile

struct Instruction {
    keyword: String,
    args: String,
}

/// The Dockerfile's stages (split at FROM), continuation lines joined, comments dropped.
fn dockerfile_stages() -> Vec<Vec<Instruction>> {
    let text = read(&root().join("Dockerfile"));
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    assert!(
        current.is_empty(),
        "the Dockerfile ends inside a continuation line"
    );
    let mut stages: Vec<Vec<Instruction>> = Vec::new();
    for line in logical.iter().filter(|l| !l.trim().is_empty()) {
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let instruction = Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        };
        if instruction.keyword == "FROM" {
            stages.push(Vec::new());
        }
        stages
            .last_mut()
            .expect("the Dockerfile starts with FROM")
            .push(instruction);
    }
    stages
}

fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args)
        .unwrap_or_else(|e| panic!("{args:?} is not the exec form [\"...\"] ({e})"))
}

/// The `ENV` variables of the final stage.
fn dockerfile_env() -> BTreeMap<String, String> {
    let stages = dockerfile_stages();
    let mut env = BTreeMap::new();
    for i in stages.last().unwrap().iter().filter(|i| i.keyword == "ENV") {
        for pair in i.args.split_whitespace() {
            let (k, v) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("ENV {} is not KEY=VALUE", i.args));
            assert!(
                !v.contains(['"', '\'']),
                "ENV values are written unquoted here: {pair}"
            );
            env.insert(k.to_owned(), v.to_owned());
        }
    }
    env
}

fn final_stage_value(keyword: &str) -> Option<String> {
    dockerfile_stages()
        .last()
        .unwrap()
        .iter()
        .rev()
        .find(|i| i.keyword == keyword)
        .map(|i| i.args.clone())
}

/// `[package] name` and `[[bin]] name` of this crate.
fn cargo_names() -> (String, String) {
    let manifest: toml::Value = toml::from_str(&read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
    ))
    .unwrap();
    let package = manifest["package"]["name"].as_str().unwrap().to_owned();
    let bins = manifest["bin"].as_array().expect("a [[bin]] section");
    assert_eq!(bins.len(), 1, "one binary");
    (package, bins[0]["name"].as_str().unwrap().to_owned())
}

// ---------------------------------------------------------------------------------------------
// The pod's environment, as the kubelet builds it

/// Maps container paths to local directories (the volumes of a simulated pod).
struct Mounts(BTreeMap<String, PathBuf>);

impl Mounts {
    fn identity() -> Mounts {
        Mounts(BTreeMap::new())
    }

    fn map(&self, value: &str) -> String {
        if let Some(rest) = value.strip_prefix("sqlite://") {
            return format!("sqlite://{}", self.map(rest));
        }
        for (mount, local) in &self.0 {
            if value == mount {
                return local.display().to_string();
            }
            if let Some(rest) = value.strip_prefix(&format!("{mount}/")) {
                return local.join(rest).display().to_string();
            }
        }
        value.to_owned()
    }
}

/// The image's ENV, then the container's env: literal values (paths mapped) and Secret keys
/// resolved from the rendered Secret (an optional key that is missing is left unset).
fn pod_env(r: &Rendered, mounts: &Mounts) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = dockerfile_env()
        .into_iter()
        .map(|(k, v)| (k, mounts.map(&v)))
        .collect();
    for var in r.container()["env"].as_array().expect("env") {
        let name = var["name"].as_str().unwrap().to_owned();
        if let Some(value) = var["value"].as_str() {
            env.insert(name, mounts.map(value));
        } else if let Some(secret_ref) = var["valueFrom"].get("secretKeyRef") {
            let secret = secret_ref["name"].as_str().unwrap();
            let key = secret_ref["key"].as_str().unwrap();
            let data = r
                .secret_data(secret)
                .unwrap_or_else(|| panic!("{name} reads Secret {secret}, which was not rendered"));
            match data.get(key) {
                Some(v) => {
                    env.insert(name, v.clone());
                }
                None if secret_ref["optional"] == true => {}
                None => panic!("{name} reads key {key} of Secret {secret}, which lacks it"),
            }
        } else {
            panic!("unexpected env entry {var}");
        }
    }
    env
}

// ---------------------------------------------------------------------------------------------
// 1. Helm renders; the schema is enforced

#[test]
fn default_values_validate_against_the_schema() {
    // Helm's own validator (the one `helm install` runs) on the chart's values.yaml as is.
    require_helm();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("values.json");
    let output = Command::new("python3")
        .arg(root().join("deploy/helm/tests/render.py"))
        .arg("defaults")
        .arg(chart_dir())
        .arg("--out")
        .arg(&out)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "values.yaml does not validate against values.schema.json: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let values: Value = serde_json::from_str(&read(&out)).unwrap();
    let schema: Value =
        serde_json::from_str(&read(&chart_dir().join("values.schema.json"))).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown top-level values are refused"
    );

    // Every default value has a described place in the schema.
    fn walk(values: &Value, schema: &Value, path: &str) {
        let Some(map) = values.as_object() else {
            return;
        };
        if schema["type"] != "object" || schema.get("properties").is_none() {
            return; // a pass-through Kubernetes object (resources, securityContext, ...)
        }
        for (k, v) in map {
            let sub = &schema["properties"][k];
            assert!(
                sub.is_object(),
                "values.yaml has {path}.{k}, the schema does not describe it"
            );
            assert!(
                sub["description"].is_string(),
                "the schema of {path}.{k} has no description"
            );
            walk(v, sub, &format!("{path}.{k}"));
        }
    }
    walk(&values, &schema, "");
    assert_eq!(
        values["persistence"]["enabled"], true,
        "persistence is on by default"
    );
    assert_eq!(
        values["image"]["tag"], "",
        "the tag defaults to the appVersion"
    );
}

#[test]
fn helm_lint_strict_finds_no_warning() {
    require_helm();
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.json");
    std::fs::write(&values, two_controllers().to_string()).unwrap();
    let report = dir.path().join("lint.json");
    let output = Command::new("python3")
        .arg(root().join("deploy/helm/tests/render.py"))
        .arg("lint")
        .arg(chart_dir())
        .arg("--values")
        .arg(&values)
        .arg("--out")
        .arg(&report)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&read(&report)).unwrap();
    assert_eq!(report["errors"], json!([]), "{report:#}");
    // Severity 1 is informational ("icon is recommended"); 2 warnings, 3 errors.
    for message in report["messages"].as_array().unwrap() {
        assert!(message["severity"].as_u64() < Some(2), "{message}");
    }
}

#[test]
fn the_schema_refuses_wrong_types_and_unknown_keys() {
    let cases = [
        (
            json!({"persistence": {"enabled": "yes"}}),
            "/persistence/enabled",
        ),
        (json!({"replicaCount": 2}), "replicaCount"),
        (json!({"persistance": {"enabled": true}}), "persistance"),
        (
            json!({"config": {"sync": {"threshold_min_copies": "ten"}}}),
            "threshold_min_copies",
        ),
        (
            json!({"config": {"sync": {"mode": "mirror"}}}),
            "/config/sync/mode",
        ),
        (json!({"image": {"tag": "latest"}}), "/image/tag"),
        (json!({"service": {"port": "http"}}), "/service/port"),
    ];
    for (patch, needle) in cases {
        let values = merged(two_controllers(), patch.clone());
        let err = render_err(&values);
        assert!(
            err.contains("schema") && err.contains(needle),
            "{patch}: expected a schema error naming {needle:?}, got:\n{err}"
        );
    }
    // The keys of a controller are checked too, and an inline key cannot slip into the config.
    let mut values = two_controllers();
    values["config"]["controllers"][0]["api_key"] = json!(HQ_KEY);
    let err = render_err(&values);
    assert!(err.contains("api_key"), "{err}");
    assert!(
        !err.contains(HQ_KEY),
        "the error must not quote the key: {err}"
    );
    let mut values = two_controllers();
    values["config"]["controllers"][1]["name"] = json!("Branch 2");
    assert!(render_err(&values).contains("/config/controllers/1/name"));
}

#[test]
fn the_chart_explains_what_is_missing() {
    let err = render_err(&json!({}));
    assert!(err.contains("config.controllers is empty"), "{err}");

    let mut values = two_controllers();
    values["secret"]["apiKeys"] = json!({"hq": HQ_KEY});
    let err = render_err(&values);
    assert!(err.contains("secret.apiKeys.branch-2 is not set"), "{err}");
    assert!(err.contains("existingSecret"), "{err}");

    let mut values = two_controllers();
    values["config"]["controllers"][1]["name"] = json!("hq");
    assert!(render_err(&values).contains("used twice"));

    let mut values = two_controllers();
    values["config"]["sites"] = json!([{"match": "nowhere/default"}]);
    assert!(render_err(&values).contains("not in config.controllers"));

    let values = merged(two_controllers(), json!({"ingress": {"enabled": true}}));
    assert!(render_err(&values).contains("ingress.hosts is empty"));
}

// ---------------------------------------------------------------------------------------------
// 2. The manifests

#[test]
fn the_deployment_is_a_hardened_singleton_with_probes_and_a_persistent_volume() {
    let r = render_ok(&two_controllers());
    let d = r.deployment();
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));

    let c = r.container();
    let (_, bin) = cargo_names();
    assert_eq!(
        c["args"][0], "run",
        "the container runs the daemon: {}",
        c["args"]
    );
    // ENTRYPOINT + the chart's args form a valid command line: the daemon, no dry run.
    let mut argv = vec![bin.clone()];
    argv.extend(
        c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned()),
    );
    let cli = parse_cli(&argv);
    assert!(
        matches!(
            cli.command,
            CliCommand::Run {
                once: false,
                dry_run: false
            }
        ),
        "{:?}",
        cli.command
    );

    // The image: pinned to the appVersion, never latest.
    let chart_yaml = read(&chart_dir().join("Chart.yaml"));
    let chart_field = |key: &str| {
        chart_yaml
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}:")))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("Chart.yaml has no {key}"))
    };
    assert_eq!(chart_field("apiVersion"), "v2");
    assert_eq!(
        chart_field("appVersion"),
        env!("CARGO_PKG_VERSION"),
        "Chart.yaml appVersion is the crate version"
    );
    assert_eq!(
        c["image"],
        format!("unifi-dns-sync:{}", env!("CARGO_PKG_VERSION"))
    );
    let pinned = render_ok(&merged(
        two_controllers(),
        json!({"image": {"repository": "ghcr.io/x/unifi-dns-sync", "tag": "0.1.0-rc1"}}),
    ));
    assert_eq!(
        pinned.container()["image"],
        "ghcr.io/x/unifi-dns-sync:0.1.0-rc1"
    );

    // Probes: liveness on /healthz, readiness on /readyz, a startup probe giving the database
    // time; a liveness period well below the 5-minute interval is fine because /healthz itself
    // only fails after 2 x interval without progress.
    let probe = |name: &str| &c[name]["httpGet"];
    assert_eq!(probe("livenessProbe")["path"], "/healthz");
    assert_eq!(probe("readinessProbe")["path"], "/readyz");
    assert_eq!(probe("startupProbe")["path"], "/healthz");
    for name in ["livenessProbe", "readinessProbe", "startupProbe"] {
        assert_eq!(probe(name)["port"], "http", "{name}");
    }
    let startup_budget = c["startupProbe"]["periodSeconds"].as_u64().unwrap()
        * c["startupProbe"]["failureThreshold"].as_u64().unwrap();
    assert!(
        startup_budget >= 120,
        "the startup probe allows {startup_budget}s"
    );
    assert_eq!(
        c["ports"],
        json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}])
    );

    // Security: non-root 10001 (the image's user), read-only root, no escalation, no
    // capabilities, RuntimeDefault seccomp, and fsGroup so the volume is writable.
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["runAsUser"], 10001);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    let psc = &r.pod()["securityContext"];
    assert_eq!(psc["runAsNonRoot"], true);
    assert_eq!(psc["runAsUser"], 10001);
    assert_eq!(psc["fsGroup"], 10001);
    assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(r.pod()["automountServiceAccountToken"], false);
    assert_eq!(
        r.pod()["enableServiceLinks"],
        false,
        "service links would put UNIFI_DNS_SYNC_* variables into the environment"
    );
    assert!(c["resources"]["limits"]["memory"].is_string());
    assert!(c["resources"]["requests"]["cpu"].is_string());

    // Volumes: /data from the chart's PVC, /config from the ConfigMap, /tmp an emptyDir.
    let mounts = r.mounts();
    let pvc = r.one("PersistentVolumeClaim");
    assert_eq!(
        mounts["/data"]["persistentVolumeClaim"]["claimName"],
        pvc["metadata"]["name"]
    );
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "1Gi");
    assert_eq!(
        pvc["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    assert!(
        pvc["spec"].get("storageClassName").is_none(),
        "the default class"
    );
    assert_eq!(
        mounts["/config"]["configMap"]["name"],
        r.one("ConfigMap")["metadata"]["name"]
    );
    assert!(mounts["/tmp"]["emptyDir"].is_object());
    assert_eq!(mounts.len(), 3, "{mounts:?}");

    // The Service routes to the named port; the config file is named for the loader.
    let svc = r.one("Service");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "http");
    assert_eq!(
        svc["spec"]["selector"],
        d["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(d["spec"]["selector"]["matchLabels"], {
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        json!({"app.kubernetes.io/name": labels["app.kubernetes.io/name"], "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"]})
    });
    let env: Vec<&Value> = c["env"].as_array().unwrap().iter().collect();
    assert!(env.iter().any(
        |v| v["name"] == "UNIFI_DNS_SYNC_CONFIG" && v["value"] == "/config/unifi-dns-sync.toml"
    ));
    assert!(
        !r.has("ServiceMonitor") && !r.has("Ingress"),
        "both are off by default"
    );
    assert!(r.notes.contains("unifi-dns-sync status"), "{}", r.notes);
}

#[test]
fn api_keys_live_only_in_the_secret() {
    let r = render_ok(&two_controllers());
    // Nowhere in clear text: not in the ConfigMap, the Deployment, anything.
    for (template, object) in &r.objects {
        let text = object.to_string();
        for secret in [HQ_KEY, BRANCH_KEY, WEB_TOKEN] {
            assert!(
                !text.contains(secret),
                "{template} holds a secret in clear text"
            );
        }
    }
    let toml = r.config_toml();
    assert!(
        !toml.contains("api_key =") && !toml.contains("api_key_file"),
        "{toml}"
    );
    assert!(!toml.contains("token ="), "{toml}");

    // In the Secret, under the keys the Deployment reads.
    let secret = r.one("Secret");
    let data = r
        .secret_data(secret["metadata"]["name"].as_str().unwrap())
        .unwrap();
    assert_eq!(data.get("api-key-hq").map(String::as_str), Some(HQ_KEY));
    assert_eq!(
        data.get("api-key-branch-2").map(String::as_str),
        Some(BRANCH_KEY)
    );
    assert_eq!(data.get("web-token").map(String::as_str), Some(WEB_TOKEN));
    assert_eq!(data.len(), 3);

    let env = r.container()["env"].as_array().unwrap().clone();
    let from_secret = |var: &str| {
        env.iter()
            .find(|v| v["name"] == var)
            .unwrap_or_else(|| panic!("no {var} in the container's env"))["valueFrom"]["secretKeyRef"]
            .clone()
    };
    assert_eq!(from_secret("UNIFI_API_KEY_HQ")["key"], "api-key-hq");
    assert_eq!(
        from_secret("UNIFI_API_KEY_BRANCH_2")["key"],
        "api-key-branch-2"
    );
    assert_eq!(from_secret("UNIFI_DNS_SYNC_WEB_TOKEN")["key"], "web-token");
    assert_eq!(from_secret("UNIFI_DNS_SYNC_WEB_TOKEN")["optional"], true);
    assert!(
        from_secret("UNIFI_API_KEY_HQ").get("optional").is_none(),
        "a missing API key must stop the pod from starting"
    );

    // A changed key restarts the pod (checksum), without the key showing up in the annotation.
    let before =
        r.deployment()["spec"]["template"]["metadata"]["annotations"]["checksum/secret"].clone();
    let mut values = two_controllers();
    values["secret"]["apiKeys"]["hq"] = json!("hq-rotated-key-7781");
    let after = render_ok(&values);
    assert_ne!(
        after.deployment()["spec"]["template"]["metadata"]["annotations"]["checksum/secret"],
        before
    );
}

#[test]
fn an_existing_secret_replaces_the_charts_secret() {
    let values = merged(
        two_controllers(),
        json!({"secret": {"existingSecret": "my-unifi-keys", "apiKeys": {}, "webToken": ""}}),
    );
    let mut values = values;
    values["config"]["controllers"][1]["apiKeySecretKey"] = json!("branch.key");
    let r = render_ok(&values);
    assert!(
        !r.has("Secret"),
        "no Secret is rendered with existingSecret"
    );
    let env = r.container()["env"].as_array().unwrap().clone();
    let refs: BTreeMap<String, Value> = env
        .iter()
        .filter_map(|v| {
            Some((
                v["name"].as_str()?.to_owned(),
                v["valueFrom"].get("secretKeyRef")?.clone(),
            ))
        })
        .collect();
    assert_eq!(refs.len(), 3, "{refs:?}");
    for r in refs.values() {
        assert_eq!(r["name"], "my-unifi-keys");
    }
    assert_eq!(refs["UNIFI_API_KEY_HQ"]["key"], "api-key-hq");
    assert_eq!(refs["UNIFI_API_KEY_BRANCH_2"]["key"], "branch.key");
    assert!(
        r.deployment()["spec"]["template"]["metadata"]["annotations"]
            .get("checksum/secret")
            .is_none()
    );
    assert!(
        !r.config_toml().contains("apiKeySecretKey"),
        "chart-only keys stay out of the config"
    );
}

#[test]
fn an_existing_claim_replaces_the_charts_claim() {
    let r = render_ok(&merged(
        two_controllers(),
        json!({"persistence": {"existingClaim": "dns-data"}}),
    ));
    assert!(!r.has("PersistentVolumeClaim"));
    assert_eq!(
        r.mounts()["/data"]["persistentVolumeClaim"]["claimName"],
        "dns-data"
    );

    let r = render_ok(&merged(
        two_controllers(),
        json!({"persistence": {"storageClass": "-", "size": "5Gi", "keep": false}}),
    ));
    let pvc = r.one("PersistentVolumeClaim");
    assert_eq!(pvc["spec"]["storageClassName"], "");
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "5Gi");
    assert!(pvc["metadata"].get("annotations").is_none());

    // Without persistence: an emptyDir, and NOTES says loudly what that costs.
    let r = render_ok(&merged(
        two_controllers(),
        json!({"persistence": {"enabled": false}}),
    ));
    assert!(!r.has("PersistentVolumeClaim"));
    assert!(r.mounts()["/data"]["emptyDir"].is_object());
    assert!(
        r.notes.contains("WARNING: persistence.enabled is false"),
        "{}",
        r.notes
    );
}

#[test]
fn service_monitor_and_ingress_only_when_enabled() {
    let r = render_ok(&merged(
        two_controllers(),
        json!({
            "metrics": {"serviceMonitor": {"enabled": true, "labels": {"release": "prom"}}},
            "ingress": {
                "enabled": true,
                "className": "nginx",
                "hosts": [{"host": "dns.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
                "tls": [{"secretName": "dns-tls", "hosts": ["dns.example.com"]}]
            }
        }),
    ));
    let sm = r.one("ServiceMonitor");
    assert_eq!(sm["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(sm["metadata"]["labels"]["release"], "prom");
    assert_eq!(sm["spec"]["endpoints"][0]["path"], "/metrics");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "http");
    assert_eq!(
        sm["spec"]["selector"]["matchLabels"],
        r.one("Service")["spec"]["selector"]
    );
    assert_eq!(
        sm["spec"]["namespaceSelector"]["matchNames"],
        json!(["unifi"])
    );

    let ing = r.one("Ingress");
    assert_eq!(ing["spec"]["ingressClassName"], "nginx");
    let rule = &ing["spec"]["rules"][0];
    assert_eq!(rule["host"], "dns.example.com");
    let backend = &rule["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], r.one("Service")["metadata"]["name"]);
    assert_eq!(backend["port"]["name"], "http");
    assert_eq!(ing["spec"]["tls"][0]["secretName"], "dns-tls");
    assert!(r.notes.contains("https://dns.example.com/"), "{}", r.notes);
}

#[test]
fn notes_commands_are_valid_command_lines() {
    let r = render_ok(&two_controllers());
    let (_, bin) = cargo_names();
    let mut seen = 0;
    for line in r
        .notes
        .lines()
        .filter(|l| l.contains("kubectl") && l.contains(" exec "))
    {
        let (_, command) = line.split_once(" -- ").expect("kubectl exec … -- command");
        // A shell command substitution is one word: `$(date +%F)` → `X`.
        let mut command = command.to_owned();
        while let Some(start) = command.find("$(") {
            let end = start + command[start..].find(')').expect("closed $(");
            command.replace_range(start..=end, "X");
        }
        let argv: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        assert_eq!(argv[0], bin, "{line}");
        parse_cli(&argv);
        seen += 1;
    }
    assert!(seen >= 3, "{}", r.notes);
    assert!(
        r.notes.contains("port-forward service/dns-unifi-dns-sync"),
        "{}",
        r.notes
    );
}

// ---------------------------------------------------------------------------------------------
// 3. The rendered config, through our own loader

#[test]
fn the_rendered_config_is_accepted_by_our_loader() {
    let r = render_ok(&two_controllers());
    let text = r.config_toml();

    // The ConfigMap alone (only the key variables set) already points at the volume and listens
    // on every interface.
    let keys_only: BTreeMap<String, String> = BTreeMap::from([
        ("UNIFI_API_KEY_HQ".to_owned(), HQ_KEY.to_owned()),
        ("UNIFI_API_KEY_BRANCH_2".to_owned(), BRANCH_KEY.to_owned()),
    ]);
    let cfg = config::load_str(&text, None, &keys_only)
        .unwrap_or_else(|e| panic!("the rendered config is refused: {e}\n{text}"));
    assert_eq!(cfg.database.url, "sqlite:///data/dns_sync.db");
    assert_eq!(
        cfg.web.listen,
        "0.0.0.0:8080".parse::<SocketAddr>().unwrap()
    );
    assert!(cfg.web.token.is_none());

    // With the pod's whole environment: the image's ENV, the Deployment's env and the Secret.
    let env = pod_env(&r, &Mounts::identity());
    let cfg = config::load_str(&text, None, &env).unwrap_or_else(|e| {
        panic!("the rendered config is refused with the pod's env: {e}\n{text}")
    });
    assert_eq!(cfg.database.url, "sqlite:///data/dns_sync.db");
    assert_eq!(
        cfg.web.listen,
        "0.0.0.0:8080".parse::<SocketAddr>().unwrap()
    );
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    assert_eq!(
        cfg.controllers
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["hq", "branch-2"]
    );
    let hq = cfg.controller("hq").unwrap();
    assert_eq!(hq.url, "https://192.168.1.1");
    assert_eq!(hq.api_key.expose(), HQ_KEY);
    assert_eq!(
        hq.api_key.source(),
        &SecretSource::Env("UNIFI_API_KEY_HQ".into())
    );
    assert_eq!(
        hq.tls,
        TlsMode::Fingerprint(TlsMode::parse_fingerprint(HQ_FINGERPRINT).unwrap())
    );
    assert_eq!(hq.priority, 10);
    let branch = cfg.controller("branch-2").unwrap();
    assert_eq!(branch.api_key.expose(), BRANCH_KEY);
    assert_eq!(branch.tls, TlsMode::Verify);
    assert_eq!(branch.max_parallel_reads, 2);
    assert_eq!(branch.timeout, Duration::from_secs(20));
    assert_eq!(cfg.web.token.as_ref().map(|t| t.expose()), Some(WEB_TOKEN));
    assert_eq!(cfg.sites.len(), 1);
    assert!(!cfg.sites[0].receive);
    // The chart's sync defaults are the loader's defaults.
    assert_eq!(cfg.sync, config::SyncConfig::default());
}

#[test]
fn integer_settings_survive_helms_float_numbers() {
    // Helm reads every number as a float; the chart turns integer keys back into integers.
    let values = merged(
        two_controllers(),
        json!({"config": {"sync": {"threshold_min_copies": 25, "max_delete_fraction": 0.5, "clients": {"enabled": true, "ttl": 60}}}}),
    );
    let mut values = values;
    values["config"]["controllers"][0]["max_parallel_writes"] = json!(2);
    values["config"]["controllers"][0]["requests_per_second"] = json!(5);
    values["config"]["controllers"][1]["priority"] = json!(-3);
    let r = render_ok(&values);
    let cfg = config::load_str(&r.config_toml(), None, &pod_env(&r, &Mounts::identity()))
        .unwrap_or_else(|e| panic!("{e}\n{}", r.config_toml()));
    assert_eq!(cfg.sync.threshold_min_copies, 25);
    assert_eq!(cfg.sync.max_delete_fraction, 0.5);
    assert!(cfg.sync.clients.enabled);
    assert_eq!(cfg.sync.clients.ttl, 60);
    assert_eq!(cfg.controller("hq").unwrap().max_parallel_writes, 2);
    assert_eq!(cfg.controller("hq").unwrap().requests_per_second, 5.0);
    assert_eq!(cfg.controller("branch-2").unwrap().priority, -3);
}

// ---------------------------------------------------------------------------------------------
// 3b. The rendered pod, run for real

/// One HTTP/1.1 request on loopback: (status, body).
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The daemon child; killed (by its pid) if the test ends before it exited.
struct Pod {
    child: std::process::Child,
    logs: PathBuf,
}

impl Pod {
    fn logs(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            std::fs::read_to_string(self.logs.join("pod.out")).unwrap_or_default(),
            std::fs::read_to_string(self.logs.join("pod.err")).unwrap_or_default()
        )
    }

    fn wait_for(&mut self, what: &str, deadline: Duration, mut ok: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ok() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the daemon exited ({status}) while waiting for {what}:\n{}",
                    self.logs()
                );
            }
            assert!(
                start.elapsed() < deadline,
                "{what} did not happen within {deadline:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn the_rendered_pod_runs_probes_healthcheck_status_and_sigterm() {
    use unifi_sim::{ConsoleSpec, Scenario, Simulator, SiteSpec};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let scenario = Scenario::new()
        .console(ConsoleSpec::new("hq", "sim-hq-key-31f9a").site(
            SiteSpec::new("default").name("Default").policy(json!({
                "type": "A_RECORD", "enabled": true, "domain": "nas.hq.example",
                "ipv4Address": "10.1.0.10", "ttlSeconds": 300
            })),
        ))
        .console(
            ConsoleSpec::new("branch-2", "sim-branch-key-77c02")
                .site(SiteSpec::new("default").name("Default")),
        );
    let sim = runtime
        .block_on(Simulator::start(&scenario))
        .expect("simulator starts");

    // The chart's values for these consoles, keys and token in the chart's Secret.
    let mut controllers = Vec::new();
    let mut keys = serde_json::Map::new();
    for console in sim.consoles() {
        let info = console.info();
        controllers.push(json!({
            "name": info.name, "url": info.base_url, "timeout": "5s", "requests_per_second": 1000,
            "tls": {"fingerprint": info.cert_fingerprint.clone().expect("HTTPS console")}
        }));
        keys.insert(info.name.clone(), json!(info.api_key));
    }
    let r = render_ok(&json!({
        "config": {"controllers": controllers},
        "secret": {"apiKeys": keys, "webToken": WEB_TOKEN}
    }));

    // The pod's volumes as local directories; the ConfigMap's keys become files in its mount.
    let dir = tempfile::tempdir().unwrap();
    let mut local = BTreeMap::new();
    for (path, volume) in r.mounts() {
        let d = dir.path().join(volume["name"].as_str().unwrap());
        std::fs::create_dir_all(&d).unwrap();
        if let Some(cm) = volume.get("configMap") {
            assert_eq!(cm["name"], r.one("ConfigMap")["metadata"]["name"]);
            for (file, content) in r.one("ConfigMap")["data"].as_object().unwrap() {
                std::fs::write(d.join(file), content.as_str().unwrap()).unwrap();
            }
        }
        local.insert(path, d);
    }
    let mounts = Mounts(local);
    let mut env = pod_env(&r, &mounts);
    // The one difference from the cluster: a free loopback port instead of 0.0.0.0:8080.
    let port = free_port();
    assert_eq!(env["UNIFI_DNS_SYNC_WEB__LISTEN"], "0.0.0.0:8080");
    env.insert(
        "UNIFI_DNS_SYNC_WEB__LISTEN".into(),
        format!("127.0.0.1:{port}"),
    );
    let workdir = PathBuf::from(mounts.map(&final_stage_value("WORKDIR").expect("WORKDIR")));

    let args: Vec<String> = r.container()["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let run_cli = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .current_dir(&workdir)
            .env_clear()
            .envs(&env)
            .stdin(Stdio::null())
            .output()
            .expect("the binary starts")
    };
    let mut pod = Pod {
        child: Command::new(BIN)
            .args(&args)
            .current_dir(&workdir)
            .env_clear()
            .envs(&env)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("pod.out")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("pod.err")).unwrap())
            .spawn()
            .expect("the binary starts"),
        logs: dir.path().to_path_buf(),
    };

    // Startup/liveness, then readiness (after the first cycle), as the kubelet probes them.
    let path_of = |probe: &str| {
        r.container()[probe]["httpGet"]["path"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (healthz, readyz) = (path_of("livenessProbe"), path_of("readinessProbe"));
    pod.wait_for("the startup probe", Duration::from_secs(60), || {
        http(port, "GET", &path_of("startupProbe"), &[]).is_some_and(|(s, _)| s == 200)
    });
    pod.wait_for("the readiness probe", Duration::from_secs(90), || {
        http(port, "GET", &readyz, &[]).is_some_and(|(s, _)| s == 200)
    });
    assert_eq!(http(port, "GET", &healthz, &[]).map(|(s, _)| s), Some(200));

    // The database is on the volume, at the path the image's ENV names.
    let db = mounts.map("/data/dns_sync.db");
    assert!(
        Path::new(&db).is_file(),
        "no database at {db}:\n{}",
        pod.logs()
    );
    // The config from the chart really synced: the hq record was copied to branch-2.
    let copied = sim
        .console("branch-2")
        .unwrap()
        .policies("default")
        .unwrap();
    assert!(
        copied.iter().any(|p| p["domain"] == "nas.hq.example"),
        "{copied:?}\n{}",
        pod.logs()
    );

    // The Docker HEALTHCHECK command, run with the container's environment.
    let hc = final_stage_value("HEALTHCHECK").expect("a HEALTHCHECK");
    let cmd = exec_form(
        hc.split_once("CMD")
            .expect("HEALTHCHECK ... CMD [...]")
            .1
            .trim(),
    );
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .env_clear()
        .envs(&env)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .status()
        .expect("bash runs");
    assert!(
        status.success(),
        "the HEALTHCHECK failed against a healthy daemon: {status}"
    );

    // The ServiceMonitor's path, and the web token from the Secret.
    let (code, metrics) = http(port, "GET", "/metrics", &[]).unwrap();
    assert_eq!(code, 200);
    assert!(metrics.contains("unifi_dns_sync_cycles_total"), "{metrics}");
    assert_eq!(
        http(port, "POST", "/api/v1/sync", &[]).map(|(s, _)| s),
        Some(401)
    );
    let bearer = format!("Bearer {WEB_TOKEN}");
    assert_eq!(
        http(port, "POST", "/api/v1/sync", &[("Authorization", &bearer)]).map(|(s, _)| s),
        Some(202)
    );

    // `kubectl exec … unifi-dns-sync status`, beside the daemon, with the container's env.
    let out = run_cli(&["status"]);
    assert!(
        out.status.success(),
        "status failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("branch-2"), "{printed}");
    for secret in ["sim-hq-key-31f9a", "sim-branch-key-77c02", WEB_TOKEN] {
        assert!(!printed.contains(secret), "status printed a secret");
        assert!(!pod.logs().contains(secret), "the daemon logged a secret");
    }

    // Kubernetes stops a pod with SIGTERM and waits terminationGracePeriodSeconds.
    let grace = r.pod()["terminationGracePeriodSeconds"].as_u64().unwrap();
    let kill = Command::new("kill")
        .args(["-TERM", &pod.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = pod.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(grace),
            "the daemon ignored SIGTERM for {grace}s:\n{}",
            pod.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "SIGTERM exit: {status}\n{}", pod.logs());
    drop(sim);
}

// ---------------------------------------------------------------------------------------------
// 4. Go-template sanity, without Helm

/// Checks `{{`/`}}` pairing and that every if/range/with/define/block has its `end`.
fn check_go_template(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let line_of = |i: usize| text[..i].matches('\n').count() + 1;
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"}}") {
            return Err(format!("line {}: '}}}}' without '{{{{'", line_of(i)));
        }
        if !bytes[i..].starts_with(b"{{") {
            i += 1;
            continue;
        }
        let start = i;
        i += 2;
        let mut inner = i;
        if bytes.get(inner) == Some(&b'-') {
            inner += 1;
        }
        while bytes.get(inner).is_some_and(|b| b.is_ascii_whitespace()) {
            inner += 1;
        }
        if bytes[inner..].starts_with(b"/*") {
            let Some(end) = text[inner..].find("*/") else {
                return Err(format!("line {}: unterminated comment", line_of(start)));
            };
            let after = text[inner + end + 2..].trim_start_matches([' ', '-']);
            if !after.starts_with("}}") {
                return Err(format!(
                    "line {}: a comment must end with */}}}}",
                    line_of(start)
                ));
            }
            i = text.len() - after.len() + 2;
            continue;
        }
        let mut quote: Option<u8> = None;
        let end = loop {
            let Some(&c) = bytes.get(i) else {
                return Err(format!("line {}: '{{{{' is never closed", line_of(start)));
            };
            match quote {
                Some(b'"') if c == b'\\' => i += 1,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b'"' || c == b'`' => quote = Some(c),
                None if bytes[i..].starts_with(b"{{") => {
                    return Err(format!("line {}: '{{{{' inside an action", line_of(i)));
                }
                None if bytes[i..].starts_with(b"}}") => break i,
                None => {}
            }
            i += 1;
        };
        let action = text[start + 2..end]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let keyword = action.split_whitespace().next().unwrap_or("");
        match keyword {
            "if" | "range" | "with" | "define" | "block" => {
                stack.push((keyword.to_owned(), line_of(start)))
            }
            "end" if stack.pop().is_none() => {
                return Err(format!(
                    "line {}: 'end' without an open block",
                    line_of(start)
                ));
            }
            "else" if stack.is_empty() => {
                return Err(format!("line {}: 'else' outside a block", line_of(start)));
            }
            _ => {}
        }
        i = end + 2;
    }
    match stack.pop() {
        Some((keyword, line)) => Err(format!("line {line}: '{keyword}' is never closed by 'end'")),
        None => Ok(()),
    }
}

#[test]
fn every_template_is_balanced() {
    // The checker itself catches what it should.
    assert!(check_go_template("{{ if .a }}x{{ end }}{{/* c {{ */}}").is_ok());
    assert!(
        check_go_template("{{- range .x }}{{ if .y }}{{ end }}")
            .unwrap_err()
            .contains("'range'")
    );
    assert!(check_go_template("{{ .a }").is_err());
    assert!(check_go_template("{{ .a }}}}").is_err());
    assert!(check_go_template("{{ end }}").is_err());
    assert!(check_go_template("{{ printf \"}}\" }}").is_ok());

    let dir = chart_dir().join("templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if let Err(e) = check_go_template(&read(&path)) {
            panic!("{}: {e}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} templates");
}

// ---------------------------------------------------------------------------------------------
// 5. values.yaml is documented

#[test]
fn every_value_is_documented_with_a_comment() {
    let text = read(&chart_dir().join("values.yaml"));
    let mut previous = "";
    let mut keys = 0;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let is_key = !trimmed.starts_with('#')
            && !trimmed.starts_with('-')
            && trimmed.split_once(':').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if is_key {
            keys += 1;
            assert!(
                previous.trim_start().starts_with('#'),
                "values.yaml line {}: `{}` has no comment above it",
                n + 1,
                line.trim()
            );
        }
        previous = line;
    }
    assert!(keys > 60, "{keys} keys");
}

// ---------------------------------------------------------------------------------------------
// 6. The Dockerfile

#[test]
fn the_dockerfile_builds_the_release_binary_into_a_non_root_image_with_a_data_volume() {
    let (package, bin) = cargo_names();
    let stages = dockerfile_stages();
    assert!(stages.len() >= 2, "a multi-stage build");
    let builder = &stages[0];
    assert!(
        builder[0].args.starts_with("rust:"),
        "FROM {}",
        builder[0].args
    );
    assert!(
        builder[0].args.ends_with("AS builder"),
        "FROM {}",
        builder[0].args
    );
    let build = builder
        .iter()
        .find(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .expect("a cargo build step");
    let words: Vec<&str> = build.args.split_whitespace().collect();
    for flag in ["--release", "--locked"] {
        assert!(words.contains(&flag), "{}", build.args);
    }
    let p = words.iter().position(|w| *w == "-p").expect("-p <package>");
    assert_eq!(words[p + 1], package);
    assert!(
        build.args.contains(&format!("target/release/{bin}")),
        "{}",
        build.args
    );

    let last = stages.last().unwrap();
    let from = &last[0].args;
    assert!(
        from.starts_with("debian:bookworm-slim") || from.starts_with("gcr.io/distroless/cc"),
        "FROM {from}"
    );
    assert!(last.iter().any(|i| i.keyword == "COPY"
        && i.args.starts_with("--from=builder")
        && i.args.ends_with(&format!("/usr/local/bin/{bin}"))));

    // A fixed non-root user, the same as the chart's.
    let user = final_stage_value("USER").expect("USER in the final stage");
    let uid = user.split(':').next().unwrap();
    assert!(uid != "root" && uid != "0", "USER {user}");
    assert_eq!(
        uid, "10001",
        "a numeric uid, so Kubernetes can check runAsNonRoot"
    );
    let values = read(&chart_dir().join("values.yaml"));
    for line in values
        .lines()
        .filter(|l| l.trim_start().starts_with("runAsUser:"))
    {
        assert_eq!(
            line.trim(),
            format!("runAsUser: {uid}"),
            "the chart runs as the image's user"
        );
    }
    let run_steps: String = last
        .iter()
        .filter(|i| i.keyword == "RUN")
        .map(|i| i.args.as_str())
        .collect();
    assert!(
        run_steps.contains(&format!("chown {uid}:")) && run_steps.contains("/data"),
        "/data belongs to the user"
    );

    let volume = final_stage_value("VOLUME").expect("VOLUME");
    assert!(
        volume.contains("\"/data\"") || volume.split_whitespace().any(|v| v == "/data"),
        "VOLUME {volume}"
    );
    assert_eq!(
        exec_form(&final_stage_value("ENTRYPOINT").expect("ENTRYPOINT")),
        std::slice::from_ref(&bin)
    );
    assert_eq!(exec_form(&final_stage_value("CMD").expect("CMD")), ["run"]);
    let mut argv = vec![bin.clone()];
    argv.extend(exec_form(&final_stage_value("CMD").unwrap()));
    assert!(matches!(
        parse_cli(&argv).command,
        CliCommand::Run {
            once: false,
            dry_run: false
        }
    ));
    let healthcheck = final_stage_value("HEALTHCHECK").expect("HEALTHCHECK");
    assert!(healthcheck.contains("/healthz"), "{healthcheck}");

    // The ENV overrides, through our loader: the database on the volume, every interface.
    let env = dockerfile_env();
    let cfg = config::load_str("", None, &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.database.url, "sqlite:///data/dns_sync.db");
    assert_eq!(
        cfg.web.listen,
        "0.0.0.0:8080".parse::<SocketAddr>().unwrap()
    );
    let expose = final_stage_value("EXPOSE").expect("EXPOSE");
    assert_eq!(expose, cfg.web.listen.port().to_string());

    // sqlite:// followed by an absolute path is that absolute path for the store: open the same
    // form on a temporary directory instead of /data.
    let dir = tempfile::tempdir().unwrap();
    let url = cfg
        .database
        .url
        .replacen("/data", &dir.path().display().to_string(), 1);
    assert!(url.starts_with("sqlite:///"), "{url}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = unifi_dns_sync_store::Store::open(&url)
            .await
            .expect("the store opens");
        assert_eq!(store.path(), Some(dir.path().join("dns_sync.db").as_path()));
    });
    assert!(dir.path().join("dns_sync.db").is_file());

    let ignore = read(&root().join(".dockerignore"));
    let entries: Vec<&str> = ignore.lines().map(str::trim).collect();
    assert!(
        (entries.contains(&"target/") || entries.contains(&"**/target/"))
            && entries.contains(&".git/"),
        "the build context leaves out target/ and .git: {ignore}"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. The systemd unit

/// `section → key → values` (a key may repeat).
fn parse_unit(text: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        assert!(!section.is_empty(), "{line:?} outside a section");
        assert!(!line.ends_with('\\'), "keep unit lines unbroken: {line}");
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not KEY=VALUE: {line}"));
        out.entry(section.clone())
            .or_default()
            .entry(key.trim().to_owned())
            .or_default()
            .push(value.trim().to_owned());
    }
    out
}

#[test]
fn the_systemd_unit_runs_the_daemon_hardened_with_its_state_directory() {
    let unit = parse_unit(&read(&root().join("deploy/systemd/unifi-dns-sync.service")));
    let service = &unit["Service"];
    let one = |key: &str| -> &str {
        let values = service
            .get(key)
            .unwrap_or_else(|| panic!("[Service] has no {key}"));
        values.last().unwrap()
    };

    // ExecStart: the binary, `run`, an explicit config and the database in the StateDirectory.
    let (_, bin) = cargo_names();
    let exec: Vec<String> = one("ExecStart")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert!(
        exec[0].starts_with('/') && exec[0].ends_with(&format!("/{bin}")),
        "{exec:?}"
    );
    let mut argv = exec.clone();
    argv[0] = bin.clone();
    let cli = parse_cli(&argv);
    assert!(
        matches!(
            cli.command,
            CliCommand::Run {
                once: false,
                dry_run: false
            }
        ),
        "{exec:?}"
    );
    let config_path = cli.config.expect("ExecStart passes --config");
    let config_dir = format!("/etc/{}", one("ConfigurationDirectory"));
    assert!(
        config_path.starts_with(&config_dir),
        "{config_path:?} outside {config_dir}"
    );
    let state = one("StateDirectory");
    let database = cli.database.expect("ExecStart passes --database");
    assert!(
        database.starts_with(&format!("sqlite:///var/lib/{state}/")),
        "the database {database} must be in the StateDirectory (everything else is read-only)"
    );
    assert_eq!(one("WorkingDirectory"), format!("/var/lib/{state}"));

    // A dedicated user (or a dynamic one), never root.
    let dynamic = service
        .get("DynamicUser")
        .is_some_and(|v| v.last().unwrap() == "yes");
    let user = service.get("User").map(|v| v.last().unwrap().as_str());
    assert!(
        dynamic || user.is_some_and(|u| u != "root" && u != "0"),
        "{user:?}"
    );

    // Keys from a root-only environment file or from credentials, not from the unit.
    assert!(
        service.contains_key("EnvironmentFile") || service.contains_key("LoadCredential"),
        "keys come from EnvironmentFile= or LoadCredential="
    );
    assert!(
        !service.contains_key("Environment"),
        "no secrets inline in the unit"
    );

    // Hardening.
    for (key, value) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectControlGroups", "yes"),
        ("RestrictNamespaces", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("CapabilityBoundingSet", ""),
        ("SystemCallArchitectures", "native"),
    ] {
        assert_eq!(one(key), value, "[Service] {key}");
    }
    let families = one("RestrictAddressFamilies");
    for family in ["AF_INET", "AF_INET6", "AF_UNIX"] {
        assert!(
            families.split_whitespace().any(|f| f == family),
            "{families}"
        );
    }
    assert!(
        service["SystemCallFilter"]
            .iter()
            .any(|v| v == "@system-service")
    );

    // Restarts on failure, stops with SIGTERM (which finishes the write in flight), and starts
    // once the network is up.
    assert_eq!(one("Restart"), "on-failure");
    assert_eq!(one("KillSignal"), "SIGTERM");
    assert!(
        unit["Unit"]["After"]
            .iter()
            .any(|v| v.contains("network-online.target"))
    );
    assert_eq!(unit["Install"]["WantedBy"], ["multi-user.target"]);
}
