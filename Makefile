# rtcsim: the targets people and CI call. Everything installs what is missing first.
# Needs root: network namespaces (Janus refuses loopback ICE) and Debian packages.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES := janus janus-tools nftables iproute2 maven util-linux chromium \
                libjs-janus-gateway libjs-webrtc-adapter
# LiveKit records nothing (no Egress): its default scenario is the smoke without a recording.
SCENARIO ?= $(if $(filter livekit,$(SERVER)),scenarios/many-subscribers.yaml,scenarios/smoke.yaml)
SOAK_MINUTES ?= 5
SERVER ?= janus

.PHONY: help setup services run test unit lint stop status clean soak bench livekit

help:
	@echo "make run     - set up, start the media server (SERVER=janus|livekit) + Elasticsearch +"
	@echo "               collector, play $(SCENARIO), check it"
	@echo "make test    - set up and run the whole test suite (unit + integration on the real stack)"
	@echo "make stop    - stop every service rtcsim started and remove its network namespaces"
	@echo "make status  - what is running"
	@echo "make lint    - ruff, mypy --strict and the import contracts (lint-imports)"
	@echo "make soak    - peers joining and leaving for $(SOAK_MINUTES) min; fail if the collector's memory or fds grow"
	@echo "make bench   - the six benchmarks (issues 6 and 16), figures against targets (< 20 min)"
	@echo "make livekit - build livekit-server (Go module proxy) into ~/.cache/rtcsim/livekit/"
	@echo "               (also 'make setup SERVER=livekit')"

setup: $(STAMP) .run/apt.stamp $(if $(filter livekit,$(SERVER)),livekit)

# LiveKit, the second media server: built once from source with `go install` (a few minutes).
livekit: $(STAMP)
	@$(BIN)/python -m rtcsim.services.livekit_build

.run/apt.stamp:
	@test "$$(id -u)" = 0 || { echo "rtcsim needs root (network namespaces, Debian packages)"; exit 2; }
	@mkdir -p .run
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing \
	    || { echo "apt-get could not install:$$missing"; exit 2; }; \
	fi
	@touch $@

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[dev]'
	@touch $@

services: setup
	@RTCSIM_SERVER=$(SERVER) $(BIN)/rtcsim services up

run: services
	@RTCSIM_SERVER=$(SERVER) $(BIN)/rtcsim run $(SCENARIO); rc=$$?; \
	echo "services left running for inspection (logs in .run/); 'make stop' ends them"; exit $$rc

soak: services
	@$(BIN)/rtcsim soak --minutes $(SOAK_MINUTES)

# The suite plays the scenario library on both servers: LiveKit is built first (once, cached).
test: setup livekit
	@$(BIN)/pytest -q --durations=25

unit: setup
	@$(BIN)/pytest -q -m "not integration"

lint: setup
	@$(BIN)/ruff check rtcsim simulator collector bench tests
	@$(BIN)/ruff format --check rtcsim simulator collector bench tests
	@$(BIN)/mypy
	@$(BIN)/lint-imports --no-cache --no-logo

bench: services
	@$(BIN)/python -m bench.pion_build
	@$(BIN)/python -m bench

status: setup
	@$(BIN)/rtcsim services status

stop:
	@if [ -x $(BIN)/rtcsim ]; then $(BIN)/rtcsim services down; else echo "nothing to stop (not set up)"; fi

clean: stop
	rm -rf .run results/*/ $(VENV)
