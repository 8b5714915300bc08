"""The Feature maps page's epoch slider: the trained model as it was after any kept epoch.

The run's epoch checkpoints come from the workspace store (`Store.epoch_checkpoints`);
epoch 0 is the run's starting weights, rebuilt from its architecture and seed; the last
position is the trained model itself. The chosen epoch's weights go into one Keras model
per session (built once per architecture), so every tab below draws that epoch.
Play steps through the epochs: at the end of the page, `keep_playing` waits a second and
reruns it at the next epoch, until the last.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Final

import streamlit as st

from cnnviz._types import KerasModel, Weights
from cnnviz.bundle import BundleError, set_weights_from_npz
from cnnviz.errors import StoreError
from cnnviz.featuremaps import (
    FilterError,
    filter_evolution_gif,
    filter_evolution_strip_png,
    kernel_layer_names,
    layer_kernels,
)
from cnnviz.settings import get_settings
from cnnviz.store import Store, StoredRun
from cnnviz.train import FINETUNE_KEY, epoch_plan, kept_epochs
from ui.featuremaps.model import PageModel, seeded_model, spec_digest
from ui.state import brought_run
from ui.workspace import current_workspace, report_store_problem, session_store, stored_runs

__all__ = ["RunEpochs", "choose_epoch", "epoch_label", "keep_playing", "next_epoch",
           "run_epochs"]

SLIDER_KEY: Final = "fm_epoch"
_RUNS_KEY: Final = "cnnviz_fm_run_epochs"  # run id → RunEpochs
_MODEL_KEY: Final = "cnnviz_fm_epoch_model"  # {"digest", "model", "epoch", "run_id"}
_PENDING_KEY: Final = "cnnviz_fm_epoch_next"  # the epoch Play moves to at the next run
_PLAYING_KEY: Final = "cnnviz_fm_epoch_playing"
_OPTIONS_KEY: Final = "cnnviz_fm_epoch_options"  # the slider's epochs in this run
_STEP_SECONDS: Final = 1.0
_STRIP_ROWS: Final = 6  # epochs in the still picture of the filters


@dataclass(eq=False)
class RunEpochs:
    """What the slider offers for one run: 0 (the start), the kept epochs, the end."""

    run_id: int
    owner_id: int  # the workspace that has the run: this session's, or a brought one's
    kept: tuple[int, ...]  # epochs with stored weights
    last: int  # the trained model's epoch (the end of the run)
    epochs_total: int
    seed: int
    note: str  # which epochs are kept, and why not all
    from_seed: bool = True  # its start is the seeded initialisation (a fine-tuning's is not)
    start_weights: Weights | None = None
    filter_pictures: dict[str, bytes] = field(default_factory=dict)

    @property
    def options(self) -> tuple[int, ...]:
        start = (0,) if self.from_seed else ()
        return tuple(sorted({*start, *self.kept, self.last}))


def epoch_label(epoch: int, last: int | None = None) -> str:
    if epoch == 0:
        return "0 (start)"
    return f"{epoch} (end)" if epoch == last else str(epoch)


def next_epoch(options: tuple[int, ...], current: int) -> int | None:
    """The epoch after `current` among `options`, or None at the end."""
    later = [epoch for epoch in options if epoch > current]
    return later[0] if later else None


def _owner_and_run(store: Store, run_id: int) -> tuple[int, StoredRun] | None:
    """Whose run `run_id` is, and the run: this workspace's own, or the participant's run
    the host brought (raises `StoreError`)."""
    brought, workspace = brought_run(), current_workspace()
    if brought is not None and brought.run_id == run_id:
        owner_id, runs = brought.owner_id, store.runs(brought.owner_id)
    elif workspace is not None:
        owner_id, runs = workspace.id, stored_runs()
    else:
        return None
    stored = next((run for run in runs if run.id == run_id), None)
    return (owner_id, stored) if stored is not None else None


def run_epochs(run_id: int) -> RunEpochs | None:
    """The run's epochs, read once per session from the store; None without a store or
    for a run neither this workspace has nor the host brought."""
    cache: dict[int, RunEpochs] = st.session_state.setdefault(_RUNS_KEY, {})
    if run_id in cache:
        return cache[run_id]
    store = session_store()
    if store is None:
        return None
    try:
        found = _owner_and_run(store, run_id)
        if found is None:
            return None
        owner_id, stored = found
        sizes = store.epoch_checkpoints(owner_id, run_id)
    except StoreError as error:
        report_store_problem(error)
        return None
    seed = stored.settings.get("seed", 0)
    bound = get_settings().epoch_checkpoint_bytes
    size = max(sizes.values(), default=0)
    plan = epoch_plan(stored.epochs_total, size, bound)
    if not sizes:
        note = "No epoch of this run was kept."
    elif tuple(sizes) == plan.kept:
        note = plan.describe()
    else:  # stopped early, or trained under another bound
        note = f"Kept: epochs {', '.join(str(epoch) for epoch in sizes)}."
    cache[run_id] = RunEpochs(run_id, owner_id, tuple(sizes), max(1, stored.epochs_completed),
                              stored.epochs_total, seed if isinstance(seed, int) else 0, note,
                              from_seed=FINETUNE_KEY not in stored.settings)
    return cache[run_id]


def _epoch_model(page: PageModel) -> KerasModel:
    digest = spec_digest(page.spec)
    cached = st.session_state.get(_MODEL_KEY)
    if not isinstance(cached, dict) or cached.get("digest") != digest:
        st.session_state.pop(_MODEL_KEY, None)
        cached = {"digest": digest, "model": seeded_model(page.spec, 0), "epoch": None}
        st.session_state[_MODEL_KEY] = cached
    return cached["model"]


def _load_epoch(model: KerasModel, page: PageModel, epochs: RunEpochs, epoch: int) -> None:
    """Put `epoch`'s weights into `model` (raises `BundleError`, `StoreError`)."""
    if epoch == 0:
        if epochs.start_weights is None:
            epochs.start_weights = seeded_model(page.spec, epochs.seed).get_weights()
        model.set_weights(epochs.start_weights)
        return
    store = session_store()
    raw = (store.epoch_weights(epochs.owner_id, epochs.run_id, epoch)
           if store is not None else None)
    if raw is None:
        raise BundleError(f"The weights of epoch {epoch} are no longer in the store.")
    set_weights_from_npz(model, page.spec, raw, what=f"epoch {epoch}")


