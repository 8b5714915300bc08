"""Safe decoding of user images and conversion between images and model arrays."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Final

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnviz.limits import check_image_pixels, check_upload_bytes

if TYPE_CHECKING:
    from cnnviz.settings import Settings

__all__ = [
    "ALLOWED_FORMATS",
    "ImageError",
    "array_to_image",
    "check_input_shape",
    "decode_image",
    "decode_upload",
    "read_image_size",
    "to_model_input",
]

ALLOWED_FORMATS: Final = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
# Multi-picture JPEGs from phone cameras are reported by Pillow as "MPO".
_FORMAT_ALIASES: Final = {"MPO": "JPEG"}
_ALLOWED_TEXT: Final = "PNG, JPEG, WebP, BMP or GIF"
_CHOOSE: Final = f"choose an image file ({_ALLOWED_TEXT})"
# Enough to name a refused file's real kind in the message; only allowed formats are parsed.
_SIGNATURES: Final = (
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"<svg", "SVG"),
    (b"<?xml", "SVG/XML"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"qoif", "QOI"),
    (b"PK\x03\x04", "ZIP archive"),
)
_HEIF_BRANDS: Final = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"avif": "AVIF"}
_EXIF_ORIENTATION_TAG: Final = 0x0112
_WHITE: Final = (255, 255, 255, 255)


class ImageError(ValueError):
    """An image could not be used; the message says why and what to do instead."""


def _label(filename: str | None) -> str:
    return f"'{filename}'" if filename else "The file"


def _sniff_format(data: bytes) -> str | None:
    head = data[:16].lstrip()
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    if data[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(data[8:12])
    return None


def _open(data: bytes, filename: str | None, max_bytes: int) -> Image.Image:
    """Open the header only, enforcing size and format rules; no pixels are decoded."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"Expected the image as bytes. Received: type={type(data).__name__}")
    label = _label(filename)
    size = len(data)
    if size == 0:
        raise ImageError(f"{label} is 0 bytes — {_CHOOSE}.")
    if size > max_bytes:
        raise ImageError(
            f"{label} is {size:,} bytes, more than the limit of {max_bytes:,} bytes — "
            "choose a smaller image or shrink it first."
        )
    data = bytes(data)
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError:
        kind = _sniff_format(data)
        if kind is not None:
            raise ImageError(
                f"{label} is in {kind} format, which is not accepted — "
                f"convert it to {_ALLOWED_TEXT}."
            ) from None
        raise ImageError(f"{label} is not an image cnnviz can read — {_CHOOSE}.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{label} declares an enormous picture (a possible decompression bomb) — "
            "choose a normal-sized image."
        ) from None
    except Exception as exc:  # any parser failure on untrusted bytes
        raise ImageError(f"{label} is damaged and cannot be read ({exc}) — {_CHOOSE}.") from None
    real_format = _FORMAT_ALIASES.get(image.format or "", image.format or "unknown")
    if real_format not in ALLOWED_FORMATS:
        image.close()
        raise ImageError(
            f"{label} is in {real_format} format, which is not accepted — "
            f"convert it to {_ALLOWED_TEXT}."
        )
    return image


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    try:
        orientation = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block only loses the orientation
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _check_pixels(width: int, height: int, label: str, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"{label} has no pixels ({width}×{height}) — {_CHOOSE}.")
    if width * height > max_pixels:
        raise ImageError(
            f"{label} is {width:,}×{height:,} = {width * height:,} pixels, more than the limit "
            f"of {max_pixels:,} — shrink it first (a possible decompression bomb otherwise)."
        )


def read_image_size(
    data: bytes, *, filename: str | None = None, max_bytes: int = 20_000_000
) -> tuple[int, int]:
    """(width, height) as displayed (EXIF orientation applied), read without decoding pixels."""
    image = _open(data, filename, max_bytes)
    try:
        return _oriented_size(image)
    finally:
        image.close()


def _scale_to_uint8(values: np.ndarray, full_scale: float) -> np.ndarray:
    scaled = np.clip(values.astype(np.float64) * (255.0 / full_scale), 0.0, 255.0)
    return np.rint(scaled).astype(np.uint8)


