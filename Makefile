# Switchyard: `make test` installs what is missing, builds, and runs every test.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT ?= swift
# Debian packages the build and the tests need (installed by `make deps` only when missing).
DEB_PACKAGES := pkg-config libssl-dev libnghttp2-dev libcap-dev openssl nginx iptables iproute2 curl ca-certificates python3 python3-venv gdb nghttp2-client nghttp2-server

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
	tools/swift-test-watchdog -- $(SWIFT) test
	$(MAKE) --no-print-directory check-examples
	$(MAKE) --no-print-directory conformance

unit-test:
	$(SWIFT) test

check-examples:
	$(SWIFT) run -c debug switchyard check --manifests examples/podinfo
	$(SWIFT) run -c debug switchyard check --manifests examples/grpc

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

# `make bench`: the mesh benchmark (bench/mesh/run.sh, twice: one thread per proxy, then each
# proxy's default threads; about 15 minutes). Installs what it needs
# when missing (the `deps` packages, then haproxy, wrk, nghttp2-client and nginx), builds the
# release binary, then runs the same mesh work (outbound proxy routing on x-request-id -> mTLS 1.3
# -> inbound proxy -> static nginx backend) through Switchyard, nginx and HAProxy on loopback,
# plus a direct connection, and writes bench/results/<date>.md and <date>-default-threads.md.
# `make bench SY_BENCH_SERIES=1` runs the one-thread series only. BENCH_BUILD_FLAGS are added to
# `swift build` (e.g. --scratch-path DIR); SY_BENCH_* settings are in bench/mesh/run.sh.
BENCH_BUILD_FLAGS ?=
BENCH_PACKAGES := haproxy wrk nghttp2-client nginx python3 curl openssl iproute2
.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(BENCH_PACKAGES)"
	@command -v $(SWIFT) >/dev/null || { echo "bench: no Swift toolchain: put swift on PATH, or under /opt/swift/usr/bin (swift.org/install)"; exit 1; }
	$(SWIFT) build -c release --product switchyard $(BENCH_BUILD_FLAGS)
	bin="$$($(SWIFT) build -c release --product switchyard $(BENCH_BUILD_FLAGS) --show-bin-path)/switchyard"; \
	SY_BENCH_THREADS=1 bench/mesh/run.sh "$$bin" && \
	if [ "$(SY_BENCH_SERIES)" != 1 ]; then SY_BENCH_THREADS=default bench/mesh/run.sh "$$bin"; fi

# Heap allocations per proxied HTTP/1.1 request (release; exits 1 over budget; docs/performance.md).
# Budgets = AllocationBudgetTests' release budgets.
.PHONY: alloc-budget
alloc-budget:
	$(SWIFT) build -c release --product SwitchyardAllocBench $(BENCH_BUILD_FLAGS)
	"$$($(SWIFT) build -c release --product SwitchyardAllocBench $(BENCH_BUILD_FLAGS) --show-bin-path)/SwitchyardAllocBench" --budget-mesh 82.5 --budget-plaintext 13.5

clean:
	rm -rf .build

# `make demo` (as root): Linkerd's dynamic request routing tutorial in network namespaces, with
# the release binary: two nodes (a `switchyard run --mode node` and its redirect rules in each),
# the frontend pod on node-1, backend-a and backend-b on node-2, examples/podinfo/ as the
# manifests (demo/run.sh, demo/world.sh). Everything it makes is deleted at the end, also on
# failure or Ctrl-C. DEMO_BUILD_FLAGS are added to `swift build` (e.g. --scratch-path DIR).
DEMO_BUILD_FLAGS ?=
.PHONY: demo
demo: deps
	@command -v $(SWIFT) >/dev/null || { echo "demo: no Swift toolchain: put swift on PATH, or under /opt/swift/usr/bin (swift.org/install)"; exit 1; }
	$(SWIFT) build -c release --product switchyard $(DEMO_BUILD_FLAGS)
	demo/run.sh "$$($(SWIFT) build -c release --product switchyard $(DEMO_BUILD_FLAGS) --show-bin-path)/switchyard"

