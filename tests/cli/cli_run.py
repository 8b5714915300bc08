"""The command line run in this process, as the CLI tests call it."""

from __future__ import annotations

import pytest

from cnnviz.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`cnnviz *argv`: its exit status, stdout and stderr."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err
