//! The `unifi-sim` binary: serving a scenario file, printing one JSON line per console, and
//! refusing bad scenario files with a message that names the file and the problem.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::{Certificate, Client, Method};
use serde_json::{Value, json};
use unifi_sim::{ConsoleInfo, Scenario, Simulator};

use crate::support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_unifi-sim");

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads `n` lines of the child's stdout, giving up after 20 s.
fn read_lines(child: &mut Child, n: usize) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (0..n)
        .map(|i| {
            rx.recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|e| panic!("line {i} of the binary's output: {e}"))
        })
        .collect()
}

#[test]
fn the_binary_serves_the_three_console_scenario() {
    let scenario = scenarios_dir().join("three-consoles.toml");
    let mut child = Running(
        Command::new(BINARY)
            .arg("--scenario")
            .arg(&scenario)
            .arg("--no-pem")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let lines: Vec<Value> = read_lines(&mut child.0, 3)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["hq", "branch", "legacy"]);
    let control_url = lines[0]["control_url"]
        .as_str()
        .expect("control_url")
        .to_owned();
    for (line, (key, version)) in lines.iter().zip([
        ("hq-demo-key", "10.5.66"),
        ("branch-demo-key", "10.5.66"),
        ("legacy-demo-key", "9.5.21"),
    ]) {
        assert_eq!(
            (&line["api_key"], &line["version"]),
            (&json!(key), &json!(version))
        );
        assert!(
            line["base_url"]
                .as_str()
                .expect("base_url")
                .starts_with("https://127.0.0.1:")
        );
        assert!(
            line["cert_fingerprint"]
                .as_str()
                .is_some_and(|f| f.starts_with("sha256:")),
            "{line}"
        );
        assert!(
            line.get("cert_pem").is_none_or(Value::is_null),
            "--no-pem: {line}"
        );
        assert_eq!(line["control_url"], control_url.as_str());
        assert!(control_url.starts_with("http://127.0.0.1:"));
    }

    let hq = &lines[0];
    let base_url = hq["base_url"].as_str().expect("base_url").to_owned();
    let fingerprint = hq["cert_fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        init_crypto();
        // Without the PEM, fetch the certificate once, check it against the printed
        // fingerprint, then trust it as the only root (pinning, as a careful client would).
        let probe = Client::builder()
            .no_proxy()
            .danger_accept_invalid_certs(true)
            .tls_info(true)
            .build()
            .expect("client");
        let response = probe
            .get(format!("{base_url}/proxy/network/integration/v1/info"))
            .send()
            .await
            .expect("probe");
        let der = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|t| t.peer_certificate())
            .expect("peer certificate")
            .to_vec();
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("body");
        // Unauthenticated: the 401 envelope, checked like every API response.
        check_contract(contract_for("10.5.66"), "GET", "/v1/info", status, &body)
            .expect("contract");
        assert_eq!(status, 401);
        assert_eq!(unifi_sim::certificate_fingerprint(&der), fingerprint);
        let client = Client::builder()
            .no_proxy()
            .tls_certs_only([Certificate::from_der(&der).expect("DER")])
            .build()
            .expect("client");
        let api = Api {
            client,
            base_url: base_url.clone(),
            key: Some("hq-demo-key".into()),
            contract: contract_for("10.5.66"),
            timeout: None,
        };
        let sites = api.get("/v1/sites").await.expect(200);
        assert_eq!(sites["totalCount"], 2);
        assert_eq!(sites["data"][0]["name"], "Head office");
        let site =
            uuid::Uuid::parse_str(sites["data"][0]["id"].as_str().expect("id")).expect("uuid");
        assert_eq!(api.get(&policies(site)).await.expect(200)["totalCount"], 6);
        let mut body = a_record("new.hq.example", "10.1.0.99", 300);
        body["metadata"] = json!({"origin": "USER_DEFINED"});
        let error = api.post(&policies(site), &body).await.expect_error(
            400,
            "api.request.unknown-property",
            "Unknown request body property '$.metadata'",
        );
        assert_eq!(
            error["requestPath"],
            format!("/integration/v1/sites/{site}/dns/policies")
        );
        // The control endpoints of the process answer too.
        let (status, state) = Control::new(&control_url).get("/__sim/state").await;
        assert_eq!(status, 200);
        assert_eq!(state["consoles"].as_array().expect("consoles").len(), 3);
        // The legacy console has no DNS policies.
        let legacy: ConsoleInfo = ConsoleInfo {
            name: "legacy".into(),
            base_url: lines[2]["base_url"].as_str().expect("url").into(),
            api_key: "legacy-demo-key".into(),
            version: "9.5.21".into(),
            cert_fingerprint: None,
            cert_pem: None,
            control_url: control_url.clone(),
        };
        let legacy_api = Api {
            client: Client::builder()
                .no_proxy()
                .danger_accept_invalid_certs(true)
                .build()
                .expect("client"),
            ..Api::new(&legacy)
        };
        legacy_api
            .get(&policies(unifi_sim::DEFAULT_SITE_UUID))
            .await
            .expect_code(404, "api.entity.not-found");
    });
    drop(runtime);
    let status = {
        let _ = child.0.kill();
        child.0.wait().expect("waited")
    };
    assert!(!status.success(), "killed");
}

