# Everyday commands. `make test` is the whole test suite; `make run` serves the embedded default.
CARGO  ?= cargo
PORT   ?= 8000
CONFIG ?= example_config.json
PREFIX ?= /usr/local
BIN    := target/release/metrics-generator

.PHONY: build-bin install run run-config lint test fuzz health metrics

# The release binary for this machine.
build-bin:
	$(CARGO) build --release --locked

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

# Every test: unit, integration (the real binary over real sockets), README examples.
test:
	$(CARGO) test --locked

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
