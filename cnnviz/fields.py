"""Coercion of raw JSON values into the normalised field values of a layer spec.

Each function takes the raw value and the field name, returns the normalised value, and
raises `SpecError` (without a layer yet; the caller attributes it) when Keras would refuse it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import SpecError

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "MAX_SIZE",
    "MAX_WINDOW",
    "REGULARIZERS",
    "SIZE_REASON",
    "WINDOW_REASON",
    "Coercer",
    "Regularizer",
    "activation",
    "bias_initializer",
    "boolean",
    "choice",
    "data_format",
    "axis_list",
    "initializer",
    "int_pair",
    "integer",
    "layer_name",
    "non_negative_real",
    "optional_int",
    "optional_int_pair",
    "optional_non_negative_pair",
    "optional_non_negative_real",
    "padding_pairs",
    "positive_int",
    "probability",
    "real_in_range",
    "real_number",
    "regularizer",
    "target_shape",
]

Coercer = Callable[[Any, str], Any]

MAX_SIZE = 65_536
MAX_WINDOW = 1_024
SIZE_REASON = "a layer that wide would not fit in memory"
WINDOW_REASON = "a kernel, stride or padding that large is almost surely a typo"

ACTIVATIONS: tuple[str, ...] = (
    "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "softplus", "softsign",
    "swish", "silu", "gelu", "hard_sigmoid", "exponential", "leaky_relu", "relu6", "mish",
    "log_softmax", "hard_silu",
)  # fmt: skip

INITIALIZERS: tuple[str, ...] = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "zeros", "ones", "random_normal", "random_uniform", "truncated_normal",
    "orthogonal",
)  # fmt: skip

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _whole(field: str) -> str:
    return f"write {field} as a whole number without quotes, e.g. 3"


def _as_int(value: Any, field: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"must be {what}", field=field, received=value, fix=_whole(field))
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise SpecError(f"must be {what}", field=field, received=value, fix=_whole(field))
        return int(value)
    return int(value)


def positive_int(value: Any, field: str) -> int:
    number = _as_int(value, field, "a whole number of at least 1")
    if number < 1:
        raise SpecError(
            "must be a whole number of at least 1",
            field=field,
            received=value,
            fix=f"set {field} to 1 or more",
        )
    if number > MAX_SIZE:
        raise SpecError(
            f"is larger than cnnviz allows ({MAX_SIZE:,}; {SIZE_REASON})",
            field=field,
            received=value,
            fix=f"use a value up to {MAX_SIZE:,}",
        )
    return number


def _pair(value: Any, field: str, *, minimum: int, limit: int) -> tuple[int, int]:
    items = [value, value] if not isinstance(value, (list, tuple)) else list(value)
    if len(items) != 2:
        raise SpecError(
            "must be one whole number or a pair [height, width]",
            field=field,
            received=value,
            fix=f"write {field} as e.g. 3 or [3, 3]",
        )
    what = "whole numbers of at least 1" if minimum == 1 else "whole numbers, 0 or more"
    pair = tuple(_as_int(item, field, what) for item in items)
    if min(pair) < minimum:
        raise SpecError(
            f"must be {what}",
            field=field,
            received=value,
            fix=f"use values of {minimum} or more, e.g. {max(minimum, 1)}",
        )
    if max(pair) > limit:
        raise SpecError(
            f"is larger than cnnviz allows ({limit:,}; {WINDOW_REASON})",
            field=field,
            received=value,
            fix=f"use values up to {limit:,}",
        )
    return pair[0], pair[1]


def int_pair(value: Any, field: str) -> tuple[int, int]:
    return _pair(value, field, minimum=1, limit=MAX_WINDOW)


def optional_int_pair(value: Any, field: str) -> tuple[int, int] | None:
    return None if value is None else int_pair(value, field)


def padding_pairs(value: Any, field: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """ZeroPadding2D: int, (sym_height, sym_width) or ((top, bottom), (left, right)).

    As keras/src/layers/reshaping/zero_padding2d.py: each of the two entries is an int or a
    pair on its own, so `[[1, 2], 3]` is ((1, 2), (3, 3)).
    """
    if not isinstance(value, (list, tuple)):
        side = _pair(value, field, minimum=0, limit=MAX_WINDOW)[0]
        return (side, side), (side, side)
    if len(value) != 2:
        raise SpecError(
            "must be one whole number, [height, width] or [[top, bottom], [left, right]]",
            field=field,
            received=value,
            fix=f"write {field} as e.g. 1, [1, 2] or [[0, 1], [0, 1]]",
        )
    top_bottom = _pair(value[0], field, minimum=0, limit=MAX_WINDOW)
    left_right = _pair(value[1], field, minimum=0, limit=MAX_WINDOW)
    return top_bottom, left_right


def choice(options: tuple[str, ...]) -> Coercer:
    def coerce(value: Any, field: str) -> str:
        text = value.lower() if isinstance(value, str) else value
        if text not in options:
            listed = " or ".join(repr(option) for option in options)
            raise SpecError(
                f"must be {listed}", field=field, received=value, fix=f"use {listed}"
            )
        return str(text)

    return coerce


def data_format(value: Any, field: str) -> None:
    if value in (None, "channels_last"):
        return None
    if value == "channels_first":
        raise SpecError(
            "cnnviz works with channels_last data only (height, width, channels)",
            field=field,
            received=value,
            fix="remove data_format or set it to 'channels_last'",
        )
    raise SpecError(
        "must be 'channels_last'",
        field=field,
        received=value,
        fix="remove data_format or set it to 'channels_last'",
    )


def activation(value: Any, field: str) -> str | None:
    if value is None or value == "linear":
        return None
    if not isinstance(value, str) or value.lower() not in ACTIVATIONS:
        raise SpecError(
            "is not an activation cnnviz knows",
            field=field,
            received=value,
            fix="use one of " + ", ".join(ACTIVATIONS),
        )
    return value.lower()


def initializer(value: Any, field: str) -> str:
    if not isinstance(value, str) or value.lower() not in INITIALIZERS:
        raise SpecError(
            "is not an initializer cnnviz knows (by name, with Keras's default arguments)",
            field=field,
            received=value,
            fix="use one of " + ", ".join(INITIALIZERS),
        )
    return value.lower()


def bias_initializer(value: Any, field: str) -> str:
    """An initializer for a bias vector: Keras's `orthogonal` needs a matrix and fails there."""
    name = initializer(value, field)
    if name == "orthogonal":
        raise SpecError(
            "'orthogonal' needs a matrix, but a bias is a vector",
            field=field,
            received=value,
            fix=f"remove {field} (Keras's default is 'zeros')",
        )
    return name


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(
            "must be true or false",
            field=field,
            received=value,
            fix=f"write {field} as true or false, without quotes",
        )
    return value


