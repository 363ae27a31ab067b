"""One fuzz target under atheris: `python -m tests.fuzz.child TARGET CORPUS [libFuzzer flags]`.

The modules that read untrusted input (ours, and the parsers they rely on: Lark, YAML,
JSON Schema) are instrumented for coverage as they are imported. A crash is kept rather
than ending the run: the input is written to `$TAKEDOWN_FUZZ_CRASHES/TARGET/` with the
traceback beside it, and the fuzzer goes on, so that one run reports every distinct
crash it meets. Hangs and memory blow-ups are libFuzzer's to catch (-timeout,
-rss_limit_mb): it stops and writes the input as an artifact.
"""

from __future__ import annotations

import hashlib
import os
import sys
import traceback
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["rules", "engine", "lark", "yaml", "jsonschema",
                                         "tests.fuzz"]):
    # Imported here, not where the targets first need them, so that they are instrumented.
    import engine.audit.sheet
    import engine.evidence
    import engine.service.app  # noqa: F401
    import rules
    import rules.evaluation  # noqa: F401
    from tests.fuzz.targets import TARGETS


def _signature(error: BaseException) -> str:
    """Where a crash happened: its type and the innermost frame in our code."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if "/rules/" in f.filename or "/engine/" in f.filename or "/tests/" in f.filename]
    where = frames[-1] if frames else traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__} at {Path(where.filename).name}:{where.lineno}"


def main() -> None:
    name = sys.argv.pop(1)
    target = TARGETS[name]
    folder = Path(os.environ.get("TAKEDOWN_FUZZ_CRASHES", "fuzz-crashes")) / name
    seen: set[str] = set()

    def one_input(data: bytes) -> None:
        try:
            target.check(data)
        except Exception as error:  # a crash: keep it, once per place, and go on
            signature = _signature(error)
            if signature in seen:
                return
            seen.add(signature)
            folder.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha1(data).hexdigest()
            (folder / digest).write_bytes(data)
            (folder / f"{digest}.txt").write_text(
                signature + "\n\n" + "".join(traceback.format_exception(error)),
                encoding="utf-8")
            print(f"CRASH {name} {signature} -> {folder / digest}", file=sys.stderr, flush=True)

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
