"""Train page: the results of the last training — metrics, confusion matrix and its
images, per-class accuracy, misclassified images, history, and the downloads."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import streamlit as st

from cnnviz.bundle import bundle_bytes, keras_file_bytes
from cnnviz.train import pair_indices
from ui.state import RESULT_KEY, HandedImage, hand_image
from ui.train.charts import confusion_figure, curves_figure, per_class_figure
from ui.train.data import enlarged
from ui.train.job import ShownResult

__all__ = ["FEATURE_PAGE", "results_section"]

FEATURE_PAGE: Final = "pages/3_Feature_maps.py"
_TRUE_KEY, _PRED_KEY, _CLICK_KEY = "train_pair_true", "train_pair_pred", "train_pair_click"
_GALLERY_MAX: Final = 24
_GALLERY_COLUMNS: Final = 6


def _metrics(shown: ShownResult) -> None:
    result = shown.result
    columns = st.columns(5)
    evaluation = result.evaluation
    low, high = evaluation.accuracy_interval
    columns[0].metric("Test accuracy", f"{result.test_accuracy:.1%}", border=True)
    columns[1].metric("Test loss", f"{result.test_loss:.3f}", border=True)
    columns[2].metric("Epochs", str(result.epochs_completed), border=True,
                      delta="stopped" if result.stopped else None, delta_color="off",
                      delta_arrow="off", help="Stopped with the Stop button: the weights are "
                      "those of the last finished batch." if result.stopped else None)
    columns[3].metric("s / epoch", f"{result.seconds_per_epoch:.1f}", border=True,
                      help="Wall time of training per epoch, validation included")
    columns[4].metric("Images / s", f"{result.samples_per_second:,.0f}", border=True,
                      help="Training images processed per second")
    st.caption(
        f"Measured on {evaluation.test_images:,} test images: with 95% confidence the accuracy "
        f"on new images like these is between {low:.1%} and {high:.1%}. Runs that differ by "
        "less than this margin may differ by chance alone."
    )
    for note in (*result.loss.warnings, *result.notes):
        st.warning(note, icon=":material/warning:")


def _open_in_feature_maps(shown: ShownResult, index: int) -> None:
    true_name = shown.class_names[int(shown.y_test[index])]
    hand_image(HandedImage(array=np.array(shown.x_test[index], dtype=np.float32),
                           label=true_name, source=f"test set #{index}"))
    st.switch_page(FEATURE_PAGE)


def _gallery(shown: ShownResult, indices: np.ndarray, key: str) -> None:
    """Test images with true/predicted labels, each with a button to look inside."""
    if len(indices) == 0:
        st.caption("No test image here.")
        return
    predictions = shown.result.evaluation.predictions
    names = shown.class_names
    shown_indices = indices[:_GALLERY_MAX]
    if len(indices) > _GALLERY_MAX:
        st.caption(f"The first {_GALLERY_MAX} of {len(indices)} images.")
    columns = st.columns(_GALLERY_COLUMNS)
    for position, index in enumerate(int(i) for i in shown_indices):
        with columns[position % _GALLERY_COLUMNS]:
            st.image(enlarged(shown.x_test[index], 72),
                     caption=f"#{index}: {names[int(shown.y_test[index])]} → "
                     f"{names[int(predictions[index])]}")
            if st.button("Inspect", key=f"{key}_{index}", icon=":material/grid_view:",
                         help="Open this image on the Feature maps page"):
                _open_in_feature_maps(shown, index)


def _apply_click(event: Any, names: tuple[str, ...]) -> None:
    points = list(getattr(getattr(event, "selection", None), "points", None) or [])
    if not points:
        return
    point = points[0]
    click = (str(point.get("y")), str(point.get("x")))
    if click == st.session_state.get(_CLICK_KEY) or not all(c in names for c in click):
        return
    st.session_state[_CLICK_KEY] = click
    st.session_state[_TRUE_KEY], st.session_state[_PRED_KEY] = click


def _worst_pair(confusion: np.ndarray) -> tuple[int, int]:
    off_diagonal = confusion.copy()
    np.fill_diagonal(off_diagonal, -1)
    true_class, predicted = np.unravel_index(int(np.argmax(off_diagonal)), confusion.shape)
    return int(true_class), int(predicted)


def _confusion(shown: ShownResult) -> None:
    evaluation = shown.result.evaluation
    names = tuple(str(name) for name in shown.class_names)
    st.caption("Rows are the true classes, columns the predictions. Click a cell (or choose "
               "below) to see its test images.")
    event = st.plotly_chart(confusion_figure(evaluation.confusion, names), on_select="rerun",
                            selection_mode="points", key=f"train_confusion_{shown.run_id}")
    _apply_click(event, names)
    if st.session_state.get(_TRUE_KEY) not in names or st.session_state.get(_PRED_KEY) not in names:
        worst = _worst_pair(evaluation.confusion)
        st.session_state[_TRUE_KEY], st.session_state[_PRED_KEY] = names[worst[0]], names[worst[1]]
    left, right = st.columns(2)
    true_name = left.selectbox("True class", names, key=_TRUE_KEY)
    predicted_name = right.selectbox("Predicted as", names, key=_PRED_KEY)
    indices = pair_indices(shown.y_test, evaluation.predictions, names.index(true_name),
                           names.index(predicted_name))
    st.markdown(f"**{len(indices)}** test image(s) of **{true_name}** predicted as "
                f"**{predicted_name}**")
    _gallery(shown, indices, "train_pair")


def _history_rows(history: dict[str, list[float]]) -> list[dict[str, float | int]]:
    epochs = max((len(values) for values in history.values()), default=0)
    return [{"epoch": epoch + 1, **{key: values[epoch] for key, values in history.items()
                                    if epoch < len(values)}} for epoch in range(epochs)]


def _downloads(shown: ShownResult) -> None:
    result = shown.result
    stem = f"{result.spec.name}-run{shown.run_id}"
    st.download_button(
        "Bundle: architecture + weights (.zip)", icon=":material/download:",
        data=lambda: bundle_bytes(result.model, result.spec, dataset_name=shown.dataset_name,
                                  class_names=shown.class_names,
                                  test_accuracy=result.test_accuracy,
                                  finetune=shown.finetune.to_dict() if shown.finetune else None),
        file_name=f"{stem}.cnnviz.zip", mime="application/zip", key="train_download_bundle",
        help="Load it again under “Load a trained model” below, or with `cnnviz featuremaps`.",
    )  # fmt: skip
    st.download_button(
        "Keras model (.keras)", icon=":material/download:",
        data=lambda: keras_file_bytes(result.model), file_name=f"{stem}.keras",
        mime="application/octet-stream", key="train_download_keras",
        help="For Keras users: keras.models.load_model('…keras'). Open only files you trust.",
    )  # fmt: skip


def results_section() -> None:
    """Everything about the last finished training of this session, if there is one."""
    shown = st.session_state.get(RESULT_KEY)
    if not isinstance(shown, ShownResult):
        return
    result = shown.result
    st.subheader(f"Results of run {shown.run_id}: {result.spec.name} on {shown.dataset_name}")
    _metrics(shown)
    tabs = st.tabs(["Curves", "Confusion matrix", "Per class", "Misclassified", "History",
                    "Download"])
    with tabs[0]:
        figure = curves_figure(result.history, epochs=result.settings.epochs)
        st.plotly_chart(figure, key=f"train_result_curves_{shown.run_id}")
    with tabs[1]:
        _confusion(shown)
    with tabs[2]:
        st.plotly_chart(per_class_figure(result.evaluation.per_class_accuracy, shown.class_names),
                        key=f"train_per_class_{shown.run_id}")
    with tabs[3]:
        wrong = result.evaluation.misclassified
        st.caption(f"{len(wrong)} of {len(shown.y_test)} test images are misclassified "
                   "(true → predicted).")
        _gallery(shown, wrong, "train_wrong")
    with tabs[4]:
        st.dataframe(_history_rows(result.history), hide_index=True)
    with tabs[5]:
        _downloads(shown)
