"""Helpers that test modules share. Test modules import from here, never from one another or
from a conftest.py (fixtures stay in the conftest.py files)."""
