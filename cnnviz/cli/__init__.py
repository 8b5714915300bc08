"""The `cnnviz` command line: presets, summary, code, train, featuremaps."""

from __future__ import annotations

from cnnviz.cli.main import CliError, add_architecture_arguments, build_parser, main, read_spec

__all__ = ["CliError", "add_architecture_arguments", "build_parser", "main", "read_spec"]
