# make demo    set up .venv with zoo alone, then train circle-v2 (the lesson's non-linear model)
# make test    set up .venv with every extra and the dev tools, then lint, type-check and run
#              the whole test suite
# make check   lint, type-check and the fast tests: the inner loop (2 to 3 minutes on 2 cores)
# make lint    ruff (lint and format) and mypy only
# make docs    build the documentation site into site/ (mkdocs build --strict: a broken link fails)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch; pip finds it on this machine's disk. Installed first, so that the
# project's own `torch>=2.4` is already satisfied and never pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: install demo lint check test docs clean

install: $(VENV)/.installed

# zoo and what it needs to train: all that the demo installs.
$(VENV)/.zoo: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e .
	touch $@

# Then every extra and the development tools: pyproject's [dependency-groups] need pip 25.1.
$(VENV)/.installed: $(VENV)/.zoo
	$(BIN)/pip install --quiet "pip>=25.1"
	$(BIN)/pip install --quiet -e ".[ray,tensorboard,mlflow,onnx]" --group dev
	touch $@

demo: $(VENV)/.zoo
	$(BIN)/zoo train circle-v2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint
	$(BIN)/python -m pytest -m "not slow" -q -n 2

test: lint
	$(BIN)/python -m pytest -n 2

docs: install
	$(BIN)/python -m mkdocs build --strict

clean:
	rm -rf $(VENV) runs build dist site *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache
