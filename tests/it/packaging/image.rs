//! The container image (`docs/deployment.md`, "Run the image"): the Dockerfile passes hadolint; `make build`
//! builds the FROM scratch image from the host-built static binary without pulling anything; the
//! image holds exactly the binary and the example config and declares a numeric non-root user,
//! port 8000 and an exec-form entry point; and the binary in it, run the way a container runtime
//! runs it (its own root filesystem, its own PID namespace, that user), serves `/metrics` and
//! `/health` and ends with status 0 within a second of SIGTERM as PID 1.
//!
//! Containers cannot be started with `podman run` in every sandbox (it needs rlimits that are not
//! always granted), so the test unpacks the saved image's layers into a directory and enters it
//! with `unshare --pid --fork` and `chroot --userspec`.

use crate::support::{
    only_child, peak_rss, proc_status, require_tool, root, run_command, run_command_within, sample, signal, Exporter,
    TempDir,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the image keeps the binary and the example config, relative to its root.
const BINARY: &str = "usr/local/bin/metrics-generator";
const CONFIG: &str = "etc/metrics-generator/config.json";
/// The static binary that `make static` builds and the `prebuilt` stage copies.
const STATIC_BIN: &str = "target/x86_64-unknown-linux-musl/release/metrics-generator";
/// `docs/deployment.md` promises a static binary under 3 MB (2 MB before TLS, which is about 1 MB).
const MAX_BINARY_BYTES: u64 = 3_000_000;

#[test]
fn dockerfile_passes_hadolint() {
    let Some(hadolint) = require_tool("hadolint") else { return };
    let out = run_command(Command::new(hadolint).arg(root().join("Dockerfile")));
    assert!(
        out.status.success(),
        "hadolint Dockerfile:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `docker build .` cannot ask Cargo.toml for the version, so the Dockerfile carries it as the
/// default of its VERSION argument; this keeps the two equal.
#[test]
fn dockerfile_version_default_is_the_crate_version() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let expected = format!("ARG VERSION={}", env!("CARGO_PKG_VERSION"));
    assert!(dockerfile.lines().any(|l| l.trim() == expected), "Dockerfile lacks `{expected}`");
}

/// Removes the test's image tag when the test ends, passed or failed.
struct RemoveImage {
    podman: PathBuf,
    image: String,
}

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = Command::new(&self.podman).args(["rmi", "--force", &self.image]).output();
    }
}

/// A blob of an OCI image layout directory, by digest (`sha256:…`).
fn blob(layout: &Path, digest: &str) -> PathBuf {
    let (algorithm, hex) = digest.split_once(':').expect("digest is ALGORITHM:HEX");
    layout.join("blobs").join(algorithm).join(hex)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every entry under `dir` that is not a directory, as paths relative to `dir`.
fn non_directories(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            non_directories(&path, base, out);
        } else {
            out.push(path.strip_prefix(base).unwrap().to_string_lossy().into_owned());
        }
    }
}

/// Whether the Rust standard library for the musl target is installed (`rustup target add
/// x86_64-unknown-linux-musl`); like a missing tool, its absence fails the test under
/// `REQUIRE_TOOLS=1` and skips it otherwise.
fn musl_target_installed() -> bool {
    let out =
        run_command(Command::new("rustc").args(["--print", "target-libdir", "--target", "x86_64-unknown-linux-musl"]));
    let libdir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let installed = out.status.success() && libdir.is_dir();
    if !installed {
        crate::support::missing("the x86_64-unknown-linux-musl target (rustup target add x86_64-unknown-linux-musl)");
    }
    installed
}

