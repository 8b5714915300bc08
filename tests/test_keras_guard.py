from __future__ import annotations


def test_streamlit_cleanup_after_each_run_keeps_keras_state_for_running_trainings() -> None:
    from keras.src.backend.common import global_state
    from streamlit.runtime.scriptrunner import script_runner

    from cnnviz.keras_guard import keep_keras_state_across_reruns

    keep_keras_state_across_reruns()
    tracker = global_state.GLOBAL_STATE_TRACKER
    script_runner._clean_problem_modules()  # what Streamlit runs after every script run
    assert global_state.GLOBAL_STATE_TRACKER is tracker
    import keras

    keras.backend.clear_session()  # any other caller still clears
    assert global_state.GLOBAL_STATE_TRACKER is not tracker
