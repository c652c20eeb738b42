# The README's quick start: `make run` sets everything up and starts the product,
# `make test` runs the whole test suite. Everything else is a building block of those.
.PHONY: setup run test bench clean

setup:
	@scripts/setup.sh

run: setup
	@echo "[run] serving on http://$${CS_API_HOST:-127.0.0.1}:$${CS_API_PORT:-8000} (Ctrl-C stops)"
	@.venv/bin/python -m assist_api

test: setup
	@.venv/bin/python -m pytest

bench: setup
	@.venv/bin/python bench/search_bench.py

clean:
	rm -rf var .venv
