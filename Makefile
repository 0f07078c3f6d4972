# Switchyard: `make test` installs what is missing, builds, and runs every test.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT ?= swift
# Debian packages the build and the tests need (installed by `make deps` only when missing).
DEB_PACKAGES := pkg-config libssl-dev libnghttp2-dev libcap-dev openssl nginx iptables iproute2 curl ca-certificates python3

.PHONY: all deps build release test unit-test conformance bench-router check-examples clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "deps: all present"; fi

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# The whole suite: unit and integration tests, the example manifests, then the conformance run
# (its last line is the closing count).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test
	$(MAKE) --no-print-directory check-examples
	$(MAKE) --no-print-directory conformance

unit-test:
	$(SWIFT) test

check-examples:
	$(SWIFT) run -c debug switchyard check --manifests examples/podinfo

conformance:
	$(SWIFT) run -c debug switchyard-conformance conformance/gateway-api-httproute-cases.yaml

# Route decisions per second on the tutorial table (release build; a benchmark, not a test).
bench-router:
	$(SWIFT) run -c release SwitchyardRouterBench

# Full mTLS 1.3 handshakes/s and bulk MB/s through TLSHandler on one core (CPU 0), then openssl
# s_time / s_server / s_client / speed on the same machine, and a table of both (release build;
# a benchmark, not a test; about two minutes).
.PHONY: bench-tls
bench-tls:
	$(SWIFT) build -c release --product SwitchyardTLSBench
	@results=$$(mktemp /tmp/sy-tls-bench.XXXXXX) && trap 'rm -f "$$results"' EXIT && \
	taskset -c 0 "$$($(SWIFT) build -c release --show-bin-path)/SwitchyardTLSBench" --results "$$results" && \
	SWIFT="$(SWIFT)" bench/tls-baseline.sh "$$results"

clean:
	rm -rf .build
