# The README's quick start: `make run` sets everything up and starts the product,
# `make test` runs the whole test suite. Everything else is a building block of those.
.PHONY: setup run test lint bench clean

# The runtime installs no training libraries (`make run`, the deploy images); the tests add
# the `train` extra (some of them train models), the benchmarks the `bench` extra.
setup:
	@scripts/setup.sh dev

run: setup
	@.venv/bin/python -m stack run

test:
	@scripts/setup.sh dev,train
	@.venv/bin/python -m pytest

# The lint and type gate: ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade, blind except)
# over the whole tree, mypy over kb, common, gateway and assist_api (pyproject.toml).
lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy

bench:
	@scripts/setup.sh dev,bench
	@.venv/bin/python bench/search_bench.py
	@.venv/bin/python bench/faq_retrieval_bench.py
	@.venv/bin/python bench/faq_dev_crossval.py
	@.venv/bin/python bench/embedding_bench.py
	@.venv/bin/python -m bench.fresh_kb_bench

clean:
	rm -rf var .venv .venv-rasa
