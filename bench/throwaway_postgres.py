"""A throwaway PostgreSQL cluster on loopback for a bench run: `initdb` and `pg_ctl` in a
temp dir on a free port, stopped and removed afterwards (as the tests' fixture does)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["throwaway_postgres"]

_PG_USER = "postgres"  # initdb refuses to run as root; Debian's package creates this user


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise SystemExit(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", _PG_USER, "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Yields the URL of an empty database `cnnviz` on a fresh cluster."""
    root = Path(tempfile.mkdtemp(prefix="cnnviz-bench-pg-"))
    data = root / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    if os.geteuid() == 0:
        owner = pwd.getpwnam(_PG_USER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    user = _PG_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(_as_owner([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", user,
                              "-E", "UTF8"]), check=True, capture_output=True, timeout=120)
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {root}"
    subprocess.run(_as_owner([_pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                              str(root / "server.log"), "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE cnnviz"))
        admin.dispose()
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/cnnviz"
    finally:
        subprocess.run(_as_owner([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                  "stop"]), capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