def real_in_range(low: float, high: float, *, include_low: bool = True) -> Coercer:
    def coerce(value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(
                "must be a number",
                field=field,
                received=value,
                fix=f"write {field} as a number without quotes, e.g. {high:g}",
            )
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        too_low = number < low if include_low else number <= low
        if not math.isfinite(number) or too_low or number > high:
            bracket = "[" if include_low else "("
            raise SpecError(
                f"must be a number in {bracket}{low:g}, {high:g}]",
                field=field,
                received=value,
                fix=f"use a number above {low:g} and up to {high:g}"
                if not include_low
                else f"use a number from {low:g} to {high:g}",
            )
        return number

    return coerce


probability = real_in_range(0.0, 1.0)


def optional_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    number = _as_int(value, field, "a whole number")
    if not 0 <= number < 2**31:
        raise SpecError(
            "must be a whole number from 0 to 2**31 - 1",
            field=field,
            received=value,
            fix=f"remove {field} or use a number such as 42",
        )
    return number


def layer_name(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _NAME_PATTERN.match(value):
        raise SpecError(
            "must be 1 to 64 letters, digits, '_', '.' or '-'",
            field=field,
            received=value,
            fix="choose a short name such as 'conv_1'",
        )
    return value


def integer(value: Any, field: str) -> int:
    """Any whole number, negative included (an axis, e.g. -1)."""
    return _as_int(value, field, "a whole number")


def real_number(value: Any, field: str) -> float:
    """Any finite number (ELU's alpha may be negative)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError("must be a number", field=field, received=value,
                        fix=f"write {field} as a number without quotes, e.g. 1.0")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise SpecError("must be a finite number", field=field, received=value,
                        fix=f"write {field} as a number such as 1.0")
    return number


def non_negative_real(value: Any, field: str) -> float:
    number = real_number(value, field)
    if number < 0:
        raise SpecError("cannot be negative", field=field, received=value,
                        fix=f"set {field} to 0 or more")
    return number


def optional_non_negative_real(value: Any, field: str) -> float | None:
    return None if value is None else non_negative_real(value, field)


def optional_non_negative_pair(value: Any, field: str) -> tuple[int, int] | None:
    """Conv2DTranspose's output_padding: None, or whole numbers of 0 or more."""
    return None if value is None else _pair(value, field, minimum=0, limit=MAX_WINDOW)


def axis_list(value: Any, field: str) -> tuple[int, ...] | None:
    """PReLU's shared_axes: None, one axis or a list; 1 is height, 2 width, 3 channels."""
    if value is None:
        return None
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    axes = tuple(_as_int(item, field, "whole numbers") for item in items)
    if not axes or min(axes) < 1:
        raise SpecError(
            "must list axes counted from 1 (1: height, 2: width, 3: channels)",
            field=field,
            received=value,
            fix=f"write {field} as e.g. [1, 2] to share one weight over the image",
        )
    return axes


def target_shape(value: Any, field: str) -> tuple[int, ...]:
    """Reshape's target: a flat length (n,) or an image (h, w, c); one entry may be -1."""
    if not isinstance(value, (list, tuple)) or len(value) not in (1, 3):
        raise SpecError(
            "must be [length] or [height, width, channels] (cnnviz shows flat vectors and "
            "images)",
            field=field,
            received=value,
            fix=f"write {field} as e.g. [-1] or [7, 7, 64]",
        )
    sides = tuple(_as_int(item, field, "whole numbers") for item in value)
    if min(sides) < -1 or sides.count(-1) > 1:
        raise SpecError(
            "takes whole numbers of 0 or more, and at most one -1 (for 'whatever is left')",
            field=field,
            received=value,
            fix=f"write {field} as e.g. [7, 7, -1]",
        )
    if max(sides) > MAX_SIZE:
        raise SpecError(
            f"is larger than cnnviz allows ({MAX_SIZE:,}; {SIZE_REASON})",
            field=field,
            received=value,
            fix=f"use values up to {MAX_SIZE:,}",
        )
    return sides


REGULARIZERS: dict[str, tuple[str, ...]] = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}
_REGULARIZER_NAMES = {"l1": "L1", "l2": "L2", "l1l2": "L1L2"}
_STRING_DEFAULTS = {"L1": {"l1": 0.01}, "L2": {"l2": 0.01}, "L1L2": {"l1": 0.0, "l2": 0.0}}


@dataclass(frozen=True)
class Regularizer:
    """A Keras weight penalty: L1 (λ·Σ|w|), L2 (λ·Σw²) or both; no effect on shapes."""

    class_name: str
    factors: tuple[tuple[str, float], ...]

    def to_json(self) -> str | dict[str, Any]:
        """`"l2"` at Keras's default strength, else Keras's own `{"class_name", "config"}`."""
        config = dict(self.factors)
        if config == _STRING_DEFAULTS[self.class_name]:
            return self.class_name.lower()
        return {"class_name": self.class_name, "config": config}


def _regularizer_class(raw: Any, field: str) -> str:
    name = _REGULARIZER_NAMES.get(raw.lower().replace("_", "")) if isinstance(raw, str) else None
    if name is None or (isinstance(raw, str) and raw not in (name, name.lower())):
        fix = ('write "l1", "l2" or "l1l2" (Keras has no "l1_l2" name)'
               if isinstance(raw, str) and name is not None
               else 'write "l1", "l2", "l1l2" or {"class_name": "L2", "config": {"l2": 0.01}}')
        raise SpecError("is not a regularizer Keras knows by that name", field=field,
                        received=raw, fix=fix)
    return name


def regularizer(value: Any, field: str) -> Regularizer | None:
    """None, `"l1"`/`"l2"`/`"l1l2"` (Keras's defaults) or `{"class_name": "L2", "config": …}`."""
    if value is None:
        return None
    if isinstance(value, str):
        class_name = _regularizer_class(value, field)
        return Regularizer(class_name, tuple(_STRING_DEFAULTS[class_name].items()))
    if not isinstance(value, Mapping) or "class_name" not in value:
        raise SpecError("must be a regularizer's name or its Keras form", field=field,
                        received=value,
                        fix='write "l2" or {"class_name": "L2", "config": {"l2": 0.01}}')
    class_name = _regularizer_class(value["class_name"], field)
    config = value.get("config") or {}
    allowed = REGULARIZERS[class_name]
    if not isinstance(config, Mapping) or any(key not in allowed for key in config):
        raise SpecError(
            f"the {class_name} regularizer takes only " + " and ".join(allowed),
            field=field,
            received=value,
            fix=f'write e.g. {{"class_name": "{class_name}", "config": '
            + "{" + ", ".join(f'"{key}": 0.01' for key in allowed) + "}}",
        )
    factors = {**_STRING_DEFAULTS[class_name], **{
        key: non_negative_real(_STRING_DEFAULTS[class_name][key] if item is None else item,
                               f"{field}.{key}")
        for key, item in config.items()
    }}
    return Regularizer(class_name, tuple((key, factors[key]) for key in allowed))
