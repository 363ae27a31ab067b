"""Coverage-guided fuzzing of the readers of untrusted input, with atheris (libFuzzer).

- `targets`: one function per reader (rule files, expressions, evidence, NDJSON batches,
  responses sheets) that takes bytes and fails only on a bug, and the seed corpus each
  starts from, taken from the bundled files;
- `child`: one target under atheris, in a process of its own (libFuzzer ends the
  process when it stops);
- `__main__`: `python -m tests.fuzz [TARGET...] --seconds S`, which runs the targets one
  after the other and reports executions and crashes (`make fuzz`);
- `crashes/TARGET/`: every input that ever crashed a target, replayed by
  tests/fuzz/test_targets.py on every `make test`.
"""
