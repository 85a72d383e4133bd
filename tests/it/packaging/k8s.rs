//! The Kubernetes manifests (`docs/deployment.md`, "Deploy to Kubernetes" and "Use as a sidecar"):
//! `k8s/` and `k8s/sidecar/` render with `kubectl kustomize`; every rendered object validates
//! offline against the Kubernetes schemas (`kubernetes-validate --strict`), and each
//! ServiceMonitor, which those schemas do not know, passes a structural check against the Service
//! it selects; the pods are locked down; a config change renames the ConfigMap, so the pods roll;
//! the probes are /-/healthy and /-/ready, --watch-config is on, the sidecar is a native sidecar, a
//! PodDisruptionBudget never blocks a drain and a NetworkPolicy admits only scrapes; the images name
//! a registry; the binary, run with the very args and config the manifests give it, answers 200 on every probe,
//! annotation, Service and ServiceMonitor port and path, within the memory the manifests request;
//! and the Makefile's Kubernetes targets call kubectl as their names say.
//!
//! The rendered YAML is turned into JSON by PyYAML, which comes with kubernetes-validate, so the
//! tests need no YAML crate.

use crate::support::{peak_rss, require_tool, root, run_command, Exporter, TempDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kustomizations a user applies, and the oldest Kubernetes release each needs
/// (`docs/deployment.md`): native sidecars came with 1.29.
const KUSTOMIZATIONS: [&str; 3] = ["k8s", "k8s/sidecar", "k8s/sharded"];

/// The workloads that run pods: the Deployments of `k8s/` and `k8s/sidecar/`, the StatefulSet of
/// `k8s/sharded/`.
const WORKLOADS: [&str; 2] = ["Deployment", "StatefulSet"];

fn oldest_release(dir: &str) -> &'static str {
    if dir.ends_with("sidecar") {
        "1.29.0"
    } else {
        "1.25.0"
    }
}

/// The image's name in the manifests, after the registry; kustomize's `images:` sets the registry
/// and the tag.
const IMAGE: &str = "test-metrics";

/// The image the kustomizations name: the example registry that `make push REGISTRY=…` and the
/// `images:` override replace, never a bare name that a cluster would pull from Docker Hub.
const RENDERED_IMAGE: &str = "registry.example.com/team/test-metrics:latest";

/// A kustomization rendered by `kubectl kustomize`: the YAML in a file, and its objects.
struct Rendered {
    yaml: PathBuf,
    objects: Vec<Value>,
    _dir: TempDir,
}

impl Rendered {
    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects.iter().filter(move |o| o["kind"] == kind)
    }

    /// The Deployments and StatefulSets.
    fn workloads(&self) -> impl Iterator<Item = &Value> + '_ {
        self.objects.iter().filter(|o| WORKLOADS.iter().any(|k| o["kind"] == *k))
    }
}

/// Renders `dir` (relative to the repository root, or absolute), or returns `None` when kubectl or
/// PyYAML is missing on a developer machine (a failure under `REQUIRE_TOOLS=1`).
fn render(dir: &str) -> Option<Rendered> {
    let kubectl = require_tool("kubectl")?;
    let out = run_command(Command::new(kubectl).arg("kustomize").arg(root().join(dir)));
    assert!(out.status.success(), "kubectl kustomize {dir}:\n{}", String::from_utf8_lossy(&out.stderr));
    let tmp = TempDir::new();
    let yaml = tmp.write("rendered.yaml", &out.stdout);
    let objects = yaml_to_json(&yaml)?;
    assert!(!objects.is_empty(), "kubectl kustomize {dir} rendered nothing");
    Some(Rendered { yaml, objects, _dir: tmp })
}

