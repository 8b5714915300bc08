"""The projector's feature-maps preview: what the first convolution of a participant's
trained run computes for one test image of its dataset, so that the room sees what their
model learned. The model is built only when the host asks, and kept per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import streamlit as st

from cnnviz.bundle import BundleError
from cnnviz.data import DatasetError, ImageError, array_to_image
from cnnviz.errors import LimitError, StoreError
from cnnviz.featuremaps import CONV_LIKE_TYPES, extract_activations
from cnnviz.shapes import summarize
from cnnviz.store import Store, StoredRun
from ui.featuremaps.image import SAMPLE, ChosenImage, model_view, shown_picture
from ui.featuremaps.model import ImageResults
from ui.featuremaps.render import layer_mosaic, layer_title, show_png
from ui.workspace import stored_run_bundle, stored_run_dataset

__all__ = ["PreviewError", "RunPreview", "feature_maps_preview", "run_preview"]

_PREVIEWS_KEY: Final = "host_projector_previews"  # run id → RunPreview, the newest few
_MAX_PREVIEWS: Final = 4


class PreviewError(ValueError):
    """The run's model has no convolution to preview."""


@dataclass(frozen=True, eq=False)
class RunPreview:
    run_id: int
    title: str  # the layer, as the Feature maps page titles it (Markdown)
    image_label: str
    picture: np.ndarray  # the test image at display size, (H, W[, C]) in [0, 1]
    maps: np.ndarray  # the layer's output for that image, (H, W, C)
    mosaic: bytes  # PNG


def run_preview(store: Store, owner_id: int, run: StoredRun) -> RunPreview:
    """The first convolution's maps of run `run` (of workspace `owner_id`) for the first
    test image of its dataset. Raises `BundleError`, `LimitError`, `StoreError`,
    `DatasetError`, `ImageError`, `PreviewError`."""
    bundle = stored_run_bundle(store, owner_id, run.id)
    summary = summarize(bundle.spec)
    layer = next((layer for layer in summary.layers if layer.class_name in CONV_LIKE_TYPES),
                 None)
    if layer is None:
        raise PreviewError(f"Run {run.id}'s model has no convolution layer, so it has no "
                           "feature maps to show.")
    dataset = stored_run_dataset(store, owner_id, run)
    label = dataset.class_names[int(dataset.y_test[0])]
    chosen = ChosenImage(array_to_image(dataset.x_test[0]),
                         f"{label} · {dataset.name} test image 1", SAMPLE)
    results = ImageResults(extract_activations(bundle.model, model_view(chosen, bundle.spec)))
    return RunPreview(run.id, layer_title(layer), chosen.label, shown_picture(chosen),
                      results.activations[layer.index].output,
                      layer_mosaic(results, layer.index, "channel", bundle.spec.input_shape))


def _kept(run_id: int) -> RunPreview | None:
    kept = st.session_state.get(_PREVIEWS_KEY)
    preview = kept.get(run_id) if isinstance(kept, dict) else None
    return preview if isinstance(preview, RunPreview) else None


def _compute(store: Store, owner_id: int, run: StoredRun) -> None:
    kept = st.session_state.setdefault(_PREVIEWS_KEY, {})
    try:
        with st.spinner("Loading TensorFlow and their trained model…"):
            preview = run_preview(store, owner_id, run)
    except (BundleError, LimitError, StoreError, DatasetError, ImageError,
            PreviewError) as error:
        st.warning(f"Its feature maps cannot be shown: {error}", icon=":material/error:")
        return
    while len(kept) >= _MAX_PREVIEWS:
        kept.pop(next(iter(kept)))
    kept[run.id] = preview


def feature_maps_preview(store: Store, owner_id: int, run: StoredRun) -> None:
    """A button, then the run's first feature maps (kept for the session)."""
    if not run.has_weights:
        st.caption("This run kept no weights, so its feature maps cannot be shown.")
        return
    preview = _kept(run.id)
    if preview is None:
        slot = st.empty()
        if slot.button("Show its feature maps", key=f"host_projector_maps_{run.id}",
                       icon=":material/grid_view:"):
            slot.empty()  # shown once the maps are there
            _compute(store, owner_id, run)
            preview = _kept(run.id)
        if preview is None:
            return
    st.markdown(f"Feature maps of run {preview.run_id} · {preview.title}")
    image_column, maps_column = st.columns([1, 3])
    with image_column:
        st.image(preview.picture, clamp=True)
        st.caption(preview.image_label)
    with maps_column:
        height, width, channels = preview.maps.shape
        show_png(preview.mosaic, f"{channels} maps of {height}×{width}, each channel on "
                                 "its own colour range")