# `make install`: the release binary, the systemd units, the certificate renewal script, the docs,
# /etc/switchyard/switchyard.yaml (only when absent; its node is this host's name), the system
# user `switchyard` and /var/lib/switchyard/identities (owned by root, group switchyard).
# `make uninstall` removes the binary, script, units and docs; the settings, the manifests,
# the identities and the user stay (docs/operations.md says how to remove them too).
# DESTDIR stages everything under a root (then no user is created, no file is chowned and
# systemd is not told). SKIP_BUILD=1 installs BINARY as it is, without building.
PREFIX ?= /usr/local
DESTDIR ?=
UNITDIR ?= /etc/systemd/system
SERVICE_USER ?= switchyard
BINARY ?= .build/release/switchyard
SKIP_BUILD ?=
NODE_NAME ?= $(shell hostname | tr 'A-Z' 'a-z')
BINDIR := $(PREFIX)/bin
LIBEXECDIR := $(PREFIX)/libexec/switchyard
DOCDIR := $(PREFIX)/share/doc/switchyard
SYSTEMD_UNITS := switchyard.service switchyard-certs.service switchyard-certs.timer
INSTALL_SED := -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/usr/local/libexec/switchyard/|$(LIBEXECDIR)/|g' \
	-e 's|/usr/local/share/doc/switchyard/|$(DOCDIR)/|g' -e 's|^User=switchyard$$|User=$(SERVICE_USER)|' \
	-e 's|^Group=switchyard$$|Group=$(SERVICE_USER)|' -e 's|^user: switchyard$$|user: $(SERVICE_USER)|'

.PHONY: install uninstall
install:
ifeq ($(SKIP_BUILD),)
	$(SWIFT) build -c release --product switchyard --static-swift-stdlib
endif
	@test -x "$(BINARY)" || { echo "install: $(BINARY) is not an executable (build it, or set BINARY=)"; exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)/etc/switchyard/manifests
	install -m 0755 "$(BINARY)" $(DESTDIR)$(BINDIR)/switchyard
	sed $(INSTALL_SED) systemd/switchyard-renew-certs > $(DESTDIR)$(LIBEXECDIR)/switchyard-renew-certs
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/switchyard-renew-certs
	for unit in $(SYSTEMD_UNITS); do \
	  sed $(INSTALL_SED) systemd/$$unit > $(DESTDIR)$(UNITDIR)/$$unit && chmod 0644 $(DESTDIR)$(UNITDIR)/$$unit || exit 1; \
	done
	install -m 0644 docs/operations.md docs/configuration.md $(DESTDIR)$(DOCDIR)/
	@if [ -e $(DESTDIR)/etc/switchyard/switchyard.yaml ]; then \
	  echo "kept $(DESTDIR)/etc/switchyard/switchyard.yaml"; \
	else \
	  sed $(INSTALL_SED) -e 's|@NODE@|$(NODE_NAME)|' systemd/switchyard.yaml > $(DESTDIR)/etc/switchyard/switchyard.yaml && \
	  chmod 0644 $(DESTDIR)/etc/switchyard/switchyard.yaml && \
	  echo "wrote $(DESTDIR)/etc/switchyard/switchyard.yaml (node: $(NODE_NAME))"; \
	fi
	@if [ -n "$(DESTDIR)" ]; then \
	  install -d -m 0750 $(DESTDIR)/var/lib/switchyard/identities; \
	else \
	  getent passwd $(SERVICE_USER) >/dev/null || { \
	    useradd --system --user-group --no-create-home --home-dir /var/lib/switchyard --shell /usr/sbin/nologin $(SERVICE_USER) && \
	    echo "created system user $(SERVICE_USER)"; } || exit 1; \
	  install -d -m 0755 /var/lib/switchyard && \
	  install -d -m 0750 -o root -g $$(id -gn $(SERVICE_USER)) /var/lib/switchyard/identities || exit 1; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	  echo "next: put the manifests in /etc/switchyard/manifests, the trust bundle in /etc/switchyard/trust-bundle.pem,"; \
	  echo "      the identities in /var/lib/switchyard/identities, then: systemctl enable --now switchyard switchyard-certs.timer"; \
	fi

uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	  systemctl disable --now switchyard-certs.timer switchyard-certs.service switchyard.service 2>/dev/null || true; \
	fi
	rm -f $(DESTDIR)$(BINDIR)/switchyard $(DESTDIR)$(LIBEXECDIR)/switchyard-renew-certs
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(SYSTEMD_UNITS))
	rm -f $(DESTDIR)$(DOCDIR)/operations.md $(DESTDIR)$(DOCDIR)/configuration.md
	rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "kept /etc/switchyard, /var/lib/switchyard and the user $(SERVICE_USER) (docs/operations.md: Uninstalling)"
