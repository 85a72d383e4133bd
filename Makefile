# Everyday commands. `make test` is the whole test suite; `make run` serves the embedded default.
# Image and Kubernetes targets: `make build` (image from the host-built static binary), `make push`,
# `make deploy`, `make status`, `make logs`, `make port-forward`, `make undeploy`; and
# `make deploy-sharded`, `make undeploy-sharded` for k8s/sharded/ (docs/ten-million-series.md).
CARGO  ?= cargo
PORT   ?= 8000
CONFIG ?= example_config.json
PREFIX ?= /usr/local
BIN    := target/release/metrics-generator

# The fully static binary that the image carries (see docs/deployment.md, "Static binary").
MUSL_TARGET := x86_64-unknown-linux-musl
STATIC_BIN  := target/$(MUSL_TARGET)/release/metrics-generator

# Image: built locally as IMAGE_NAME:IMAGE_TAG; `make push` copies it to REGISTRY.
CONTAINER_TOOL ?= podman
REGISTRY       ?=
IMAGE_NAME     ?= test-metrics
IMAGE_TAG      ?= latest
IMAGE          := $(IMAGE_NAME):$(IMAGE_TAG)
VERSION        := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)

# Kubernetes: the manifests in k8s/, deployed into NAMESPACE with the image from REGISTRY (where
# `make push` copied it; `REGISTRY=localhost` for a kind or minikube cluster that was given the
# image with `kind load` or `minikube image load`, as podman names local images localhost/…).
KUBECTL         ?= kubectl
NAMESPACE       ?= metrics-generator
SERVICE_MONITOR ?= 1
# The kustomization that `manifests` renders: k8s/, or k8s/sharded/ for the *-sharded targets,
# which deploy into SHARDED_NAMESPACE so that both can run side by side.
BASE              ?= k8s
SHARDED_NAMESPACE ?= metrics-generator-sharded
DEPLOY_IMAGE    := $(REGISTRY)/$(IMAGE_NAME)
# The example registry k8s/kustomization.yaml names, which the overlay below replaces.
MANIFEST_IMAGE  := registry.example.com/team/test-metrics

# bash with pipefail, so that `make manifests | kubectl apply` fails when rendering fails.
SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: build-bin static install run run-config lint test fuzz bench bench-smoke pictures health metrics \
	build push manifests deploy undeploy deploy-sharded undeploy-sharded registry-given status logs port-forward

# The release binary for this machine.
build-bin:
	$(CARGO) build --release --locked

# The fully static, stripped x86_64 binary, in the path the Dockerfile's `prebuilt` stage copies.
static:
	$(CARGO) build --release --locked --target $(MUSL_TARGET) --target-dir target

# Installs the release binary into $(PREFIX)/bin.
install: build-bin
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/metrics-generator

# Serves the embedded default config on port $(PORT).
run:
	$(CARGO) run --release --locked -- --port $(PORT)

# Serves $(CONFIG) on port $(PORT).
run-config:
	$(CARGO) run --release --locked -- --config $(CONFIG) --port $(PORT)

# Formatting and lints, as CI checks them.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	rustfmt --edition 2021 --check fuzz/fuzz_targets/*.rs

# Every test: unit, integration (the real binary over real sockets), the docs' Rust examples, the
# image and the Kubernetes manifests; then the vendored tiny_http: that it differs from its release
# only by the patches in its PATCHES.md, and its own tests and upstream's. Tests skipped for a
# missing tool are counted and listed at the end (they fail instead with REQUIRE_TOOLS=1 or
# CI=true), so that a skip is not mistaken for a pass.
SKIPPED := target/skipped-tests.txt
test:
	@mkdir -p $(dir $(SKIPPED)) && rm -f $(SKIPPED)
	vendor/tiny_http/diff-upstream.sh --check
	@status=0; \
	export SKIPPED_TESTS_FILE=$(abspath $(SKIPPED)); \
	$(CARGO) test --locked || status=$$?; \
	$(CARGO) test --locked -p tiny_http || status=$$?; \
	if [ -s $(SKIPPED) ]; then \
	  echo "SKIPPED: $$(wc -l < $(SKIPPED)) test(s) did not run for a missing tool (not a pass):"; \
	  sed 's/^/  /' $(SKIPPED); \
	else \
	  echo "no test was skipped"; \
	fi; \
	exit $$status

# The benchmarks: rendering and remote write (cargo bench) and serving against nginx (needs wrk and nginx).
bench:
	$(CARGO) bench --locked --bench render
	$(CARGO) bench --locked --bench landing
	$(CARGO) bench --locked --bench remote_write
	scripts/bench-http.sh

# A quick run of both benchmarks, so that they keep working (CI runs it).
bench-smoke:
	$(CARGO) bench --locked --bench render -- 1000
	$(CARGO) bench --locked --bench observe -- quick
	$(CARGO) bench --locked --bench landing -- quick
	$(CARGO) bench --locked --bench remote_write -- 1000 2
	ROUNDS=1 scripts/bench-http.sh 1 1

