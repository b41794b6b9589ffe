# Two entry points: `make demo` (install the library + offline end-to-end build) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

# The library alone: building, checking and publishing data need no torch.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e .
	touch $@

# The tests also run the training scripts and lm-eval: torch first, pinned (a CPU wheel here),
# so that nothing else pulls a different build.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,train,eval]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/okapi demo --out out/demo --langs vi,fr,hi

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest -q

.PHONY: install demo test