def _page_at(page: PageModel, epochs: RunEpochs, epoch: int) -> PageModel:
    if epoch == epochs.last:
        return dataclasses.replace(page, epoch=epoch)
    model = _epoch_model(page)
    cached: dict[str, Any] = st.session_state[_MODEL_KEY]
    if (cached.get("epoch"), cached.get("run_id")) != (epoch, epochs.run_id):
        cached["epoch"] = None  # half-loaded weights are no epoch's
        _load_epoch(model, page, epochs, epoch)
        cached["epoch"], cached["run_id"] = epoch, epochs.run_id
    return dataclasses.replace(page, model=model, key=f"{page.key}:epoch{epoch}", epoch=epoch,
                               test_accuracy=None)


def _toggle_play(options: tuple[int, ...]) -> None:
    """Play from the chosen epoch (from the start when at the end); Pause stops there."""
    playing = not st.session_state.get(_PLAYING_KEY)
    st.session_state[_PLAYING_KEY] = playing
    if playing and st.session_state.get(SLIDER_KEY) == options[-1]:
        st.session_state[SLIDER_KEY] = options[0]


def _filter_pictures(page: PageModel, epochs: RunEpochs) -> dict[str, bytes] | None:
    """The first layer's filters at every epoch: an animation and a still strip."""
    if epochs.filter_pictures:
        return epochs.filter_pictures
    names = kernel_layer_names(page.model)
    if not names or names[0] != page.spec.layer_names()[0]:
        return None
    options = epochs.options
    kernels, labels = [], []
    for epoch in options:
        model = _page_at(page, epochs, epoch).model
        kernel = layer_kernels(model, names[0]).kernel
        if kernel is None or kernel.shape[2] not in (1, 3):
            return None
        kernels.append(kernel)
        labels.append(f"epoch {epoch_label(epoch, epochs.last)}")
    rows = [options.index(epoch) for epoch in
            (0, *kept_epochs(len(options) - 1, _STRIP_ROWS - 1))]
    epochs.filter_pictures = {
        "gif": filter_evolution_gif(kernels, labels),
        "strip": filter_evolution_strip_png([kernels[row] for row in rows],
                                            [labels[row] for row in rows]),
    }
    return epochs.filter_pictures