/// The documents of a multi-document YAML file, through PyYAML.
fn yaml_to_json(path: &Path) -> Option<Vec<Value>> {
    let python = require_tool("python3")?;
    let script = "import json, sys, yaml\n\
                  docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]\n\
                  json.dump(docs, sys.stdout)";
    let out = run_command(Command::new(python).args(["-c", script]).arg(path));
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let missing = stderr.contains("No module named 'yaml'");
        assert!(missing, "python3 YAML to JSON failed:\n{stderr}");
        crate::support::missing("PyYAML (python3 -m pip install kubernetes-validate)");
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).expect("JSON from python3"))
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or("<no name>")
}

fn namespace(object: &Value) -> &str {
    object["metadata"]["namespace"].as_str().unwrap_or("")
}

/// Whether every `key: value` of `selector` is among `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let Some(selector) = selector.as_object() else { return false };
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Every container of a pod template: the app's, and the init containers (native sidecars among them).
fn all_containers(deployment: &Value) -> Vec<&Value> {
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().expect("containers");
    containers.iter().chain(pod["initContainers"].as_array().into_iter().flatten()).collect()
}

/// The containers that run this project's image.
fn exporter_containers(deployment: &Value) -> Vec<&Value> {
    let ours = |image: &str| image.split(':').next().and_then(|repo| repo.rsplit('/').next()) == Some(IMAGE);
    all_containers(deployment).into_iter().filter(|c| c["image"].as_str().is_some_and(ours)).collect()
}

/// The container port that `port` (a number or a port name) refers to, if the container declares it.
fn container_port(container: &Value, port: &Value) -> Option<u16> {
    let ports = container["ports"].as_array()?;
    let found = ports.iter().find(|p| match port {
        Value::String(name) => p["name"] == name.as_str(),
        Value::Number(n) => p["containerPort"].as_u64() == n.as_u64(),
        _ => false,
    })?;
    Some(found["containerPort"].as_u64()? as u16)
}

/// A Kubernetes memory quantity (`8Mi`, `512Ki`, `1Gi`, `1000000`) in bytes.
fn bytes(quantity: &str) -> u64 {
    let units =
        [("Ki", 1u64 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000)];
    for (suffix, factor) in units {
        if let Some(n) = quantity.strip_suffix(suffix) {
            return n.parse::<u64>().unwrap_or_else(|_| panic!("quantity {quantity:?}")) * factor;
        }
    }
    quantity.parse().unwrap_or_else(|_| panic!("quantity {quantity:?}"))
}

#[test]
fn manifests_validate_against_the_kubernetes_schemas() {
    for dir in KUSTOMIZATIONS {
        let Some(rendered) = render(dir) else { return };
        let Some(validate) = require_tool("kubernetes-validate") else { return };
        let custom = rendered.of_kind("ServiceMonitor").count();
        // The newest schemas the package ships, and the oldest release `docs/deployment.md` names.
        for version in [None, Some(oldest_release(dir))] {
            let mut command = Command::new(&validate);
            command.arg("--strict");
            if let Some(v) = version {
                command.args(["--kubernetes-version", v]);
            }
            let out = run_command(command.arg(&rendered.yaml));
            let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "{dir} (Kubernetes {version:?}) does not validate:\n{report}");
            let passed = report.lines().filter(|l| l.contains(" passed for resource ")).count();
            // Every object but the ServiceMonitors (checked below) must have met a schema.
            assert_eq!(passed, rendered.objects.len() - custom, "{dir}: objects without a schema?\n{report}");
        }
        for monitor in rendered.of_kind("ServiceMonitor") {
            check_service_monitor(monitor, &rendered);
        }
    }
}

/// The fields of a ServiceMonitor's spec and of its endpoints that this project may use, from the
/// CRD `servicemonitors.monitoring.coreos.com` (v1). A field outside these lists is more likely a
/// typo than a need; add it here after checking the CRD.
const MONITOR_FIELDS: &[&str] =
    &["selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels", "podTargetLabels", "sampleLimit"];
const ENDPOINT_FIELDS: &[&str] = &[
    "port",
    "path",
    "scheme",
    "interval",
    "scrapeTimeout",
    "honorLabels",
    "honorTimestamps",
    "relabelings",
    "metricRelabelings",
    "params",
];