fn run_with(path: &Path) -> (Option<i32>, String) {
    let output = Command::new(BINARY)
        .arg("--scenario")
        .arg(path)
        .output()
        .expect("the binary runs");
    assert!(output.stdout.is_empty(), "nothing is served");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_scenario_file_exits_non_zero_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "missing-ttl.toml",
            "[[console]]\nname = \"hq\"\napi_key = \"k\"\n[[console.site]]\ninternal_reference = \"default\"\n[[console.site.policy]]\ntype = \"A_RECORD\"\ndomain = \"a.example\"\nipv4Address = \"10.0.0.1\"\n",
            "console 'hq': site[0] ('default'): policy[0]: ttlSeconds must not be null",
        ),
        (
            "typo.toml",
            "[[console]]\nname = \"hq\"\napi_kee = \"k\"\n",
            "unknown field `api_kee`",
        ),
        (
            "duplicate.toml",
            "[[console]]\nname = \"hq\"\napi_key = \"k\"\n[[console]]\nname = \"hq\"\napi_key = \"j\"\n",
            "duplicate console name 'hq'",
        ),
        ("not-toml.toml", "this is = = not toml", "scenario file"),
    ];
    for (name, text, problem) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        let (code, stderr) = run_with(&path);
        assert!(matches!(code, Some(c) if c != 0), "{name}: exit {code:?}");
        assert!(
            stderr.contains(&path.display().to_string()),
            "{name}: {stderr}"
        );
        assert!(stderr.contains(problem), "{name}: {stderr}");
    }
    let missing = dir.path().join("absent.toml");
    let (code, stderr) = run_with(&missing);
    assert!(matches!(code, Some(c) if c != 0));
    assert!(
        stderr.contains(&format!("cannot read scenario file {}", missing.display())),
        "{stderr}"
    );
}

#[tokio::test]
async fn every_example_scenario_loads_and_starts() {
    let mut count = 0;
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        count += 1;
        let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!scenario.consoles.is_empty(), "{}", path.display());
        let sim = Simulator::start(&scenario)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for info in sim.infos() {
            let api = Api::new(&info);
            let version = api.get("/v1/info").await.expect(200);
            assert_eq!(version["applicationVersion"], info.version);
        }
        sim.shutdown().await;
    }
    assert!(count >= 3, "{count} scenarios");
}

#[tokio::test]
async fn the_flaky_scenario_fails_some_policy_reads() {
    let scenario = Scenario::load(&scenarios_dir().join("flaky.toml")).expect("loads");
    let sim = TestSim::from(Simulator::start(&scenario).await.expect("starts"));
    let api = sim.api("flaky");
    let site = sim.site("flaky", "default");
    let mut failed = 0;
    for _ in 0..30 {
        let resp = api.send(Method::GET, &policies(site), None).await;
        if resp.status == 503 {
            failed += 1;
        } else {
            assert_eq!(resp.expect(200)["totalCount"], 1);
        }
    }
    assert!(failed > 0 && failed < 30, "{failed} of 30 failed");
    assert!(api.get("/v1/info").await.elapsed >= Duration::from_millis(50));
}