def _deep_to_l(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float greyscale → 8-bit "L" over the full source range."""
    values = np.asarray(image)
    if image.mode.startswith("I;16"):
        full_scale = 65535.0
    elif image.mode == "F":
        peak = float(np.nanmax(values)) if values.size else 0.0
        full_scale = 1.0 if peak <= 1.0 else 255.0 if peak <= 255.0 else peak
        values = np.nan_to_num(values, nan=0.0, posinf=full_scale, neginf=0.0)
    else:
        peak = int(values.max()) if values.size else 0
        full_scale = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else float(peak)
    return Image.fromarray(_scale_to_uint8(values, full_scale))


def _flatten_alpha(image: Image.Image, result_mode: str) -> Image.Image:
    background = Image.new("RGBA", image.size, _WHITE)
    return Image.alpha_composite(background, image.convert("RGBA")).convert(result_mode)


def _to_rgb_or_l(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("LA", "La"):
        return _flatten_alpha(image, "L")
    if mode in ("RGBA", "RGBa", "PA"):
        return _flatten_alpha(image, "RGB")
    if mode == "P":
        palette_mode = image.palette.mode if image.palette is not None else "RGB"
        has_alpha = "transparency" in image.info or palette_mode == "RGBA"
        return _flatten_alpha(image, "RGB") if has_alpha else image.convert("RGB")
    if mode.startswith("I") or mode == "F":
        return _deep_to_l(image)
    return image.convert("RGB")


def decode_image(
    data: bytes,
    *,
    filename: str | None = None,
    max_bytes: int = 20_000_000,
    max_pixels: int = 40_000_000,
) -> Image.Image:
    """Decode untrusted bytes into an upright, fully loaded "RGB" or "L" image.

    Raises `ImageError` for every problem: empty, too large, not an image, a format
    outside `ALLOWED_FORMATS`, too many pixels, truncated or corrupt data. Animated
    images give their first frame; transparency is composited over white.
    """
    image = _open(data, filename, max_bytes)
    try:
        width, height = image.size
        # Pillow only warns (not fails) between its own limit and twice it: reject those too.
        limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
        _check_pixels(width, height, _label(filename), limit)
        return _decode_pixels(image, _label(filename))
    finally:
        image.close()


def decode_upload(
    data: bytes, *, filename: str | None = None, host: Settings | None = None
) -> Image.Image:
    """`decode_image` under the host's limits: `LimitError` names the setting that was hit."""
    label = _label(filename)
    size = len(data) if isinstance(data, (bytes, bytearray, memoryview)) else 0
    check_upload_bytes(size, label, host)
    width, height = read_image_size(data, filename=filename, max_bytes=max(size, 1))
    check_image_pixels(width, height, label, host)
    return decode_image(data, filename=filename, max_bytes=max(size, 1),
                        max_pixels=max(width * height, 1))


def _decode_pixels(image: Image.Image, label: str) -> Image.Image:
    try:
        image.seek(0)
        image.load()
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:  # a broken EXIF block only loses the orientation
            upright = image
        result = _to_rgb_or_l(upright)
        if result is image:
            result = image.copy()
        result.load()
        return result
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{label} holds an enormous picture (a possible decompression bomb) — "
            "choose a normal-sized image."
        ) from None
    except Exception as exc:  # any decoder failure on untrusted bytes
        raise ImageError(
            f"{label} is truncated or damaged and cannot be decoded ({exc}) — "
            "save it again or choose another image."
        ) from None


def check_input_shape(
    input_shape: tuple[int, int, int], error: type[ValueError] = ImageError
) -> tuple[int, int, int]:
    """A model input (height, width, 1 or 3 channels) as ints, or `error` saying what is off."""
    try:
        height, width, channels = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise error(
            f"Expected input_shape as (height, width, channels). Received: {input_shape!r}"
        ) from None
    if height < 1 or width < 1 or channels not in (1, 3):
        raise error(
            "Expected input_shape with height, width >= 1 and 1 or 3 channels. "
            f"Received: input_shape={input_shape!r}"
        )
    return height, width, channels


def to_model_input(image: Image.Image, input_shape: tuple[int, int, int]) -> np.ndarray:
    """Resize (bilinear) and convert an image to a (H, W, C) float32 array in [0, 1]."""
    height, width, channels = check_input_shape(input_shape)
    picture = _to_rgb_or_l(image)
    picture = picture.convert("L" if channels == 1 else "RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(picture, dtype=np.float32) / np.float32(255.0)
    model_input: np.ndarray = array.reshape(height, width, channels)
    return model_input


def array_to_image(x: np.ndarray) -> Image.Image:
    """A (H, W, C) array in [0, 1] (or uint8 0..255) as a displayable "L" or "RGB" image."""
    array = np.asarray(x)
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ImageError(
            f"Expected an array of shape (height, width, 1 or 3). Received: shape={array.shape}"
        )
    if array.dtype != np.uint8:
        scaled = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        array = np.rint(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)
    if array.shape[2] == 1:
        return Image.fromarray(np.ascontiguousarray(array[:, :, 0]))
    return Image.fromarray(np.ascontiguousarray(array))
