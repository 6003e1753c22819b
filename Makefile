# devicewatch — build, test, demo and benchmarks.
# Every target installs what is missing on a fresh Debian machine first.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

SWIFT ?= swift
SWIFT_FLAGS ?=

.PHONY: all deps build release test demo bench clean

all: build

# libcurl's headers and pkg-config file; python3 jsonschema for schema tests.
deps:
	@if ! pkg-config --exists libcurl 2>/dev/null; then \
		echo "installing libcurl4-openssl-dev and pkg-config (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev pkg-config >/dev/null; \
	fi

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)

test: deps
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)

# The embedded alerting demo arrives with the worker; until then this shows the
# simulated Devices API and `devicewatch devices` end to end.
demo: build
	./scripts/demo-devices

# The decode suite reads the simulator's 100,000-device body from a file made first,
# so its time and peak memory are decoding's alone.
bench: deps
	cd Benchmarks && $(SWIFT) run -c release FleetBody .build/fleet-100k.json
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress | ../scripts/bench-targets

clean:
	rm -rf .build Benchmarks/.build