def _show_filter_evolution(page: PageModel, epochs: RunEpochs) -> None:
    with st.expander("The first layer's filters, epoch by epoch", icon=":material/movie:"):
        try:
            with st.spinner("Drawing the filters of every epoch…"):
                pictures = _filter_pictures(page, epochs)
        except (BundleError, StoreError, FilterError) as error:
            st.warning(f"The filters across the epochs cannot be drawn: {error}")
            return
        if pictures is None:
            st.caption("Only a first Conv2D layer on a 1- or 3-channel input has whole "
                       "filters to draw.")
            return
        left, right = st.columns(2)
        left.image(pictures["gif"], caption="Animated: one frame per epoch, then again.")
        right.image(pictures["strip"], caption="Some of the epochs, one under another.",
                    output_format="PNG")


def choose_epoch(page: PageModel) -> PageModel:
    """Draw the epoch slider for the session's trained model and return the page's model at
    the chosen epoch (the trained model itself at the end); `page` unchanged otherwise."""
    st.session_state.pop(_OPTIONS_KEY, None)
    if not page.trained or page.run_id is None:
        return page
    epochs = run_epochs(page.run_id)
    if epochs is None:
        return page
    options = epochs.options
    if len(options) < 2:
        return page
    pending = st.session_state.pop(_PENDING_KEY, None)
    if pending in options:
        st.session_state[SLIDER_KEY] = pending
    if st.session_state.get(SLIDER_KEY) not in options:
        st.session_state[SLIDER_KEY] = options[-1]
    slider_column, play_column = st.columns([6, 1], vertical_alignment="bottom")
    epoch = slider_column.select_slider(
        "Epoch", options=options, key=SLIDER_KEY,
        format_func=lambda value: epoch_label(value, epochs.last),
        help="Every tab below shows the model with the weights it had after this epoch.",
    )  # fmt: skip
    playing = bool(st.session_state.get(_PLAYING_KEY))
    play_column.button("Pause" if playing else "Play", key="fm_epoch_play",
                       icon=":material/pause:" if playing else ":material/play_arrow:",
                       width="stretch", on_click=_toggle_play, args=(options,))
    start = (f"Epoch 0 is the starting weights (seed {epochs.seed})." if epochs.from_seed else
             "A fine-tuning starts from its base's trained weights, which the run does not keep.")
    st.caption(f"{epochs.note} {start}")
    _show_filter_evolution(page, epochs)  # first: it passes every epoch through the model
    try:
        shown = _page_at(page, epochs, epoch)
    except (BundleError, StoreError) as error:
        st.warning(f"Epoch {epoch} cannot be shown: {error} Showing the trained model.")
        return page
    st.session_state[_OPTIONS_KEY] = options
    return shown


def keep_playing() -> None:
    """The page's last call: while Play is on, the next epoch a second from now."""
    options = st.session_state.pop(_OPTIONS_KEY, None)
    if not st.session_state.get(_PLAYING_KEY) or not options:
        st.session_state[_PLAYING_KEY] = False
        return
    following = next_epoch(options, st.session_state.get(SLIDER_KEY, options[-1]))
    time.sleep(_STEP_SECONDS)
    if following is None:
        st.session_state[_PLAYING_KEY] = False
    else:
        st.session_state[_PENDING_KEY] = following
    st.rerun()
