"""Tests of the decision engine (see tests/__init__.py for why this is a package)."""
