"""`python -m engine.service`: write the OpenAPI document the routes generate to
engine/service/openapi.json (with --check, only say whether it drifted)."""

from __future__ import annotations

import sys

from engine.service.app import build_app
from engine.service.openapi import OPENAPI_PATH, render


def main(argv: list[str] | None = None) -> int:
    text = render(build_app())
    if argv is None:
        argv = sys.argv[1:]
    if "--check" in argv:
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != text:
            print(f"{OPENAPI_PATH} is out of date: run python -m engine.service",
                  file=sys.stderr)
            return 1
        return 0
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