#[test]
fn image_holds_only_the_binary_and_config_serves_and_stops_as_pid_1() {
    let Some(podman) = require_tool("podman") else { return };
    if !musl_target_installed() {
        return;
    }
    let tag = format!("it-{}", std::process::id());
    let image = format!("localhost/test-metrics:{tag}");
    let _remove = RemoveImage { podman: podman.clone(), image: image.clone() };

    // `make build` compiles the static binary (a no-op when it is fresh) and builds the image
    // from it. The first release build takes about a minute on two cores: hence the bound.
    let make_build = |extra: &[&str]| {
        let out = run_command_within(
            Command::new("make")
                .current_dir(root())
                .args(["-s", "build", &format!("IMAGE_TAG={tag}"), &format!("CONTAINER_TOOL={}", podman.display())])
                .args(extra)
                .env_remove("MAKEFLAGS")
                .env_remove("MAKELEVEL"),
            Duration::from_secs(900),
        );
        assert!(
            out.status.success(),
            "make build failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let image_id = |name: &str| {
        let out = run_command(Command::new(&podman).args(["image", "inspect", "--format", "{{.Id}}", name]));
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    // A first image under the same name, with a version of its own, so that the second differs.
    let first_version = format!("0.0.0-it{}", std::process::id());
    make_build(&[&format!("VERSION={first_version}")]);
    let first = image_id(&image).expect("the first image");
    let started = Instant::now();
    make_build(&[]);
    eprintln!("make build (static binary and image): {:.1?}", started.elapsed());
    // No untagged image is left behind: neither the image the name held before, nor the
    // intermediate images of the first build's stages (which carry its version label).
    assert_ne!(image_id(&image).as_deref(), Some(first.as_str()), "the second build made a new image");
    assert_eq!(image_id(&first), None, "the replaced image {first} is left untagged");
    let label = format!("label=org.opencontainers.image.version={first_version}");
    let out = run_command(Command::new(&podman).args(["images", "-a", "-q", "--filter", &label]));
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "images left by the first build: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let binary = std::fs::read(root().join(STATIC_BIN)).unwrap();
    assert!(binary.len() as u64 <= MAX_BINARY_BYTES, "static binary is {} bytes", binary.len());
    // A stripped binary has no symbol table, so not even the section's name.
    assert!(!binary.windows(8).any(|w| w == b".symtab\0"), "static binary is not stripped");

    // Save the image as an OCI layout: its manifest, config and layers are plain files.
    let dir = TempDir::new();
    let layout = dir.path().join("oci");
    let out = run_command(Command::new(&podman).args(["save", "--format", "oci-dir", "-o"]).arg(&layout).arg(&image));
    assert!(out.status.success(), "podman save:\n{}", String::from_utf8_lossy(&out.stderr));
    let index = read_json(&layout.join("index.json"));
    let manifest = read_json(&blob(&layout, index["manifests"][0]["digest"].as_str().unwrap()));
    let config = read_json(&blob(&layout, manifest["config"]["digest"].as_str().unwrap()))["config"].clone();

    // What the Dockerfile declares, as the runtime sees it.
    assert_eq!(config["User"], "65534:65534", "numeric non-root user");
    assert_eq!(config["ExposedPorts"], serde_json::json!({"8000/tcp": {}}));
    assert_eq!(config["Entrypoint"], serde_json::json!(["/usr/local/bin/metrics-generator"]));
    assert_eq!(config["Cmd"], serde_json::json!(["--config", "/etc/metrics-generator/config.json"]));
    let labels = &config["Labels"];
    for label in ["title", "description", "licenses"] {
        let value = labels[format!("org.opencontainers.image.{label}")].as_str().unwrap_or("");
        assert!(!value.is_empty(), "label org.opencontainers.image.{label} missing: {labels}");
    }
    assert_eq!(labels["org.opencontainers.image.version"], env!("CARGO_PKG_VERSION"));

    // Unpack the layers in order into a root filesystem; it must hold the two files and nothing else.
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    let compressed: u64 = layers.iter().map(|l| l["size"].as_u64().unwrap()).sum();
    for layer in layers {
        let path = blob(&layout, layer["digest"].as_str().unwrap());
        let out = run_command(Command::new("tar").arg("-xf").arg(&path).arg("-C").arg(&rootfs));
        assert!(out.status.success(), "unpack layer:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut files = Vec::new();
    non_directories(&rootfs, &rootfs, &mut files);
    files.sort();
    assert_eq!(files, [CONFIG, BINARY], "the image must hold only the binary and the config");
    assert!(std::fs::read(rootfs.join(BINARY)).unwrap() == binary, "the image's binary is not {STATIC_BIN}");
    assert_eq!(
        std::fs::read_to_string(rootfs.join(CONFIG)).unwrap(),
        std::fs::read_to_string(root().join("example_config.json")).unwrap()
    );
    let unpacked = binary.len() + std::fs::metadata(rootfs.join(CONFIG)).unwrap().len() as usize;
    eprintln!(
        "static binary {} bytes; image: {} layers, {compressed} bytes compressed, {unpacked} bytes of files",
        binary.len(),
        layers.len()
    );

    // Run the image's entry point and command as its user, in an otherwise empty filesystem (so
    // the binary must be static) and as PID 1 of a new PID namespace. Only the address changes:
    // loopback and an ephemeral port instead of 0.0.0.0:8000.
    let user = config["User"].as_str().unwrap();
    let mut command = Command::new("unshare");
    command.args(["--pid", "--fork", "--kill-child", "chroot", &format!("--userspec={user}")]).arg(&rootfs);
    for arg in config["Entrypoint"].as_array().unwrap().iter().chain(config["Cmd"].as_array().unwrap()) {
        command.arg(arg.as_str().unwrap());
    }
    command.args(["--listen-address", "127.0.0.1:0"]);
    let mut exporter = Exporter::start_command(command);
    let pid1 = only_child(exporter.pid());
    let nspid = proc_status(pid1, "NSpid");
    assert!(nspid.split_whitespace().last() == Some("1"), "not PID 1 in its namespace: {nspid}");
    let uid = proc_status(pid1, "Uid");
    assert!(uid.split_whitespace().all(|u| u == "65534"), "runs as uid {uid}");

    let metrics = exporter.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(sample(&metrics.text(), "test_metrics_custom_square"), Some(1.0), "{}", metrics.text());
    let health = exporter.get("/health");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "healthy");
    eprintln!("peak RSS of the image's binary: {} KiB", peak_rss(pid1) / 1024);

    let sent = Instant::now();
    signal(pid1, "TERM");
    let status = exporter.wait_exit(Duration::from_secs(1)).expect("still running 1 s after SIGTERM to PID 1");
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM; stderr:\n{}", exporter.stderr());
    eprintln!("SIGTERM to PID 1: exited after {:.1?}", sent.elapsed());
}

#[test]
fn make_push_copies_the_image_to_the_registry() {
    // A stand-in for podman that records its calls.
    let dir = TempDir::new();
    let log = dir.path().join("calls");
    let tool = dir.write("podman", format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display()));
    assert!(run_command(Command::new("chmod").arg("+x").arg(&tool)).status.success());
    let make = |args: &[&str]| {
        run_command(
            Command::new("make")
                .current_dir(root())
                .args(["-s", "push", &format!("CONTAINER_TOOL={}", tool.display())])
                .args(args)
                .env_remove("MAKEFLAGS"),
        )
    };

    let out = make(&["REGISTRY=registry.example.com/team", "IMAGE_TAG=v1"]);
    assert!(out.status.success(), "make push:\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "tag test-metrics:v1 registry.example.com/team/test-metrics:v1\n\
         push registry.example.com/team/test-metrics:v1\n"
    );

    // Without a registry there is nowhere to push: an error that says what to set, and no call.
    std::fs::remove_file(&log).unwrap();
    let out = make(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("make push needs REGISTRY"));
    assert!(!log.exists(), "podman was called without a registry");
}
