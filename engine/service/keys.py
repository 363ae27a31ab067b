"""API keys: who may call the service, and for what.

Keys are stored as SHA-256 digests, never as given: a config file holds only digests,
and the plain keys of TAKEDOWN_API_KEYS are hashed as they are read. A fast hash is
right here where a password would need a slow one: keys are long random tokens
(`new_key` makes 256-bit ones), so there is nothing to guess from a digest, and a
request costs one hash, not a key-derivation function. A presented key is looked up by
its digest, so the time the lookup takes says nothing about any stored key.

Scopes say what a key may do: `check` for evaluating and reading (check, batch,
explain, lint, rule sets), `admin` for reloading rule sets.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["SCOPES", "ApiKey", "Keyring", "hash_key", "new_key", "is_loopback"]

SCOPES = ("check", "admin")
_PREFIX = "td_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A new random key: 256 bits, URL-safe, recognisable by its prefix."""
    return _PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str  # who holds it: logged, unlike the key
    sha256: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class Keyring:
    """The keys the service accepts. An empty keyring means no authentication, which the
    service allows only on loopback."""

    def __init__(self, keys: Iterable[ApiKey] = ()):
        self._by_digest = {k.sha256: k for k in keys}

    def __len__(self) -> int:
        return len(self._by_digest)

    @property
    def is_enabled(self) -> bool:
        return bool(self._by_digest)

    def find(self, presented: str) -> ApiKey | None:
        return self._by_digest.get(hash_key(presented))

    def as_json(self) -> list[dict]:
        """Digests and scopes only, to hand the keyring to worker processes."""
        return [{"name": k.name, "sha256": k.sha256, "scopes": sorted(k.scopes)}
                for k in self._by_digest.values()]

    @classmethod
    def from_json(cls, entries: Iterable[Mapping]) -> Keyring:
        """Keys as a config file gives them; raises ValueError naming what is wrong."""
        keys = []
        for index, entry in enumerate(entries, start=1):
            where = f"key {index}" + (f" ({entry['name']})" if entry.get("name") else "")
            digest = str(entry.get("sha256", "")).lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"{where}: `sha256` must be the 64 hex digits of the key's "
                                 "SHA-256 (takedown serve --new-key prints one)")
            scopes = entry.get("scopes", ["check"])
            if isinstance(scopes, str) or not all(s in SCOPES for s in scopes):
                raise ValueError(f"{where}: `scopes` must be a list drawn from "
                                 + ", ".join(SCOPES))
            keys.append(ApiKey(str(entry.get("name") or f"key-{index}"), digest,
                               frozenset(scopes)))
        return cls(keys)

    @classmethod
    def from_plain(cls, text: str) -> Keyring:
        """The comma-separated plain keys of TAKEDOWN_API_KEYS, hashed now. Each may do
        everything: the simple case is one operator; give clients their own scopes in a
        config file."""
        keys = [k.strip() for k in text.split(",") if k.strip()]
        return cls(ApiKey(f"env-{index}", hash_key(k), frozenset(SCOPES))
                   for index, k in enumerate(keys, start=1))

    def merged(self, other: Keyring) -> Keyring:
        return Keyring([*self._by_digest.values(), *other._by_digest.values()])


def is_loopback(host: str) -> bool:
    """Whether listening on `host` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
