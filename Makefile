PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

# uv installs exactly what uv.lock names; it is itself pinned and kept in its own small venv,
# so a machine with only Python and make needs nothing else.
UV_VERSION := 0.13.9
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
UV_ENV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never UV_PYTHON=$(PYTHON)

.PHONY: run test lint bench upgrade clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV_ENV) $(UV) sync --locked --extra test --quiet
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check cnnviz ui pages app.py tests bench
	$(BIN)/mypy cnnviz ui
	$(BIN)/mypy --strict cnnviz

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# Re-lock to the newest releases and run the suite: drift arrives as a reviewed change to uv.lock.
upgrade: | $(UV)
	$(UV_ENV) $(UV) lock --upgrade
	$(UV_ENV) $(UV) sync --locked --extra test
	touch $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache *.egg-info