# The docs' pictures (docs/pictures/*.svg), drawn by `--preview 60 --svg` from the configs beside
# them; tests/it/packaging/docs.rs fails when they differ from what the binary draws.
PICTURES := docs/pictures
pictures:
	rm -f $(PICTURES)/*.svg
	for config in $(PICTURES)/*.json; do \
	  $(CARGO) run --quiet --locked -- --namespace "" --config "$$config" --preview 60 --svg $(PICTURES); \
	done

# Runs each fuzz target for FUZZ_SECONDS (cargo-fuzz, nightly toolchain); see scripts/fuzz.sh.
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# Asks a running exporter for its health.
health:
	curl -fsS http://localhost:$(PORT)/health

# Scrapes a running exporter.
metrics:
	curl -fsS http://localhost:$(PORT)/metrics

# The FROM scratch image $(IMAGE), from the host-built static binary: nothing is pulled. It leaves
# no untagged image behind: `--layers=false` keeps no intermediate images of the stages, and the
# image $(IMAGE) named before, once the new one takes the name, is removed if no other name holds it.
build: static
	@old=$$($(CONTAINER_TOOL) image inspect --format '{{.Id}}' $(IMAGE) 2>/dev/null || true); \
	$(CONTAINER_TOOL) build --layers=false --target prebuilt --build-arg VERSION=$(VERSION) -t $(IMAGE) .; \
	new=$$($(CONTAINER_TOOL) image inspect --format '{{.Id}}' $(IMAGE)); \
	if [ -n "$$old" ] && [ "$$old" != "$$new" ] && \
	   [ "$$($(CONTAINER_TOOL) image inspect --format '{{len .RepoTags}}' "$$old")" = 0 ]; then \
	  $(CONTAINER_TOOL) image rm "$$old" >/dev/null; \
	fi

# Pushes $(IMAGE) to $(REGISTRY), e.g. `make push REGISTRY=registry.example.com/team`.
push:
	@test -n "$(REGISTRY)" || { echo "error: make push needs REGISTRY, e.g. make push REGISTRY=registry.example.com/team" >&2; exit 2; }
	$(CONTAINER_TOOL) tag $(IMAGE) $(REGISTRY)/$(IMAGE)
	$(CONTAINER_TOOL) push $(REGISTRY)/$(IMAGE)

# The kustomize overlay that `manifests` renders: $(BASE) in $(NAMESPACE), with the image
# $(DEPLOY_IMAGE):$(IMAGE_TAG), without the ServiceMonitor when SERVICE_MONITOR=0 (clusters
# without the Prometheus Operator have no such kind).
define OVERLAY
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $(NAMESPACE)
resources:
  - ../../$(BASE)
images:
  - name: $(MANIFEST_IMAGE)
    newName: $(DEPLOY_IMAGE)
    newTag: $(IMAGE_TAG)
$(if $(filter 0,$(SERVICE_MONITOR)),$(DROP_SERVICE_MONITOR))
endef
define DROP_SERVICE_MONITOR
patches:
  - patch: |-
      $$patch: delete
      apiVersion: monitoring.coreos.com/v1
      kind: ServiceMonitor
      metadata:
        name: metrics-generator
endef
export OVERLAY

# Prints the manifests that `deploy` applies. The overlay lives two levels below the repository
# root because kustomize accepts only relative paths to a base.
manifests: registry-given
	@mkdir -p target
	@dir=$$(mktemp -d target/deploy.XXXXXX); trap 'rm -rf "$$dir"' EXIT; \
	printf '%s\n' "$$OVERLAY" > "$$dir/kustomization.yaml"; \
	$(KUBECTL) kustomize "$$dir"

# Applies the manifests to the current kubectl context.
deploy: registry-given
	$(MAKE) -s manifests | $(KUBECTL) apply -f -

# Deletes everything `deploy` created, the namespace included.
undeploy: registry-given
	$(MAKE) -s manifests | $(KUBECTL) delete --ignore-not-found -f -

# The sharded StatefulSet of k8s/sharded/: ten million series over ten pods. The number of pods
# is `replicas:` in k8s/sharded/kustomization.yaml, which also writes it into --shard.
deploy-sharded: registry-given
	$(MAKE) -s manifests BASE=k8s/sharded NAMESPACE=$(SHARDED_NAMESPACE) | $(KUBECTL) apply -f -

undeploy-sharded: registry-given
	$(MAKE) -s manifests BASE=k8s/sharded NAMESPACE=$(SHARDED_NAMESPACE) | $(KUBECTL) delete --ignore-not-found -f -

# The manifests name the image by the registry it is pulled from: there is no default, since a
# bare name would be pulled from Docker Hub, where it is not.
registry-given:
	@test -n "$(REGISTRY)" || { echo "error: make $(MAKECMDGOALS) needs REGISTRY, where make push put the image (e.g. REGISTRY=registry.example.com/team; REGISTRY=localhost for a local cluster given the image with kind load or minikube image load)" >&2; exit 2; }

# The exporter's workloads, pods, service and config in $(NAMESPACE) (for the sharded one,
# NAMESPACE=metrics-generator-sharded).
status:
	$(KUBECTL) -n $(NAMESPACE) get deployment,statefulset,pod,service,configmap -l app.kubernetes.io/name=metrics-generator -o wide

# Follows the exporter's logs.
logs:
	$(KUBECTL) -n $(NAMESPACE) logs deployment/metrics-generator --tail=100 -f

# Forwards localhost:$(PORT) to the exporter's service, for `make metrics` and `make health`.
port-forward:
	$(KUBECTL) -n $(NAMESPACE) port-forward service/metrics-generator $(PORT):metrics
