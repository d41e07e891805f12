# make demo   set up .venv, then train circle-v2 (the lesson's non-linear model) on circles
# make test   set up .venv, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch; pip finds it on this machine's disk. Installed first, so that the
# project's own `torch>=2.4` is already satisfied and never pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: install demo test clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: install
	$(BIN)/zoo train circle-v2

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs build *.egg-info .pytest_cache .hypothesis
