# Two commands on a new machine:  `make run` (app on the bundled corpus)  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
QA     := $(VENV)/bin/qa
INDEX  ?= index
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1

.PHONY: install install-dev index run lint test test-fast eval heldout bench clean browser ocr

# torch is installed first and pinned: an unpinned torch would pull a multi-GB CUDA build.
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The end-to-end tests drive Debian's Chromium; install it when missing (needs root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' for the browser tests"; fi; }

# Scanned PDF pages are read by tesseract (rendered by poppler's pdftoppm); the OCR tests need both.
ocr:
	@{ command -v tesseract >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr poppler-utils >/dev/null; \
	  else echo "tesseract or pdftoppm is missing: run 'sudo apt-get install tesseract-ocr poppler-utils' for the OCR tests"; fi; }

$(INDEX)/CURRENT: | $(VENV)/.installed
	$(QA) ingest corpus/ --index $(INDEX)

index: install
	$(QA) ingest corpus/ --index $(INDEX)

# Ingest is incremental: a no-op when corpus/ is unchanged, a rebuild when the index format changed.
run: install
	$(QA) ingest corpus/ --index $(INDEX)
	$(QA) serve --host $(HOST) --port $(PORT) --index $(INDEX)

# The gate: lint, format and types; `make test` runs it before the suite.
lint: install-dev
	$(VENV)/bin/ruff check qa web tests eval
	$(VENV)/bin/ruff format --check qa web tests eval
	$(VENV)/bin/mypy

test: lint browser ocr
	$(PY) -m pytest -q

test-fast: install-dev
	$(PY) -m pytest -q -m "not e2e and not slow"

eval: install $(INDEX)/CURRENT
	$(QA) eval --gold eval/gold.jsonl --index $(INDEX) --out eval/report

# The held-out sets of the training pool (../shared/qa-train), each ingested and scored under build/heldout/.
heldout: install
	$(PY) eval/heldout.py

$(VENV)/.installed-bench: $(VENV)/.installed-dev requirements-bench.txt
	$(PIP) install -q -r requirements-bench.txt torch==2.13.0
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) -m eval.bench --quick

clean:
	rm -rf $(VENV) $(INDEX) .pytest_cache test-artifacts