/// What the Prometheus Operator needs to find the exporter: the required fields, a label selector
/// that matches a Service of the same namespace, endpoint ports named as that Service's ports, the
/// path `/metrics`, and valid durations.
fn check_service_monitor(monitor: &Value, rendered: &Rendered) {
    let id = format!("ServiceMonitor {}", name(monitor));
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1", "{id}");
    assert!(!namespace(monitor).is_empty(), "{id}: no namespace");
    let spec = monitor["spec"].as_object().unwrap_or_else(|| panic!("{id}: no spec"));
    for key in spec.keys() {
        assert!(MONITOR_FIELDS.contains(&key.as_str()), "{id}: unexpected spec field {key:?}");
    }
    let selector = &spec["selector"];
    assert!(selector.get("matchExpressions").is_none(), "{id}: this check handles matchLabels only");
    let services: Vec<&Value> = rendered
        .of_kind("Service")
        .filter(|s| namespace(s) == namespace(monitor) && selects(&selector["matchLabels"], &s["metadata"]["labels"]))
        .collect();
    assert!(!services.is_empty(), "{id}: selector {selector} matches no Service in {}", namespace(monitor));
    if let Some(ns) = spec.get("namespaceSelector") {
        let any = ns["any"] == true;
        let listed = ns["matchNames"].as_array().is_some_and(|n| n.iter().any(|n| n == namespace(monitor)));
        assert!(any || listed, "{id}: namespaceSelector {ns} excludes its own namespace");
    }
    let endpoints = spec["endpoints"].as_array().filter(|e| !e.is_empty());
    for endpoint in endpoints.unwrap_or_else(|| panic!("{id}: no endpoints")) {
        for key in endpoint.as_object().unwrap().keys() {
            assert!(ENDPOINT_FIELDS.contains(&key.as_str()), "{id}: unexpected endpoint field {key:?}");
        }
        let port = endpoint["port"].as_str().unwrap_or_else(|| panic!("{id}: endpoint without a port name"));
        for service in &services {
            let ports = service["spec"]["ports"].as_array().unwrap();
            assert!(ports.iter().any(|p| p["name"] == port), "{id}: Service {} has no port {port:?}", name(service));
        }
        assert_eq!(endpoint["path"], "/metrics", "{id}");
        let duration = |field: &str| {
            endpoint[field]
                .as_str()
                .map(|d| metrics_generator::time::parse_duration(d).unwrap_or_else(|e| panic!("{id}: {field}: {e}")))
        };
        if let (Some(interval), Some(timeout)) = (duration("interval"), duration("scrapeTimeout")) {
            assert!(timeout <= interval, "{id}: scrapeTimeout longer than interval");
        }
    }
}

#[test]
fn pods_are_locked_down() {
    for dir in KUSTOMIZATIONS {
        let Some(rendered) = render(dir) else { return };
        for namespace in rendered.of_kind("Namespace") {
            assert_eq!(namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");
        }
        for deployment in rendered.workloads() {
            let id = format!("{dir}: {} {}", deployment["kind"], name(deployment));
            let pod = &deployment["spec"]["template"]["spec"];
            assert_eq!(pod["automountServiceAccountToken"], false, "{id}");
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{id}");
            assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{id}");
            for container in all_containers(deployment) {
                let id = format!("{id}, container {}", container["name"]);
                let security = &container["securityContext"];
                assert_eq!(security["allowPrivilegeEscalation"], false, "{id}");
                assert_eq!(security["readOnlyRootFilesystem"], true, "{id}");
                assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]), "{id}");
                for kind in ["requests", "limits"] {
                    assert!(container["resources"][kind]["memory"].is_string(), "{id}: no memory {kind}");
                }
            }
            let exporters = exporter_containers(deployment);
            assert!(!exporters.is_empty(), "{id}: no container runs {IMAGE}");
            for container in exporters {
                // The image's numeric USER; a pod may also say so itself.
                let user = container["securityContext"]["runAsUser"].as_u64();
                let user = user.or(pod["securityContext"]["runAsUser"].as_u64());
                assert_eq!(user, Some(65534), "{id}: the exporter runs as the image's user 65534");
                assert!(container.get("command").is_none(), "{id}: `command` would replace the image's entry point");
                assert_eq!(container["image"], RENDERED_IMAGE, "{id}");
            }
        }
    }
}

