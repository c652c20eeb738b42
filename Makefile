# The README's quick start: `make run` sets everything up and starts the product,
# `make test` runs the whole test suite. Everything else is a building block of those.
.PHONY: setup run test lint bench clean

setup:
	@scripts/setup.sh

run: setup
	@.venv/bin/python -m stack run

test: setup
	@.venv/bin/python -m pytest

# The lint and type gate: ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade, blind except)
# over the whole tree, mypy over kb, common, gateway and assist_api (pyproject.toml).
lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy

bench: setup
	@.venv/bin/python bench/search_bench.py
	@.venv/bin/python bench/faq_retrieval_bench.py
	@.venv/bin/python bench/faq_dev_crossval.py
	@.venv/bin/python bench/embedding_bench.py
	@.venv/bin/python -m bench.fresh_kb_bench

clean:
	rm -rf var .venv .venv-rasa
