"""Tests of the HTTP service (see tests/__init__.py for why this is a package)."""
