"""A throw-away PostgreSQL cluster for tests, started from the installed initdb/pg_ctl.

Not a system service: a fresh data directory in /tmp, a free loopback port, a
Unix socket in the same directory, removed at the end. PostgreSQL refuses to
run as root, so under root the server runs as the ``postgres`` (or ``nobody``)
user. When no server binaries are found the caller fails loudly: CI must have
them (see README).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PostgresMissingError", "find_pg_bin", "postgres_cluster"]


class PostgresMissingError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_pg_bin() -> Path:
    """Folder holding initdb and pg_ctl: $PG_BIN, PATH, or /usr/lib/postgresql/<newest>/bin."""
    candidates = [os.environ.get("PG_BIN", "")]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresMissingError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql-15 or set PG_BIN"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise PostgresMissingError("running as root and no 'postgres' or 'nobody' user to run the server as")


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yields a SQLAlchemy URL of an empty database; stops and removes it after."""
    bin_dir = find_pg_bin()
    prefix = _run_as()
    base = Path(tempfile.mkdtemp(prefix="jgnode-pg-"))
    data = base / "data"
    if prefix:
        user = prefix[2]
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    try:
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "jgnode",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            _create_database(bin_dir, prefix, port, base)
            yield f"postgresql+psycopg://jgnode@127.0.0.1:{port}/jgnode_test"
        finally:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _create_database(bin_dir: Path, prefix: list[str], port: int, socket_dir: Path) -> None:
    createdb = bin_dir / "createdb"
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run(
            [*prefix, str(createdb), "-h", str(socket_dir), "-p", str(port), "-U", "jgnode", "jgnode_test"],
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"createdb failed: {done.stderr.strip()}")
        time.sleep(0.2)
