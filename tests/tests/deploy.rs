//! What `deploy/` ships stays true to the code: the Grafana dashboard asks only for metrics
//! Relaydesk exports, and the Kubernetes base renders (with `kubectl kustomize`, when kubectl
//! is installed) into what its comments promise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository")
}

/// Every `relaydesk_…` name in the Rust sources under `dir`.
fn names_in_sources(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            names_in_sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read a source file");
            found.extend(metric_names(&text));
        }
    }
}

fn metric_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("relaydesk_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_grafana_dashboard_asks_only_for_exported_metrics() {
    let root = root();
    let dashboard = std::fs::read_to_string(root.join("deploy/grafana-dashboard.json"))
        .expect("deploy/grafana-dashboard.json");
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).expect("valid JSON");
    let panels = parsed["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "a dashboard worth the name");
    let mut exported = BTreeSet::new();
    for dir in ["bot/src", "web/src", "storage/src"] {
        names_in_sources(&root.join(dir), &mut exported);
    }
    let mut asked = BTreeSet::new();
    for panel in panels {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("an expression");
            for name in metric_names(expr) {
                // Histograms are exported as one name and queried by their parts.
                let base = name
                    .strip_suffix("_bucket")
                    .or_else(|| name.strip_suffix("_sum"))
                    .or_else(|| name.strip_suffix("_count"))
                    .unwrap_or(&name)
                    .to_string();
                asked.insert(base);
            }
        }
    }
    let unknown: Vec<&String> = asked.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard asks for metrics no code exports: {unknown:?}"
    );
    assert!(asked.contains("relaydesk_deliveries_total"));
}

#[test]
fn the_kubernetes_base_renders_one_hardened_replica() {
    let root = root();
    let rendered = match Command::new("kubectl")
        .arg("kustomize")
        .arg(root.join("deploy/kubernetes"))
        .output()
    {
        Ok(output) => output,
        Err(_) => {
            eprintln!("skipped: kubectl is not installed, so deploy/kubernetes is not rendered");
            return;
        }
    };
    assert!(
        rendered.status.success(),
        "kubectl kustomize failed: {}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let text = String::from_utf8_lossy(&rendered.stdout);
    for kind in [
        "kind: Deployment",
        "kind: Service",
        "kind: Ingress",
        "kind: ConfigMap",
        "kind: PersistentVolumeClaim",
    ] {
        assert!(text.contains(kind), "{kind} missing:\n{text}");
    }
    for promise in [
        "replicas: 1",
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
        "allowPrivilegeEscalation: false",
        "path: /readyz",
        "path: /healthz",
        "memory: 512Mi",
    ] {
        assert!(text.contains(promise), "`{promise}` missing:\n{text}");
    }
}
