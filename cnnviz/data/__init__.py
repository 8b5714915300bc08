"""Datasets: the built-in ones, uploads (.npz, a zip of folders), images, synthetic shapes."""

from __future__ import annotations

from cnnviz.data.base import (
    TEST_FRACTION,
    Dataset,
    DatasetError,
    read_source_bytes,
    stratified_split,
)
from cnnviz.data.datasets import (
    BUILTIN_DATASETS,
    fit_to_input,
    keras_datasets_dir,
    load_any,
    load_dataset,
    load_upload,
    missing_download,
)
from cnnviz.data.image_folder import (
    DEFAULT_MAX_SIDE,
    MAX_ARRAY_BYTES,
    MAX_FOLDER_BYTES,
    MAX_FOLDER_FILES,
    MAX_IMAGE_PIXELS,
    MAX_TOTAL_PIXELS,
    load_image_folder,
)
from cnnviz.data.images import (
    ALLOWED_FORMATS,
    ImageError,
    array_to_image,
    check_input_shape,
    decode_image,
    decode_upload,
    read_image_size,
    to_model_input,
)
from cnnviz.data.npz_upload import (
    MAX_CLASSES,
    MAX_NPZ_BYTES,
    MAX_SAMPLES,
    load_npz,
)
from cnnviz.data.synthetic_shapes import (
    IMAGE_SIZE,
    SHAPE_NAMES,
    generate_shapes,
)

__all__ = [
    "ALLOWED_FORMATS",
    "BUILTIN_DATASETS",
    "DEFAULT_MAX_SIDE",
    "Dataset",
    "DatasetError",
    "IMAGE_SIZE",
    "ImageError",
    "MAX_ARRAY_BYTES",
    "MAX_CLASSES",
    "MAX_FOLDER_BYTES",
    "MAX_FOLDER_FILES",
    "MAX_IMAGE_PIXELS",
    "MAX_NPZ_BYTES",
    "MAX_SAMPLES",
    "MAX_TOTAL_PIXELS",
    "SHAPE_NAMES",
    "TEST_FRACTION",
    "array_to_image",
    "check_input_shape",
    "decode_image",
    "decode_upload",
    "fit_to_input",
    "generate_shapes",
    "keras_datasets_dir",
    "load_any",
    "load_dataset",
    "load_image_folder",
    "load_npz",
    "load_upload",
    "missing_download",
    "read_image_size",
    "read_source_bytes",
    "stratified_split",
    "to_model_input",
]
