"""`takedown serve`: check the settings and the rule sets, then serve under uvicorn.

Nothing listens until the rule sets have loaded without errors, and without API keys
nothing listens beyond loopback. One worker runs in this process. With several, uvicorn's
supervisor runs here and starts the workers; it also takes SIGHUP, on which it reloads
the rule sets and publishes them to the workers (the workers keep running: requests in
flight are not cut, and no worker serves without rule sets while it restarts).
"""

from __future__ import annotations

import dataclasses
import logging
import logging.config
import os
import shutil
import sys
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

import rules
from engine.evaluation import RulesError
from engine.service.connections import DeadlineConfig
from engine.service.generations import RuleStore
from engine.service.keys import hash_key, is_loopback, new_key
from engine.service.logs import log, log_config, log_reload
from engine.service.settings import ENV_KEYS, ENV_SETTINGS, Settings, SettingsError

__all__ = ["main"]

EXIT_OK, EXIT_USAGE, EXIT_RULES = 0, 2, 4


def main(args) -> int:
    if args.new_key:
        print(_new_key_text())
        return EXIT_OK
    try:
        settings = Settings.from_args(args)
    except SettingsError as error:
        print(f"takedown serve: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not settings.keyring.is_enabled and not is_loopback(settings.host):
        print(f"takedown serve: refusing to listen on {settings.host} without API keys; set "
              f"{ENV_KEYS} or give --config (see README, 'HTTP service'), or listen on "
              "127.0.0.1", file=sys.stderr)
        return EXIT_USAGE
    os.environ.pop(ENV_KEYS, None)  # hashed now: no worker needs the plain keys
    state_dir = Path(tempfile.mkdtemp(prefix="takedown-serve-"))
    try:
        settings = dataclasses.replace(settings, state_dir=state_dir)
        store = RuleStore(settings.rules_dir, state_dir)
        try:
            loaded = store.start()
        except RulesError as error:
            errors = [d for d in error.diagnostics if d.is_error]
            print(rules.render_text(errors, {}), file=sys.stderr)
            print(f"takedown serve: the rule sets in {settings.rules_dir} have {len(errors)} "
                  "errors; run `takedown lint`", file=sys.stderr)
            return EXIT_RULES
        logging.config.dictConfig(log_config(settings.log_level))
        log(logging.INFO, "rules loaded", generation=loaded.serving.id,
            rulesets=len(loaded.serving.engine.registry), warnings=len(loaded.diagnostics))
        log(logging.INFO, "starting", host=settings.host, port=settings.port,
            workers=settings.workers, api_keys=len(settings.keyring),
            max_body_bytes=settings.max_body_bytes, max_in_flight=settings.max_in_flight,
            header_seconds=settings.header_seconds, body_seconds=settings.body_seconds)
        _serve(settings, store)
        return EXIT_OK
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def _serve(settings: Settings, store: RuleStore) -> None:
    # asyncio's own event loop, not uvloop: libuv accepts one connection per turn of the
    # loop (libuv pull request 3696), so under load new connections wait in the listen
    # queue, seconds on end where admission cannot see them (docs/reliability-service.md);
    # asyncio accepts every waiting connection each turn.
    options = dict(host=settings.host, port=settings.port, log_config=log_config(settings.log_level),
                   loop="asyncio", access_log=False, server_header=False, proxy_headers=False,
                   timeout_graceful_shutdown=30, header_seconds=settings.header_seconds,
                   body_seconds=settings.body_seconds)
    if settings.workers == 1:
        from engine.service.app import create_app

        server = uvicorn.Server(DeadlineConfig(create_app(settings, store), **options))
        server.run()
        if not server.started:  # could not bind, for instance
            raise SystemExit(1)
        return
    os.environ[ENV_SETTINGS] = settings.to_env()
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = settings.state_dir / "metrics"
        metrics_dir.mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    config = DeadlineConfig("engine.service.app:create_app_from_env", factory=True,
                            workers=settings.workers, **options)
    _Supervisor(config, [config.bind_socket()], store).run()


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, except that SIGHUP reloads the rule sets (and the workers
    follow them) instead of restarting the workers."""

    def __init__(self, config: DeadlineConfig, sockets: list, store: RuleStore):
        super().__init__(config, sockets)
        self.store = store

    def handle_hup(self) -> None:
        try:
            result = self.store.reload()
        except Exception:
            logging.getLogger("takedown.service").exception("rules reload failed")
            return
        log_reload(result, "SIGHUP")


def _new_key_text() -> str:
    key = new_key()
    return "\n".join([
        f"key: {key}",
        "",
        "Give the key to its holder and keep only its hash: add this to the config file",
        "(scopes: check to evaluate and read, admin to reload rule sets).",
        "",
        "[[keys]]",
        'name = "CHANGE-ME"',
        f'sha256 = "{hash_key(key)}"',
        'scopes = ["check"]',
    ])
