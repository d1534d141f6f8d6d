# rtcsim: the targets people and CI call. Everything installs what is missing first.
# Needs root: network namespaces (Janus refuses loopback ICE) and Debian packages.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES := janus janus-tools nftables iproute2 maven util-linux chromium
SCENARIO ?= scenarios/smoke.yaml

.PHONY: help setup services run test unit lint stop status clean

help:
	@echo "make run     - set up, start Janus + Elasticsearch + collector, play $(SCENARIO), check it"
	@echo "make test    - set up and run the whole test suite (unit + integration on the real stack)"
	@echo "make stop    - stop every service rtcsim started and remove its network namespaces"
	@echo "make status  - what is running"
	@echo "make lint    - ruff and mypy --strict"

setup: $(STAMP) .run/apt.stamp

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
	@$(BIN)/rtcsim services up

run: services
	@$(BIN)/rtcsim run $(SCENARIO); rc=$$?; \
	echo "services left running for inspection (logs in .run/); 'make stop' ends them"; exit $$rc

test: setup
	@$(BIN)/pytest -q

unit: setup
	@$(BIN)/pytest -q -m "not integration"

lint: setup
	@$(BIN)/ruff check simulator collector tests
	@$(BIN)/ruff format --check simulator collector tests
	@$(BIN)/mypy

status: setup
	@$(BIN)/rtcsim services status

stop:
	@if [ -x $(BIN)/rtcsim ]; then $(BIN)/rtcsim services down; else echo "nothing to stop (not set up)"; fi

clean: stop
	rm -rf .run results/*/ $(VENV)
