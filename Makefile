# banjail: `make test` installs what the suite needs and runs it; `make check` lints and type-checks;
# `make bench` compares banjail with upstream fail2ban side by side.
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: test deps check bench install clean

deps:
	tools/install-test-deps

test: deps
	$(PY) -m pytest -n 2 -q $(PYTEST_ARGS)

check: deps
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy --strict src

bench: deps
	$(PY) bench/run.py

install:
	tools/install

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache bench/out
