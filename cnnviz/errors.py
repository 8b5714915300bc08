"""Typed errors of the core.

    ValueError
    ├── SpecError   an architecture that Keras would not accept
    ├── LimitError  over one of the host's limits (names the setting that raises it)
    └── DisplayNameError  a display name the room cannot show
    RuntimeError
    └── StoreError  the workspace store cannot be read or written (work is not being saved)
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "DisplayNameError",
    "LayerRef",
    "LimitError",
    "SpecError",
    "SpecErrorCode",
    "StoreError",
    "short_repr",
]

# What kind of SpecError it is, for code that offers a fix (never the words of the message):
#   flat_input             an image-shaped layer (or argument) receives a flat vector
#   strides_with_dilation  strides > 1 together with dilation_rate > 1
SpecErrorCode: TypeAlias = Literal["flat_input", "strides_with_dilation"]

_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlong = 40


def short_repr(value: object) -> str:
    """`repr`, cut short for huge or deeply nested values (a hostile file's, say)."""
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):  # e.g. an int past Python's digit limit
        return f"<{type(value).__name__}>"


@dataclass(frozen=True)
class LayerRef:
    """Which layer an error is about: its position in the stack (0-based), class and name."""

    index: int
    class_name: str
    name: str | None = None

    def describe(self) -> str:
        label = f"Layer {self.index + 1} ({self.class_name}"
        if self.name:
            label += f" '{self.name}'"
        return label + ")"


class SpecError(ValueError):
    """An invalid architecture: names the layer, the field, the received value and a fix."""

    def __init__(
        self,
        problem: str,
        *,
        field: str | None = None,
        received: object = None,
        fix: str | None = None,
        layer: LayerRef | None = None,
        code: SpecErrorCode | None = None,
    ) -> None:
        self.problem = problem
        self.field = field
        self.received = received
        self.fix = fix
        self.layer = layer
        self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = []
        if self.layer is not None:
            parts.append(self.layer.describe() + ":")
        if self.field is not None:
            parts.append(f"`{self.field}`:")
        parts.append(self.problem.rstrip("."))
        text = " ".join(parts) + "."
        if self.field is not None:
            text += f" Received: {self.field}={short_repr(self.received)}."
        if self.fix:
            text += f" Fix: {self.fix.rstrip('.')}."
        return text

    def at_layer(self, layer: LayerRef) -> SpecError:
        """The same error, attributed to a layer (keeps a layer already set)."""
        if self.layer is not None:
            return self
        return SpecError(self.problem, field=self.field, received=self.received, fix=self.fix,
                         layer=layer, code=self.code)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_rebuild, (self.problem, self.field, self.received, self.fix, self.layer,
                           self.code))


def _rebuild(
    problem: str, field: str | None, received: object, fix: str | None, layer: LayerRef | None,
    code: SpecErrorCode | None = None,
) -> SpecError:
    return SpecError(problem, field=field, received=received, fix=fix, layer=layer, code=code)



class LimitError(ValueError):
    """Over a host limit: what was asked, the limit, and the setting a host raises it with."""

    def __init__(self, message: str, *, setting: str, limit: int, received: int) -> None:
        self.setting = setting
        self.limit = limit
        self.received = received
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_rebuild_limit, (self.message, self.setting, self.limit, self.received))


def _rebuild_limit(message: str, setting: str, limit: int, received: int) -> LimitError:
    return LimitError(message, setting=setting, limit=limit, received=received)


class DisplayNameError(ValueError):
    """A display name that is empty after trimming, too long, or holds control characters."""


class StoreError(RuntimeError):
    """The workspace store failed (full disk, read-only file, database down): says so plainly.

    The session goes on without saving; the page tells the participant."""
