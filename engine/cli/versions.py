"""`takedown versions`: the rule sets, their versions, periods and hashes."""

from __future__ import annotations

import json

from engine.cli.common import EXIT_OK, registry_for
from engine.documents import ruleset_json
from engine.render import render_table


def register(sub) -> None:
    versions = sub.add_parser("versions", help="list rule sets, versions, periods and hashes")
    versions.add_argument("platform", nargs="?", help="only rule sets covering this platform")
    versions.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    versions.add_argument("--format", choices=("text", "json"), default="text")
    versions.set_defaults(run=cmd_versions)


def cmd_versions(args) -> int:
    registry = registry_for(args, "takedown versions")
    if isinstance(registry, int):
        return registry
    shown = [r for r in registry if not args.platform or r.covers(args.platform)]
    if args.format == "json":
        print(json.dumps([ruleset_json(r, r.path) for r in shown], indent=2))
        return EXIT_OK
    rows = [("rule set", "version", "from", "until", "platform", "sha256")]
    for r in shown:
        rows.append((r.id, r.version, r.effective_from.isoformat(),
                     r.effective_until.isoformat() if r.effective_until else "(in force)",
                     r.platform + (f" ({', '.join(r.surfaces)})" if r.surfaces else ""),
                     r.sha256[:12]))
    print(render_table(rows))
    return EXIT_OK
