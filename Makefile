# ironroot: the two commands.
#   make demo   sets up this machine and runs the whole local platform
#   make test   sets up this machine and runs every test (format, lints, cargo-deny,
#               unit, integration against swtpm and tpm2-tools, fuzz smoke runs)
#
# Tests that need a real peer (swtpm, PostgreSQL, SoftHSM2, the registry, skopeo...) read
# IRONROOT_REQUIRE_PEERS, IRONROOT_ALLOW_SKIP and IRONROOT_SKIP_LOG from the environment,
# which make passes to every recipe unchanged (crates/testkit/src/peer.rs).

# Build output lives outside the clone so that CI and fresh clones on this machine reuse it.
export CARGO_TARGET_DIR ?= /var/cache/ironroot/target
CARGO ?= cargo
BIN := $(CARGO_TARGET_DIR)/release/ironroot

.PHONY: demo test deps build lint deny unit manifests fuzz bench clean

demo: deps build
	$(BIN) demo

build:
	$(CARGO) build --release --locked -p ironroot-cli -p ironroot-agent -p ironroot-keyprovider

test: deps lint deny unit manifests fuzz

deps:
	@scripts/install-deps.sh

lint:
	$(CARGO) fmt --all -- --check
	@scripts/check-layers.sh
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked --workspace --all-targets --all-features -- -D warnings

# Bans (ring, OpenSSL, a second TLS stack), licences, sources, RustSec advisories (deny.toml).
deny:
	@scripts/deny.sh

unit:
	$(CARGO) test --locked --workspace --all-features

manifests:
	@scripts/validate-manifests.sh

fuzz:
	@scripts/fuzz-smoke.sh

bench:
	$(CARGO) run --release --locked -p ironroot-bench

clean:
	rm -rf .demo
