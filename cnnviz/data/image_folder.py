"""Load images sorted into one sub-folder per class, from a directory or a `.zip`.

The layout follows Keras's `image_dataset_from_directory`: `cats/1.png`, `dogs/2.jpg`, …;
a single wrapping folder (`pets/cats/1.png`) is looked through, and images in deeper
sub-folders belong to their top class folder. Hidden files and `__MACOSX` are skipped.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections import Counter
from typing import Final

import numpy as np

from cnnviz.data.base import Dataset, DatasetError, read_source_bytes, stratified_split
from cnnviz.data.images import ImageError, decode_image, read_image_size, to_model_input

__all__ = [
    "DEFAULT_MAX_SIDE",
    "MAX_ARRAY_BYTES",
    "MAX_FOLDER_BYTES",
    "MAX_FOLDER_FILES",
    "MAX_IMAGE_PIXELS",
    "MAX_TOTAL_PIXELS",
    "load_image_folder",
]

MAX_FOLDER_BYTES: Final = 200_000_000
MAX_FOLDER_FILES: Final = 20_000
MAX_IMAGE_PIXELS: Final = 40_000_000
MAX_TOTAL_PIXELS: Final = 400_000_000
DEFAULT_MAX_SIDE: Final = 128
MAX_ARRAY_BYTES: Final = 2_000_000_000
_JUNK_NAMES: Final = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})
_LAYOUT_HINT: Final = "put each class's images in its own folder, e.g. cats/1.png and dogs/2.png"

_Files = list[tuple[tuple[str, ...], bytes]]


def _is_skipped(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") or part in _JUNK_NAMES for part in parts)


def _safe_parts(member_name: str) -> tuple[str, ...]:
    name = member_name.replace("\\", "/")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
        raise DatasetError(
            f"The .zip file contains the unsafe path {member_name!r} (it points outside the "
            "archive) — zip the class folders again without absolute paths or '..'."
        )
    return parts


def _zip_files(data: bytes, max_bytes: int, max_files: int) -> tuple[_Files, set[str]]:
    """Image candidates as (path parts, bytes), plus every folder seen at any depth."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DatasetError(f"This is not a .zip file — {_LAYOUT_HINT}, then zip them.")
    files: _Files = []
    folders: set[str] = set()
    unpacked = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                parts = _safe_parts(info.filename)
                if not parts or _is_skipped(parts):
                    continue
                folders.add("/".join(parts[:-1] if not info.is_dir() else parts))
                if info.is_dir():
                    continue
                if info.flag_bits & 0x1:
                    raise DatasetError(
                        f"'{'/'.join(parts)}' is password-protected — zip it without a password."
                    )
                unpacked += info.file_size
                if len(files) >= max_files or unpacked > max_bytes:
                    raise DatasetError(
                        f"The .zip file holds more than {max_files:,} files or unpacks to more "
                        f"than {max_bytes:,} bytes — use fewer or smaller images."
                    )
                files.append((parts, archive.read(info)))
    except DatasetError:
        raise
    except Exception as exc:  # any failure parsing the untrusted archive
        raise DatasetError(
            f"The .zip file is damaged and cannot be read ({type(exc).__name__}: {exc}) — "
            "zip the class folders again."
        ) from None
    return files, folders


def _directory_files(root: str, max_bytes: int, max_files: int) -> tuple[_Files, set[str]]:
    files: _Files = []
    folders: set[str] = set()
    total = 0
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not _is_skipped((d,)))
        relative = os.path.relpath(folder, root)
        base = () if relative == "." else tuple(relative.split(os.sep))
        folders.add("/".join(base))
        for file_name in sorted(n for n in names if not _is_skipped((n,))):
            path = os.path.join(folder, file_name)
            total += os.path.getsize(path)
            if len(files) >= max_files or total > max_bytes:
                raise DatasetError(
                    f"The folder holds more than {max_files:,} files or {max_bytes:,} bytes — "
                    "use fewer or smaller images."
                )
            try:
                with open(path, "rb") as file:
                    files.append(((*base, file_name), file.read()))
            except OSError as exc:
                raise DatasetError(f"'{path}' cannot be read: {exc.strerror}.") from None
    return files, folders


