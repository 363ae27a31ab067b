"""Tests of the audit package: the case store, replay and reports (see tests/__init__.py
for why this is a package)."""
