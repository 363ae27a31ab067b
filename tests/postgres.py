"""A PostgreSQL server of the tests' own: started once per test session on loopback,
in a temporary folder, and stopped at the end.

The server binaries are found with `pg_config --bindir`, else under
/usr/lib/postgresql/*/bin (Debian's package `postgresql`, which `.ci/run` installs),
else on PATH. `initdb` refuses to run as root, so as root the server runs as the
`postgres` user (or `nobody`). It listens on 127.0.0.1 on a free port, asks for a
password over TCP (scram-sha-256), and trades durability for speed (`fsync=off`): it
holds nothing but test data.

`TAKEDOWN_TEST_POSTGRES=postgresql://USER:PASSWORD@HOST:PORT/DB` uses a server that is
already running instead (the role must be allowed to create databases).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

__all__ = ["Server", "start_server", "ServerUnavailable", "free_port"]

USER = "takedown"


class ServerUnavailable(Exception):
    """No PostgreSQL server can be started here: the tests that need one are skipped
    with this message."""


@dataclass
class Server:
    host: str
    port: int
    user: str
    password: str
    maintenance_db: str = "postgres"
    folder: Path | None = None  # the data folder's parent, when the server is ours
    bindir: Path | None = None
    run_as: str | None = None

    def url(self, database: str | None = None, password: str | None = None) -> str:
        secret = quote(self.password if password is None else password, safe="")
        return (f"postgresql://{quote(self.user, safe='')}:{secret}@{self.host}:{self.port}/"
                f"{database or self.maintenance_db}")

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.folder is None:
            return
        _run([str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
              "-w", "stop"], self.run_as, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


def start_server() -> Server:
    """The server named by TAKEDOWN_TEST_POSTGRES, or a new one of our own. Raises
    `ServerUnavailable` saying why there is none."""
    given = os.environ.get("TAKEDOWN_TEST_POSTGRES")
    if given:
        parts = urlsplit(given)
        return Server(parts.hostname or "localhost", parts.port or 5432, parts.username or "",
                      parts.password or "", parts.path.lstrip("/") or "postgres")
    bindir = _bindir()
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="takedown-pg-"))
    password = secrets.token_urlsafe(12)
    try:
        (folder / "password").write_text(password + "\n")
        if run_as:
            entry = pwd.getpwnam(run_as)
            for path in (folder, folder / "password"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        initdb = _run([str(bindir / "initdb"), "-D", str(folder / "data"), "-U", USER,
                       "--pwfile", str(folder / "password"), "--auth-local=trust",
                       "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
                      run_as)
        if initdb.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {_tail(initdb.stderr)}")
        for _ in range(3):  # a free port may be taken between finding it and binding it
            port = free_port()
            options = (f"-p {port} -c listen_addresses=127.0.0.1 "
                       f"-c unix_socket_directories={folder} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
            started = _run([str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-l",
                            str(folder / "log"), "-w", "-t", "60", "-o", options, "start"],
                           run_as)
            if started.returncode == 0:
                return Server("127.0.0.1", port, USER, password, "postgres", folder, bindir,
                              run_as)
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        raise ServerUnavailable(f"pg_ctl start failed: {_tail(started.stderr + log)}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _bindir() -> Path:
    candidates = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
                         reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).resolve().parent))
    for candidate in candidates:
        if candidate and all((Path(candidate) / tool).is_file()
                             for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    raise ServerUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found "
                            "by pg_config, under /usr/lib/postgresql/*/bin or on PATH: install "
                            "the Debian package postgresql (.ci/run does), or set "
                            "TAKEDOWN_TEST_POSTGRES to a server's URL")


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ServerUnavailable("running as root, and there is no postgres or nobody user to run "
                            "the server as (initdb refuses to run as root)")


def _run(argv: list[str], run_as: str | None, check: bool = False) -> subprocess.CompletedProcess:
    kwargs = {}
    if run_as:
        entry = pwd.getpwnam(run_as)
        kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [],
                  "env": {"PATH": os.environ.get("PATH", ""), "HOME": entry.pw_dir,
                          "LC_ALL": "C"}}
    return subprocess.run(argv, capture_output=True, text=True, cwd="/", timeout=120,
                          check=check, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])
