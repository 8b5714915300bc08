"""A throwaway Ray cluster on loopback for the bench scripts: a head at 127.0.0.2 and,
optionally, a second node at 127.0.0.3, each its own raylet as two machines would have.
Stopped (`ray stop --force`) on leaving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


@contextmanager
def loopback_cluster(nodes: int = 1, cpus: int = 1) -> Iterator[str]:
    """The head's address; `nodes` raylets of `cpus` CPUs each."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "RAY_TMPDIR": tempfile.mkdtemp(prefix="ray")}
    os.environ["RAY_TMPDIR"] = env["RAY_TMPDIR"]
    address = f"127.0.0.2:{port}"
    try:
        subprocess.run(
            [RAY, "start", "--head", "--node-ip-address=127.0.0.2", f"--port={port}",
             f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        for number in range(1, nodes):
            subprocess.run(
                [RAY, "start", f"--address={address}", f"--node-ip-address=127.0.0.{2 + number}",
                 f"--num-cpus={cpus}"],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
        yield address
    finally:
        if "ray" in sys.modules:
            sys.modules["ray"].shutdown()
        subprocess.run([RAY, "stop", "--force"], env=env, check=False, capture_output=True)