/// Runs the binary with the args and config that the manifests give each exporter container, and
/// asks it for everything the manifests promise other components: probe paths and ports, the
/// scrape annotations, the Service target ports, the ServiceMonitor endpoints.
#[test]
fn manifests_and_binary_agree() {
    for dir in KUSTOMIZATIONS {
        let Some(rendered) = render(dir) else { return };
        for workload in rendered.workloads() {
            for container in exporter_containers(workload) {
                check_container(&rendered, workload, container, dir);
            }
        }
    }
}

fn check_container(rendered: &Rendered, deployment: &Value, container: &Value, dir: &str) {
    let id = format!("{dir}: {} {}, container {}", deployment["kind"], name(deployment), container["name"]);
    let template = &deployment["spec"]["template"];
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap_or_else(|| panic!("{id}: no args"))
        .iter()
        .map(|a| a.as_str().expect("string arg").to_string())
        .collect();
    let tmp = TempDir::new();

    // The listen address: keep its port for the checks below, and run on 127.0.0.1:0 instead.
    let (listen_at, listen) =
        flag_value(&args, "--listen-address").unwrap_or_else(|| panic!("{id}: no --listen-address"));
    let port: u16 = listen.rsplit(':').next().unwrap().parse().unwrap_or_else(|_| panic!("{id}: {listen}"));

    // The config: the ConfigMap key behind the volume mounted over the --config path.
    let (config_at, config) = flag_value(&args, "--config").unwrap_or_else(|| panic!("{id}: no --config"));
    let mount = container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"].as_str().is_some_and(|p| config.starts_with(&format!("{}/", p.trim_end_matches('/')))))
        .unwrap_or_else(|| panic!("{id}: no volume mounted over {config}"));
    assert!(mount.get("subPath").is_none(), "{id}: a subPath mount would not see ConfigMap updates");
    let key = &config[mount["mountPath"].as_str().unwrap().trim_end_matches('/').len() + 1..];
    let volume = template["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == mount["name"])
        .unwrap_or_else(|| panic!("{id}: no volume {}", mount["name"]));
    assert!(volume["configMap"].get("items").is_none(), "{id}: this check maps ConfigMap keys to file names 1:1");
    let map_name = volume["configMap"]["name"].as_str().unwrap_or_else(|| panic!("{id}: volume is not a ConfigMap"));
    let map = rendered
        .of_kind("ConfigMap")
        .find(|m| name(m) == map_name && namespace(m) == namespace(deployment))
        .unwrap_or_else(|| panic!("{id}: no ConfigMap {map_name} (a generator's hash not applied?)"));
    let contents = map["data"][key].as_str().unwrap_or_else(|| panic!("{id}: ConfigMap {map_name} has no key {key}"));
    let config_file = tmp.write(key, contents);

    let mut args = args.clone();
    args[listen_at] = "127.0.0.1:0".to_string();
    args[config_at] = config_file.to_str().unwrap().to_string();
    // A StatefulSet's pod is named after it with its ordinal, which `--shard hostname/N` reads.
    let mut command = Command::new(crate::support::bin());
    command.args(&args);
    if deployment["kind"] == "StatefulSet" {
        command.env("HOSTNAME", format!("{}-0", name(deployment)));
    }
    let exporter = Exporter::start_command(command);
    assert!(args.iter().any(|a| a == "--watch-config"), "{id}: a ConfigMap change must reach the exporter");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/-/healthy", "{id}");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/-/ready", "{id}");

    let answers = |path: &str, what: &str| {
        let response = exporter.get(path);
        assert_eq!(response.status, 200, "{id}: {what} GET {path}: {}", String::from_utf8_lossy(&response.body));
        response
    };
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let get = &container[probe]["httpGet"];
        if get.is_null() {
            assert_eq!(probe, "startupProbe", "{id}: no HTTP {probe}");
            continue;
        }
        assert_eq!(container_port(container, &get["port"]), Some(port), "{id}: {probe} port {}", get["port"]);
        answers(get["path"].as_str().unwrap(), probe);
    }

    // The scrape annotations, where a pod has them (the sharded pods do not: see below).
    let annotations = &template["metadata"]["annotations"];
    if !annotations["prometheus.io/scrape"].is_null() {
        assert_eq!(annotations["prometheus.io/scrape"], "true", "{id}");
        assert_eq!(annotations["prometheus.io/port"], port.to_string(), "{id}: prometheus.io/port");
        let body = answers(annotations["prometheus.io/path"].as_str().unwrap(), "prometheus.io/path").text();
        assert!(body.contains("# TYPE "), "{id}: not an exposition:\n{body}");
    } else {
        assert_eq!(dir, "k8s/sharded", "{id}: no prometheus.io/scrape annotation");
    }

    // Every Service port that leads to this container, and every ServiceMonitor endpoint on it.
    let services: Vec<&Value> = rendered
        .of_kind("Service")
        .filter(|s| {
            namespace(s) == namespace(deployment) && selects(&s["spec"]["selector"], &template["metadata"]["labels"])
        })
        .collect();
    let mut reached = 0;
    for service in &services {
        for service_port in service["spec"]["ports"].as_array().unwrap() {
            let Some(target) = container_port(container, &service_port["targetPort"]) else { continue };
            assert_eq!(target, port, "{id}: Service {} port {}", name(service), service_port["name"]);
            answers("/metrics", "Service targetPort");
            reached += 1;
            for monitor in rendered.of_kind("ServiceMonitor").filter(|m| namespace(m) == namespace(service)) {
                if !selects(&monitor["spec"]["selector"]["matchLabels"], &service["metadata"]["labels"]) {
                    continue;
                }
                for endpoint in monitor["spec"]["endpoints"].as_array().unwrap() {
                    if endpoint["port"] == service_port["name"] {
                        answers(endpoint["path"].as_str().unwrap(), "ServiceMonitor endpoint");
                    }
                }
            }
        }
    }
    assert!(reached > 0, "{id}: no Service port leads to the exporter");

    // The memory request was sized from the measured peak RSS; this debug build is bigger than the
    // release binary in the image, so it staying under the request leaves the release one room.
    let request = bytes(container["resources"]["requests"]["memory"].as_str().unwrap());
    let limit = bytes(container["resources"]["limits"]["memory"].as_str().unwrap());
    let peak = peak_rss(exporter.pid());
    eprintln!("{id}: peak RSS {} KiB, memory request {} KiB", peak / 1024, request / 1024);
    assert!(peak < request && request <= limit, "{id}: peak RSS {peak} B, request {request} B, limit {limit} B");

    // With these args, a change to the mounted file is served without a restart.
    std::fs::write(&config_file, r#"[{"name": "changed", "metric_type": "gauge", "custom_function": "square"}]"#)
        .unwrap();
    crate::support::poll(std::time::Duration::from_secs(15), || {
        exporter.get("/metrics").text().contains("_changed ").then_some(())
    })
    .unwrap_or_else(|| panic!("{id}: the changed config is not served\n{}", exporter.stderr()));
}