def _by_class(files: _Files, folders: set[str]) -> dict[str, list[tuple[str, bytes]]]:
    """Class folder name → [(display path, bytes)], both sorted."""
    if not files:
        raise DatasetError(f"No images found — {_LAYOUT_HINT}.")
    paths = [parts for parts, _ in files]
    depth = 0
    while all(len(p) >= depth + 3 for p in paths) and len({p[depth] for p in paths}) == 1:
        depth += 1
    prefix = "/".join(paths[0][:depth])
    classes: dict[str, list[tuple[str, bytes]]] = {}
    for folder in folders:
        parts = tuple(folder.split("/")) if folder else ()
        if len(parts) == depth + 1 and "/".join(parts[:depth]) == prefix:
            classes.setdefault(parts[depth], [])
    for parts, data in files:
        if len(parts) == depth + 1:
            raise DatasetError(
                f"'{'/'.join(parts)}' is not inside a class folder — {_LAYOUT_HINT}."
            )
        classes.setdefault(parts[depth], []).append(("/".join(parts), data))
    empty = sorted(name for name, members in classes.items() if not members)
    if empty:
        raise DatasetError(
            f"The class folder '{empty[0]}' has no images — add some or remove the folder."
        )
    if len(classes) < 2:
        raise DatasetError(
            f"Found only one class folder ('{next(iter(classes))}'); a classifier needs at "
            f"least 2 — {_LAYOUT_HINT}."
        )
    return {name: sorted(classes[name]) for name in sorted(classes)}


def _target_size(
    sizes: list[tuple[int, int]], image_size: tuple[int, int] | None
) -> tuple[int, int]:
    """(height, width): `image_size`, or the most common size shrunk to DEFAULT_MAX_SIDE."""
    if image_size is not None:
        try:
            height, width = (int(v) for v in image_size)
        except (TypeError, ValueError):
            raise DatasetError(
                f"Expected image_size as (height, width). Received: {image_size!r}"
            ) from None
        if not (1 <= height <= 4096 and 1 <= width <= 4096):
            raise DatasetError(
                f"Expected image_size between 1 and 4096 pixels. Received: {image_size!r}"
            )
        return height, width
    width, height = Counter(sizes).most_common(1)[0][0]
    shrink = min(1.0, DEFAULT_MAX_SIDE / max(width, height))
    return max(1, round(height * shrink)), max(1, round(width * shrink))


def _read_sizes(
    items: list[tuple[str, bytes]], max_bytes: int, max_pixels: int
) -> list[tuple[int, int]]:
    sizes = []
    total = 0
    for path, data in items:
        try:
            width, height = read_image_size(data, filename=path, max_bytes=max_bytes)
        except ImageError as exc:
            raise DatasetError(f"{exc} Every file in a class folder must be an image.") from None
        if width * height > max_pixels:
            raise DatasetError(
                f"'{path}' is {width:,}×{height:,} pixels, more than the limit of "
                f"{max_pixels:,} — shrink it first."
            )
        total += width * height
        if total > MAX_TOTAL_PIXELS:
            raise DatasetError(
                f"The images hold more than {MAX_TOTAL_PIXELS:,} pixels in all — "
                "use fewer or smaller images."
            )
        sizes.append((width, height))
    return sizes


def load_image_folder(
    source: bytes | str | os.PathLike[str],
    *,
    name: str = "upload",
    image_size: tuple[int, int] | None = None,
    max_bytes: int = MAX_FOLDER_BYTES,
    max_files: int = MAX_FOLDER_FILES,
    max_pixels: int = MAX_IMAGE_PIXELS,
    seed: int = 0,
) -> Dataset:
    """A `Dataset` from a `.zip` (bytes or path) or a directory with one folder per class.

    Images are resized to `image_size` (height, width), by default the most common size
    (longer side at most DEFAULT_MAX_SIDE); grey when every image is grey, else RGB. The
    split is 80/20 stratified by `seed`; class names are the sorted folder names.
    """
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        files, folders = _directory_files(os.fspath(source), max_bytes, max_files)
    else:
        data = read_source_bytes(source, max_bytes, "The .zip file")
        files, folders = _zip_files(data, max_bytes, max_files)
    classes = _by_class(files, folders)
    items = [item for members in classes.values() for item in members]
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), [len(m) for m in classes.values()])
    height, width = _target_size(_read_sizes(items, max_bytes, max_pixels), image_size)
    needed = len(items) * height * width * 3 * 4
    if needed > MAX_ARRAY_BYTES:
        raise DatasetError(
            f"{len(items):,} images of {height}×{width} pixels need {needed / 1e9:.1f} GB of "
            "memory — choose a smaller image_size or fewer images."
        )
    x = np.empty((len(items), height, width, 3), dtype=np.float32)
    for i, (path, data) in enumerate(items):
        try:
            image = decode_image(data, filename=path, max_bytes=max_bytes, max_pixels=max_pixels)
        except ImageError as exc:
            raise DatasetError(f"{exc} Every file in a class folder must be an image.") from None
        x[i] = to_model_input(image, (height, width, 3))
    if np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2]):
        x = np.ascontiguousarray(x[..., :1])
    train, test = stratified_split(labels, seed)
    if len(test) == 0:
        raise DatasetError(
            "Too few images to keep some for testing — give at least one class 2 or more images."
        )
    return Dataset(name, x[train], labels[train], x[test], labels[test], tuple(classes))
