# portal-crawler: every target creates .venv and installs the project when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARCHIVE ?= archive

.PHONY: install demo crawl test test-fast lint bench bench-quick bench-against kill-campaign clean

# The exact versions of requirements.lock (every extra), then the project itself without resolving again.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/portal-crawler demo --archive demo-archive
	$(BIN)/portal-crawler wacz --archive demo-archive --output demo-archive/demo.wacz --force
	@echo "demo-archive/demo.wacz: open it in ReplayWeb.page (https://replayweb.page, 'Choose File'; nothing is uploaded),"
	@echo "or replay it here: $(BIN)/portal-crawler replay --wacz demo-archive/demo.wacz --port 8090, then http://127.0.0.1:8090/mps/"

crawl: $(STAMP)
	$(BIN)/portal-crawler crawl --archive $(ARCHIVE)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m 'not slow'

lint: $(STAMP)
	$(BIN)/ruff check portal_crawler tests bench scripts
	$(BIN)/ruff format --check portal_crawler tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

# this tree against release 0.1.0's code at the same moment, on the same inputs (REF=<commit> for another)
bench-against: $(STAMP)
	$(BIN)/python -m bench.against $(if $(REF),--ref $(REF))

kill-campaign: $(STAMP)
	$(BIN)/python -m bench.kill_campaign

# requirements.lock: pyproject's dependencies and every extra, resolved by uv for Python 3.11 on any platform.
# `make lock` keeps the pinned versions that pyproject still allows (after a dependency is added or changed);
# `make lock-upgrade` moves every package to its newest allowed version. Review the diff, then `make test`.
.PHONY: lock lock-upgrade
LOCK := $(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
	--custom-compile-command 'make lock' --quiet --output-file requirements.lock

lock: $(BIN)/uv
	$(LOCK)

lock-upgrade: $(BIN)/uv
	$(LOCK) --upgrade

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q 'uv>=0.5'

clean:
	rm -rf $(VENV) *.egg-info