/// The sidecar is a native sidecar: an init container with `restartPolicy: Always`, which starts
/// before the app, runs beside it and stops after it.
#[test]
fn the_sidecar_is_a_native_sidecar() {
    let Some(rendered) = render("k8s/sidecar") else { return };
    let deployment = rendered.of_kind("Deployment").next().expect("a Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let init = pod["initContainers"].as_array().expect("initContainers");
    let sidecar = init.iter().find(|c| c["name"] == "metrics-generator").expect("the exporter among initContainers");
    assert_eq!(sidecar["restartPolicy"], "Always");
    assert!(pod["containers"].as_array().unwrap().iter().all(|c| c["name"] != "metrics-generator"));
    // The kustomization's comment names the volume to copy, and the Deployment has it.
    let kustomization = std::fs::read_to_string(root().join("k8s/sidecar/kustomization.yaml")).unwrap();
    let volume = sidecar["volumeMounts"][0]["name"].as_str().unwrap();
    assert!(kustomization.contains(&format!("the `{volume}` volume")), "kustomization.yaml names another volume");
}

/// A PodDisruptionBudget covers the exporter's pods without blocking a drain, and a
/// NetworkPolicy admits only scrapes: TCP to the metrics port from Prometheus, and no egress.
#[test]
fn disruption_budget_and_network_policy() {
    let Some(rendered) = render("k8s") else { return };
    let deployment = rendered.of_kind("Deployment").next().expect("a Deployment");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap_or(1);
    let exporter = exporter_containers(deployment)[0];

    let budget = rendered.of_kind("PodDisruptionBudget").next().expect("a PodDisruptionBudget");
    assert!(selects(&budget["spec"]["selector"]["matchLabels"], labels), "the budget selects the exporter's pods");
    let spec = &budget["spec"];
    let drainable = match (spec["maxUnavailable"].as_u64(), spec["minAvailable"].as_u64()) {
        (Some(max), None) => max >= 1,
        (None, Some(min)) => min < replicas,
        _ => false,
    };
    assert!(drainable, "the budget would block every drain of {replicas} replica(s): {spec}");

    let policy = rendered.of_kind("NetworkPolicy").next().expect("a NetworkPolicy");
    let spec = &policy["spec"];
    assert!(selects(&spec["podSelector"]["matchLabels"], labels), "the policy selects the exporter's pods");
    assert_eq!(spec["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    assert!(spec["egress"].as_array().is_none_or(|e| e.is_empty()), "the exporter needs no egress");
    let rules = spec["ingress"].as_array().expect("ingress rules");
    assert!(!rules.is_empty());
    for rule in rules {
        let from = rule["from"].as_array().expect("every rule names its sources");
        assert!(!from.is_empty(), "a rule without sources admits everyone");
        for port in rule["ports"].as_array().expect("every rule names its ports") {
            assert_eq!(port["protocol"], "TCP");
            assert_eq!(container_port(exporter, &port["port"]), Some(8000), "only the metrics port: {port}");
        }
    }
}

/// The index of the value of `flag` in `args` (`--flag value`) and that value.
fn flag_value(args: &[String], flag: &str) -> Option<(usize, String)> {
    let at = args.iter().position(|a| a == flag)? + 1;
    Some((at, args.get(at)?.clone()))
}

#[test]
fn a_config_change_renames_the_config_map_and_so_rolls_the_pods() {
    let copy = TempDir::new();
    for entry in std::fs::read_dir(root().join("k8s")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let dir = copy.path().to_str().unwrap();
    let referenced = |rendered: &Rendered| {
        let maps: Vec<String> = rendered.of_kind("ConfigMap").map(|m| name(m).to_string()).collect();
        let deployment = rendered.of_kind("Deployment").next().unwrap();
        let volumes = deployment["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
        let used = volumes.iter().find_map(|v| v["configMap"]["name"].as_str()).unwrap().to_string();
        assert_eq!(maps, std::slice::from_ref(&used), "the Deployment uses the generated ConfigMap");
        used
    };
    let Some(before) = render(dir) else { return };
    let before = referenced(&before);
    let other = r#"[{"name": "other", "metric_type": "gauge", "custom_function": "square"}]"#;
    std::fs::write(copy.path().join("config.json"), other).unwrap();
    let after = referenced(&render(dir).unwrap());
    assert!(before.starts_with("metrics-generator-config-"), "{before}");
    assert_ne!(before, after, "a changed config must give the ConfigMap a new name");
}

/// A stand-in for kubectl that renders with the real one and records every other call, with what
/// it read on stdin for `-f -`.
fn fake_kubectl(dir: &TempDir, real: &Path) -> PathBuf {
    let log = dir.path().display();
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = kustomize ]; then exec '{}' \"$@\"; fi\n\
         echo \"$*\" >> '{log}/calls'\n\
         case \"$*\" in *'-f -'*) cat > '{log}/stdin.yaml';; esac\n",
        real.display()
    );
    let path = dir.write("kubectl", script);
    let out = run_command(Command::new("chmod").arg("+x").arg(&path));
    assert!(out.status.success());
    path
}

fn make(args: &[&str]) -> std::process::Output {
    let out = run_command(Command::new("make").current_dir(root()).arg("-s").args(args).env_remove("MAKEFLAGS"));
    assert!(
        out.status.success(),
        "make {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn make_kubernetes_targets_drive_kubectl() {
    let Some(real) = require_tool("kubectl") else { return };
    let dir = TempDir::new();
    let kubectl = fake_kubectl(&dir, &real);
    let kubectl_var = format!("KUBECTL={}", kubectl.display());
    let common = [kubectl_var.as_str(), "NAMESPACE=it-ns", "REGISTRY=registry.example.com/team", "IMAGE_TAG=v1"];
    let calls = || std::fs::read_to_string(dir.path().join("calls")).unwrap_or_default();
    let applied = || yaml_to_json(&dir.path().join("stdin.yaml"));

    // Without REGISTRY there is no image to name: deploy says so and kubectl is not called.
    let out = run_command(
        Command::new("make").current_dir(root()).args(["-s", "deploy", &kubectl_var]).env_remove("MAKEFLAGS"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: make deploy needs REGISTRY"));
    assert_eq!(calls(), "");

    make(&[&["deploy", "SERVICE_MONITOR=0"], &common[..]].concat());
    assert_eq!(calls(), "apply -f -\n");
    let Some(objects) = applied() else { return };
    for object in &objects {
        let ns = if object["kind"] == "Namespace" { name(object) } else { namespace(object) };
        assert_eq!(ns, "it-ns", "{} {}", object["kind"], name(object));
        assert_ne!(object["kind"], "ServiceMonitor", "SERVICE_MONITOR=0 leaves the ServiceMonitor out");
    }
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let image = &deployment["spec"]["template"]["spec"]["containers"][0]["image"];
    assert_eq!(image, "registry.example.com/team/test-metrics:v1");
    // What the other targets name must exist in what deploy applied.
    assert_eq!(name(deployment), "metrics-generator", "make logs follows deployment/metrics-generator");
    let service = objects.iter().find(|o| o["kind"] == "Service").unwrap();
    assert_eq!(name(service), "metrics-generator", "make port-forward uses service/metrics-generator");
    assert_eq!(service["spec"]["ports"][0]["name"], "metrics", "make port-forward forwards the port named metrics");
    let selector = &deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"];
    assert_eq!(selector, "metrics-generator", "make status selects app.kubernetes.io/name=metrics-generator");

    std::fs::remove_file(dir.path().join("calls")).unwrap();
    make(&[&["deploy"], &common[..]].concat());
    let Some(objects) = applied() else { return };
    assert!(objects.iter().any(|o| o["kind"] == "ServiceMonitor"), "deploy includes the ServiceMonitor by default");

    make(&[&["undeploy"], &common[..]].concat());
    make(&[&["status"], &common[..]].concat());
    make(&[&["logs"], &common[..]].concat());
    make(&[&["port-forward", "PORT=9123"], &common[..]].concat());
    let expected = "apply -f -\n\
                    delete --ignore-not-found -f -\n\
                    -n it-ns get deployment,statefulset,pod,service,configmap -l app.kubernetes.io/name=metrics-generator -o wide\n\
                    -n it-ns logs deployment/metrics-generator --tail=100 -f\n\
                    -n it-ns port-forward service/metrics-generator 9123:metrics\n";
    assert_eq!(calls(), expected);
    let Some(deleted) = applied() else { return };
    assert_eq!(deleted, objects, "undeploy deletes what deploy applied");

    // The sharded StatefulSet, in its own namespace, with the same image.
    std::fs::remove_file(dir.path().join("calls")).unwrap();
    make(&[&["deploy-sharded", "SHARDED_NAMESPACE=it-sharded"], &common[..]].concat());
    let Some(sharded) = applied() else { return };
    let set = sharded.iter().find(|o| o["kind"] == "StatefulSet").expect("deploy-sharded applies the StatefulSet");
    assert_eq!(namespace(set), "it-sharded");
    assert_eq!(set["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example.com/team/test-metrics:v1");
    assert!(sharded.iter().all(|o| o["kind"] != "Deployment"), "deploy-sharded applies k8s/sharded/ only");
    make(&[&["undeploy-sharded", "SHARDED_NAMESPACE=it-sharded"], &common[..]].concat());
    assert_eq!(calls(), "apply -f -\ndelete --ignore-not-found -f -\n");
    assert_eq!(applied().unwrap(), sharded, "undeploy-sharded deletes what deploy-sharded applied");
}

/// `k8s/sharded/`: the StatefulSet's replica count is the N of every pod's `--shard hostname/N`,
/// set in one place (the kustomization's `replicas:`), so that changing it keeps them equal; the
/// Service is headless, so that a ServiceMonitor reaches every pod.
#[test]
fn the_sharded_statefulset_gives_every_pod_its_shard() {
    let copy = TempDir::new();
    for entry in std::fs::read_dir(root().join("k8s/sharded")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }
    let shard_of = |rendered: &Rendered| {
        let set = rendered.of_kind("StatefulSet").next().expect("a StatefulSet");
        let args: Vec<String> =
            serde_json::from_value(set["spec"]["template"]["spec"]["containers"][0]["args"].clone())
                .expect("string args");
        let (_, shard) = flag_value(&args, "--shard").expect("--shard");
        (set["spec"]["replicas"].as_u64().unwrap(), shard)
    };
    let Some(rendered) = render("k8s/sharded") else { return };
    assert_eq!(shard_of(&rendered), (10, "hostname/10".to_string()));
    let service = rendered.of_kind("Service").next().unwrap();
    assert_eq!(service["spec"]["clusterIP"], "None", "a headless Service lists every pod");
    let set = rendered.of_kind("StatefulSet").next().unwrap();
    assert_eq!(set["spec"]["serviceName"], name(service));
    // Ten million series are for the Prometheus servers that the guide sets up, never for
    // whichever one in the cluster scrapes annotated pods.
    assert!(set["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"].is_null());

    let kustomization = copy.path().join("kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization).unwrap();
    assert!(text.contains("    count: 10\n"));
    std::fs::write(&kustomization, text.replace("    count: 10\n", "    count: 4\n")).unwrap();
    let rendered = render(copy.path().to_str().unwrap()).unwrap();
    assert_eq!(shard_of(&rendered), (4, "hostname/4".to_string()));

    // The config is the ten million series the guide speaks of, which each pod accepts.
    let config = root().join("k8s/sharded/config.json");
    let out = crate::support::run(&[
        "--check-config",
        "--config",
        config.to_str().unwrap(),
        "--max-series",
        "10000000",
        "--shard",
        "3/10",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(": 10000000 series; shard 3/10 serves 1000000 of them"), "{stdout}");
}
