"""The architecture in a URL: compact JSON, raw-deflated, base64url, with a version prefix.

`encode_spec(spec)` → `"1.eNq…"`; `decode_spec(text)` turns any string (a hostile one too)
into a `ModelSpec` or a `SpecError` that says what is wrong with the link. Sizes are capped
before and after decompression, so a small link cannot expand into a huge payload.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from cnnviz.spec import ModelSpec, SpecError

__all__ = ["MAX_DECODED_BYTES", "MAX_ENCODED_CHARS", "PREFIX", "decode_spec", "encode_spec"]

PREFIX = "1."
MAX_ENCODED_CHARS = 16_000
MAX_DECODED_BYTES = 256_000
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_FIX = "copy the whole link again, or load the architecture from its JSON file"


def encode_spec(spec: ModelSpec) -> str:
    data = spec.to_dict()
    data.pop("format")
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(text.encode("utf-8")) + compressor.flush()
    return PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def _link_error(problem: str, received: Any = None) -> SpecError:
    return SpecError(problem, field="arch", received=received, fix=_FIX)


def _inflate(packed: bytes) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        text = inflater.decompress(packed, MAX_DECODED_BYTES + 1)
    except zlib.error:
        raise _link_error("the link's architecture is damaged (it does not decompress)") from None
    if len(text) > MAX_DECODED_BYTES or inflater.unconsumed_tail:
        raise _link_error(f"the link's architecture is larger than {MAX_DECODED_BYTES:,} bytes")
    if not inflater.eof:
        raise _link_error("the link's architecture is cut short")
    return text


def decode_spec(text: Any) -> ModelSpec:
    """A `ModelSpec` from `encode_spec`'s output; never anything but it or `SpecError`."""
    if not isinstance(text, str):
        raise _link_error("the link's architecture must be text", type(text).__name__)
    if len(text) > MAX_ENCODED_CHARS:
        raise _link_error(
            f"the link's architecture is {len(text):,} characters; cnnviz reads up to "
            f"{MAX_ENCODED_CHARS:,}"
        )
    if not text.startswith(PREFIX):
        raise _link_error(f"the link's architecture does not start with {PREFIX!r}",
                          text[:12])
    body = text[len(PREFIX):]
    if not body or not set(body) <= _ALPHABET:
        raise _link_error("the link's architecture has characters that do not belong in it")
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise _link_error("the link's architecture is damaged (bad base64)") from None
    try:
        data = json.loads(_inflate(packed).decode("utf-8"))
    except UnicodeDecodeError:
        raise _link_error("the link's architecture is not UTF-8 text") from None
    except json.JSONDecodeError:
        raise _link_error("the link's architecture is not valid JSON") from None
    except RecursionError:
        raise _link_error("the link's architecture is nested too deeply") from None
    if not isinstance(data, dict):
        raise _link_error("the link's architecture is not a JSON object")
    return ModelSpec.from_dict(data)
