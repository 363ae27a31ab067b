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
import socket
import sys
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

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
    _Supervisor(config, _listening_sockets(config), store).run()


def _listening_sockets(config: DeadlineConfig) -> list[socket.socket]:
    """A listening socket a worker, all on one port (SO_REUSEPORT), where the system
    spreads new connections over them; elsewhere the one socket every worker shares.

    On one shared socket the worker whose loop wakes first accepts every connection
    waiting (asyncio takes the whole queue, which admission needs: see _serve), so a
    burst of connections, such as a client's pool opening, all went to one worker half
    the time and the other core sat idle (8 clients, 2 workers: 3,000 requests to one,
    none to the other). The supervisor keeps every socket open: while a worker is being
    replaced, the connections meant for it wait in its queue, not refused."""
    first = config.bind_socket()
    if not sys.platform.startswith("linux") or not hasattr(socket, "SO_REUSEPORT"):
        return [first]
    port = first.getsockname()[1]  # the one uvicorn logged, when --port 0 chose it
    first.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(config.workers):
            family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((config.host, port))
            sock.listen(config.backlog)
            sock.set_inheritable(True)
            sockets.append(sock)
    except OSError as error:
        for sock in sockets:
            sock.close()
        logging.getLogger("uvicorn.error").error(error)
        raise SystemExit(1) from None
    return sockets


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, except that SIGHUP reloads the rule sets (and the workers
    follow them) instead of restarting the workers (so uvicorn's restart_all, which would
    hand every worker every socket, is never called), and that each worker may have a
    listening socket of its own (`_listening_sockets`), which its replacement takes."""

    def __init__(self, config: DeadlineConfig, sockets: list, store: RuleStore):
        super().__init__(config, sockets)
        self.store = store
        self.per_worker = len(sockets) == config.workers > 1

    def _process(self, index: int) -> Process:
        return Process(self.config, [self.sockets[index]] if self.per_worker else self.sockets)

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            process = self._process(index)
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        # uvicorn's, but the replacement gets the socket of the worker it replaces.
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung: kill it
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # it would fail the same way again
                logging.getLogger("uvicorn.error").error(
                    f"Child process [{process.pid}] failed to start, stopping the parent process.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logging.getLogger("uvicorn.error").info(f"Child process [{process.pid}] died")
            process = self._process(index)
            process.start()
            self.processes[index] = process

    # A worker more would have no socket of its own; the connections queued on the socket
    # of a worker less would wait for ever.
    def handle_ttin(self) -> None:
        if not self._refused("SIGTTIN"):
            super().handle_ttin()

    def handle_ttou(self) -> None:
        if not self._refused("SIGTTOU"):
            super().handle_ttou()

    def _refused(self, signal_name: str) -> bool:
        if self.per_worker:
            logging.getLogger("uvicorn.error").info(
                f"{signal_name} ignored: each worker has its own socket; restart with --workers")
        return self.per_worker

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
