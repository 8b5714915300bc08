"""Fixtures shared by every test folder.

The whole run keeps its workspace store (SQLite) and upload cache in one temp dir, set
here before anything reads the settings, so the tests never write into the checkout; the
app servers that browser tests start inherit it.

`postgres_url`: a throwaway PostgreSQL cluster (Debian's `postgresql` package: `initdb` and
`pg_ctl`) in a temp dir on a free loopback port, once per test session, stopped and removed
afterwards. Tests that use it are skipped with the reason when PostgreSQL is not installed,
unless `CNNVIZ_REQUIRE_POSTGRES=1` (CI), where they fail instead.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_STORE_DIR = tempfile.mkdtemp(prefix="cnnviz-test-store-")
atexit.register(shutil.rmtree, _STORE_DIR, True)
os.environ.setdefault("CNNVIZ_STORE_PATH", os.path.join(_STORE_DIR, "cnnviz.db"))
os.environ.setdefault("CNNVIZ_UPLOAD_CACHE", os.path.join(_STORE_DIR, "uploads"))

_PG_USER = "postgres"  # initdb refuses to run as root; Debian's package creates this user


def _pg_bin(name: str) -> Path | None:
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return Path(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_cluster_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", _PG_USER, "--", *command]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a live PostgreSQL server on loopback (database `postgres`)."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        reason = "PostgreSQL (initdb, pg_ctl) is not installed: apt-get install postgresql"
        if os.environ.get("CNNVIZ_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="cnnviz-pg-"))
    data, port = root / "data", _free_port()
    if os.geteuid() == 0:
        owner = pwd.getpwnam(_PG_USER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    user = pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() != 0 else _PG_USER
    subprocess.run(_as_cluster_owner([str(initdb), "-D", str(data), "-A", "trust", "-U", user,
                                      "--no-sync", "-E", "UTF8"]),
                   check=True, capture_output=True, timeout=120)
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {root} -c fsync=off"
    subprocess.run(_as_cluster_owner([str(pg_ctl), "-D", str(data), "-o", options, "-w",
                                      "-l", str(root / "server.log"), "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_cluster_owner([str(pg_ctl), "-D", str(data), "-m", "immediate",
                                          "-w", "stop"]), capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def fresh_postgres_database(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Makes empty databases on the shared server; each is dropped after the test."""
    import sqlalchemy as sa

    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"cnnviz_test_{len(made)}_{os.getpid()}_{id(made)}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return postgres_server.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
