# Chaxin: the two set-up commands are `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
DEMO := data/demo/csl_demo.jsonl.gz

.PHONY: system-deps install services services-stop run test lint typecheck bench clean worker-stop

# System packages (Redis, JDK, Maven, PostgreSQL, Chromium, fonts, Pango, poppler): installed as root,
# else the one `sudo apt-get install` line is printed; silent when nothing is missing.
system-deps:
	@PYTHON=$(PYTHON) bash scripts/system-deps.sh

$(BIN)/python: | system-deps
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

services: system-deps install
	@$(BIN)/python -m chaxin.services start

services-stop: install
	@$(BIN)/python -m chaxin.services stop

worker-stop:
	@if [ -f .services/worker.pid ]; then kill $$(cat .services/worker.pid) 2>/dev/null || true; rm -f .services/worker.pid; fi

# Services, a worker in the background, the demo corpus, then the API in the foreground.
run: services
	@$(BIN)/chaxin db upgrade
	@$(BIN)/chaxin demo accounts
	@$(BIN)/chaxin index create --if-missing >/dev/null
	@$(MAKE) --no-print-directory worker-stop
	@mkdir -p .services
	@nohup $(BIN)/chaxin worker --concurrency 2 > .services/worker.log 2>&1 & echo $$! > .services/worker.pid
	@$(BIN)/chaxin ingest --format csl $(DEMO) --wait
	@echo ""
	@echo "Chaxin 查新平台: http://$(HOST):$(PORT)/   (Ctrl-C 停止; 后台服务用 make services-stop 停止)"
	@trap '$(MAKE) --no-print-directory worker-stop' EXIT; $(BIN)/chaxin serve --host $(HOST) --port $(PORT)

# ruff (the rule set in pyproject.toml) and mypy --strict over every package come first: a lint or type
# error fails `make test` as a failing test would.
test: lint typecheck services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

bench: services
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py

clean: services-stop
	rm -rf .services $(VENV)
