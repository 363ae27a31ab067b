"""What the service was asked to do: flags, a config file and the environment, merged
once into a frozen `Settings`.

The config file is TOML:

    max_body_bytes = 5242880        # larger bodies get 413 before they are parsed
    max_batch_bytes = 67108864      # the same for /v1/check/batch, which streams
    max_in_flight = 32              # requests one worker takes at once; more get 429 at once
    max_queue_seconds = 1.0         # and one that waited longer for the worker gets 429 too
    header_seconds = 10.0           # a request's headers must be in within this, or 408
    body_seconds = 30.0             # and its body within this after them, or 408
    lint_cpu_seconds = 4.0          # CPU one /v1/lint may use, in a process of its own, or 422
    lint_memory_bytes = 1073741824  # that process's address space, or 422
    lint_slots = 0                  # lint processes at once, all workers together (0: cores - 1)
    lint_wait_seconds = 2.0         # how long a lint waits for a slot before 429

    [[keys]]
    name = "case-management"        # logged with each request; the key never is
    sha256 = "<64 hex digits>"      # `takedown serve --new-key` prints a key and this line
    scopes = ["check"]              # check, admin

Worker processes get the settings through one environment variable, with the keys as
digests only.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.evidence import MAX_EVIDENCE_BYTES
from engine.service.keys import Keyring

__all__ = ["Settings", "SettingsError", "ENV_KEYS", "ENV_SETTINGS", "DEFAULT_RULES"]

ENV_KEYS = "TAKEDOWN_API_KEYS"
ENV_SETTINGS = "TAKEDOWN_SERVICE_SETTINGS"
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "platform_policies"
DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024
# The limits that keep one client from starving the others (docs/reliability-service.md):
# admission, slow clients, and /v1/lint's own process.
_LIMITS = ("max_in_flight", "max_queue_seconds", "header_seconds", "body_seconds",
           "lint_cpu_seconds", "lint_memory_bytes", "lint_slots", "lint_wait_seconds")
_FILE_KEYS = {"keys", "max_body_bytes", "max_batch_bytes", *_LIMITS}


class SettingsError(ValueError):
    """The flags, the config file or the environment are wrong; the message says how."""


@dataclass(frozen=True)
class Settings:
    rules_dir: Path = DEFAULT_RULES
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    keyring: Keyring = field(default_factory=Keyring)
    max_body_bytes: int = MAX_EVIDENCE_BYTES
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    log_level: str = "info"
    # Defaults chosen on two cores: see docs/reliability-service.md for what they give.
    max_in_flight: int = 32
    max_queue_seconds: float = 1.0
    header_seconds: float = 10.0
    body_seconds: float = 30.0
    lint_cpu_seconds: float = 4.0
    lint_memory_bytes: int = 1 << 30
    lint_slots: int = 0  # 0: one fewer than the cores, at least one
    lint_wait_seconds: float = 2.0
    # Where snapshots of the rule sets in service are kept, shared by the workers; a
    # temporary directory when not given.
    state_dir: Path | None = None

    @classmethod
    def from_args(cls, args, environ: dict | None = None) -> Settings:
        """Settings from `takedown serve` arguments, the config file they name and the
        environment; raises SettingsError."""
        environ = os.environ if environ is None else environ
        values: dict = {}
        keyring = Keyring()
        if args.config:
            values, keyring = _read_config(Path(args.config))
        keyring = keyring.merged(Keyring.from_plain(environ.get(ENV_KEYS, "")))
        if args.max_body_bytes is not None:
            values["max_body_bytes"] = args.max_body_bytes
        for name in ("max_body_bytes", "max_batch_bytes"):
            if name in values and (not isinstance(values[name], int) or values[name] < 1024):
                raise SettingsError(f"{name} must be a whole number of bytes, at least 1024")
        for name in _LIMITS:
            _check_limit(values, name, cls.__dataclass_fields__[name].default)
        if args.workers < 1:
            raise SettingsError("--workers must be at least 1")
        if not 0 <= args.port <= 65535:
            raise SettingsError("--port must be between 0 and 65535")
        rules_dir = Path(args.rules) if args.rules else DEFAULT_RULES
        if not rules_dir.is_dir():
            raise SettingsError(f"no such rule-set directory: {rules_dir}")
        return cls(rules_dir=rules_dir.resolve(), host=args.host, port=args.port,
                   workers=args.workers, keyring=keyring, log_level=args.log_level, **values)

    def to_env(self) -> str:
        data = asdict(self)
        data["keyring"] = self.keyring.as_json()
        data["rules_dir"] = str(self.rules_dir)
        data["state_dir"] = str(self.state_dir) if self.state_dir else None
        return json.dumps(data)

    @classmethod
    def from_env(cls, text: str) -> Settings:
        data = json.loads(text)
        data["keyring"] = Keyring.from_json(data["keyring"])
        data["rules_dir"] = Path(data["rules_dir"])
        data["state_dir"] = Path(data["state_dir"]) if data["state_dir"] else None
        return cls(**data)


def _check_limit(values: dict, name: str, default: float) -> None:
    """A limit from the config file: of the default's type (a whole number where the
    default is one) and positive (lint_slots may be 0: as many as cores - 1)."""
    if name not in values:
        return
    value = values[name]
    whole = isinstance(default, int)
    is_number = isinstance(value, int) if whole else isinstance(value, int | float)
    least = 0 if name == "lint_slots" else (1 if whole else 0.001)
    if isinstance(value, bool) or not is_number or value < least:
        kind = "a whole number" if whole else "a number of seconds"
        raise SettingsError(f"{name} must be {kind}, at least {least}")
    if not whole:
        values[name] = float(value)


def _read_config(path: Path) -> tuple[dict, Keyring]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise SettingsError(f"{path}: unknown setting `{unknown[0]}` (known: "
                            + ", ".join(sorted(_FILE_KEYS)) + ")")
    keys = data.pop("keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise SettingsError(f"{path}: `keys` must be a list of [[keys]] tables")
    try:
        keyring = Keyring.from_json(keys)
    except ValueError as error:
        raise SettingsError(f"{path}: {error}") from None
    return data, keyring
