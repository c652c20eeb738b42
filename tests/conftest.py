"""Options every kind of test shares. Fixtures live in the conftest.py of the folder whose
tests use them (tests/integration: databases and settings; tests/e2e, tests/browser,
tests/cluster: the running product); helpers test modules share live in tests/support."""

from __future__ import annotations


def pytest_addoption(parser):
    parser.addoption("--update-screenshots", action="store_true",
                     help="browser tests save their screenshots into docs/screenshots/ "
                          "(otherwise into a temporary directory, leaving the work tree clean)")
