"""Train page: the training settings and the loss, with the reason it was chosen."""

from __future__ import annotations

import streamlit as st

from cnnviz.settings import get_settings, setting_source
from cnnviz.spec import ModelSpec
from cnnviz.train import (
    MAX_BATCH_SIZE,
    MAX_VALIDATION_SPLIT,
    OPTIMIZERS,
    SCHEDULES,
    LossChoice,
    TrainingError,
    TrainingSettings,
    choose_loss,
)
from ui.lesson import epoch_cap, locked_optimizer
from ui.state import TRAIN_SETTING_WIDGET_KEYS as _KEYS
from ui.state import learning_rate_widget_key, set_spec
from ui.train.charts import LIVE_CHART_CONFIG, schedule_figure

__all__ = ["loss_panel", "settings_form"]

_BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)
_SCHEDULE_LABELS = {"cosine": "Cosine decay to 0", "constant": "Constant"}


def settings_form(*, disabled: bool) -> TrainingSettings | None:
    """Optimizer, learning rate, batch size, epochs, validation split and seed."""
    host = get_settings()
    defaults = TrainingSettings()
    left, right = st.columns(2)
    fixed, cap = locked_optimizer(), epoch_cap()
    if fixed is not None:  # the lesson sets it; the server checks it again at the start
        optimizer, rate = fixed[0], fixed[1] or OPTIMIZERS[fixed[0]].learning_rate
        left.caption(f":material/lock: Optimizer **{OPTIMIZERS[optimizer].label}**, learning "
                     f"rate **{rate:g}**: set by the host for this lesson.")
    else:
        optimizer = left.selectbox("Optimizer", tuple(OPTIMIZERS), key=_KEYS["optimizer"],
                                   index=tuple(OPTIMIZERS).index(defaults.optimizer),
                                   format_func=lambda name: OPTIMIZERS[name].label,
                                   disabled=disabled) or defaults.optimizer
        rate = right.number_input(
            "Learning rate", min_value=1e-6, max_value=10.0, format="%g", disabled=disabled,
            value=OPTIMIZERS[optimizer].learning_rate, key=learning_rate_widget_key(optimizer),
            help=f"{OPTIMIZERS[optimizer].label} usually starts at "
            f"{OPTIMIZERS[optimizer].learning_rate:g}.",
        )  # fmt: skip
    most = min(host.max_epochs or 10_000, cap or 10_000)
    if int(st.session_state.get(_KEYS["epochs"]) or 0) > most:  # a cap came after the choice
        st.session_state[_KEYS["epochs"]] = most
    batch_size = left.select_slider("Batch size", _BATCH_SIZES, value=defaults.batch_size,
                                    key=_KEYS["batch_size"], disabled=disabled,
                                    help=f"Images per gradient step (up to {MAX_BATCH_SIZE}).")
    epochs = right.number_input(
        "Epochs", min_value=1, max_value=max(1, most), disabled=disabled,
        value=min(defaults.epochs, most), step=1, key=_KEYS["epochs"],
        help=f"Passes over the training images. This server allows up to {host.max_epochs} "
        f"({setting_source('max_epochs')})."
        + (f" :material/lock: The host's lesson allows up to {cap}." if cap else ""),
    )  # fmt: skip
    split = left.slider("Validation split", 0.0, MAX_VALIDATION_SPLIT, defaults.validation_split,
                        step=0.05, key=_KEYS["validation_split"], disabled=disabled,
                        help="Training images held out to measure each epoch on unseen data.")
    seed = right.number_input("Seed", min_value=0, max_value=2**31 - 1, value=defaults.seed,
                              step=1, key=_KEYS["seed"], disabled=disabled,
                              help="Same seed, same data order and initial weights.")
    schedule_column, chart_column = st.columns(2)
    schedule = schedule_column.selectbox(
        "Learning-rate schedule", SCHEDULES, index=SCHEDULES.index(defaults.schedule),
        format_func=_SCHEDULE_LABELS.__getitem__, key=_KEYS["schedule"], disabled=disabled,
        help="Cosine lowers the rate smoothly to 0 by the last batch (big steps first, fine "
        "ones at the end); constant keeps the rate you set.",
    ) or defaults.schedule  # fmt: skip
    try:
        training = TrainingSettings(optimizer=optimizer, learning_rate=float(rate),
                                     batch_size=int(batch_size), epochs=int(epochs),
                                     validation_split=float(split), seed=int(seed),
                                     schedule=schedule)
    except TrainingError as error:
        st.error(str(error), icon=":material/error:")
        return None
    chart_column.plotly_chart(schedule_figure(training), key="train_schedule_chart",
                              width="stretch", config=LIVE_CHART_CONFIG)
    return training


def loss_panel(spec: ModelSpec, num_classes: int, *, frozen: bool) -> LossChoice:
    """The chosen loss and why; warnings and blocking problems, each with its fix."""
    choice = choose_loss(spec, num_classes)
    if choice.ok:
        st.info(f"Loss: **{choice.describe()}**. {choice.reason}", icon=":material/functions:")
    else:
        st.error(choice.problem or "", icon=":material/error:")
    for warning in choice.warnings:
        st.warning(warning, icon=":material/warning:")
    if choice.fixed_spec is not None:
        st.button(choice.fix_label or "Fix the last layer", key="train_fix_output",
                  on_click=set_spec, args=(choice.fixed_spec,), disabled=frozen,
                  icon=":material/build:", help="Changes the model on the Build page "
                  "(undo is there)." if not frozen else "Not while a training runs.")
    return choice
