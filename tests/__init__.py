"""The tests, as a package: with tests/engine/__init__.py this makes the engine tests
`tests.engine.*`, so that tests/engine/test_properties.py does not collide with
tests/rules/test_properties.py, and `engine` stays the engine package under pytest."""
