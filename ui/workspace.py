"""The participant's durable workspace: opened at a session's first run, saved as it changes.

The browser keeps a random token in a cookie (`COOKIE_NAME`); the store keeps the
workspace it opens. A store that fails (full disk, read-only file, database down) never
stops the session: the sidebar says that work is not being saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from cnnviz.archfile import dump_architecture, load_architecture
from cnnviz.bundle import BundleError, LoadedBundle, load_bundle
from cnnviz.data import Dataset, DatasetError, load_dataset, load_upload
from cnnviz.errors import DisplayNameError, LimitError, SpecError, StoreError
from cnnviz.limits import check_workspace_bytes
from cnnviz.settings import get_settings
from cnnviz.spec import ModelSpec
from cnnviz.store import Store, StoredRun, Workspace, open_store
from cnnviz.store.runs import training_run
from cnnviz.train import TrainedModel
from ui.state import (
    DATASET_KEY,
    RUNS_KEY,
    STORE_PROBLEM_KEY,
    STORED_RUNS_KEY,
    TRAINED_KEY,
    WORKSPACE_KEY,
    adopt_saved_spec,
    current_spec,
)

__all__ = [
    "COOKIE_NAME",
    "adopt_stored_run",
    "current_workspace",
    "keep_uploaded_dataset",
    "open_session_workspace",
    "refresh_stored_runs",
    "report_store_problem",
    "restore_trained_model",
    "save_workspace",
    "session_store",
    "stored_run_bundle",
    "stored_run_dataset",
    "stored_runs",
    "workspace_panel",
]

COOKIE_NAME = "cnnviz_participant"
_COOKIE_SECONDS = 365 * 86_400
_SAVED_ARCH_KEY = "cnnviz_saved_architecture"
_SAVED_DATASET_KEY = "cnnviz_saved_dataset"
_RESTORED_KEY = "cnnviz_restored_runs"  # runs whose weights this session tried to load
_ASSETS = Path(__file__).resolve().parent / "components"
_COOKIE_COMPONENT = st.components.v2.component(
    "cnnviz_participant_cookie",
    js=(_ASSETS / "participant_cookie.js").read_text(encoding="utf-8"),
)
_log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _process_store() -> Store:
    """One store (a pooled engine) per server process; a failure is retried next session."""
    host = get_settings()
    store = open_store(host.resolved_store_url, Path(host.upload_cache).expanduser())
    try:
        removed = store.purge_idle(host.workspace_keep_days)
        if removed:
            _log.info("removed %d workspaces unseen for %d days", removed,
                      host.workspace_keep_days)
    except StoreError as error:
        _log.warning("%s", error)
    return store


def report_store_problem(error: StoreError) -> None:
    _log.warning("workspace store: %s", error)
    st.session_state[STORE_PROBLEM_KEY] = str(error)


def session_store() -> Store | None:
    """The store, or None (with the problem noted for the sidebar) where it cannot open."""
    try:
        return _process_store()
    except StoreError as error:
        report_store_problem(error)
        return None


def current_workspace() -> Workspace | None:
    workspace = st.session_state.get(WORKSPACE_KEY)
    return workspace if isinstance(workspace, Workspace) else None


def _browser_token() -> str | None:
    token = st.context.cookies.get(COOKIE_NAME)
    return token if isinstance(token, str) else None


def _write_cookie(workspace: Workspace) -> None:
    if _browser_token() == workspace.token:
        return
    with st.sidebar:
        _COOKIE_COMPONENT(key=f"participant_cookie_{workspace.id}",
                          data={"name": COOKIE_NAME, "token": workspace.token,
                                "max_age": _COOKIE_SECONDS})


def refresh_stored_runs(store: Store, workspace: Workspace) -> None:
    """The workspace's runs into the session: shown runs, and all (interrupted too)."""
    stored = store.runs(workspace.id)
    st.session_state[STORED_RUNS_KEY] = stored
    st.session_state[RUNS_KEY] = [run for run in map(training_run, stored) if run is not None]


def _restore(store: Store, workspace: Workspace) -> None:
    if workspace.architecture_json:
        try:
            adopt_saved_spec(load_architecture(workspace.architecture_json))
        except SpecError as error:
            _log.warning("workspace %d: saved architecture unreadable: %s", workspace.id, error)
    st.session_state[_SAVED_ARCH_KEY] = workspace.architecture_json
    if workspace.dataset_name and DATASET_KEY not in st.session_state:
        st.session_state[DATASET_KEY] = workspace.dataset_name
    st.session_state[_SAVED_DATASET_KEY] = workspace.dataset_name
    refresh_stored_runs(store, workspace)


def open_session_workspace(token: str | None = None) -> None:
    """At a session's first run (or with a token from another device): open the
    workspace, bring back its model and runs, and keep its token in the browser."""
    workspace = current_workspace()
    if workspace is None or token is not None:
        store = session_store()
        if store is None:
            return
        try:
            workspace = store.open_workspace(token or _browser_token())
            st.session_state[WORKSPACE_KEY] = workspace
            _restore(store, workspace)
        except StoreError as error:
            report_store_problem(error)
            return
    _write_cookie(workspace)


def save_workspace() -> None:
    """Write what changed in this run (the architecture, the dataset): small and rare."""
    workspace, store = current_workspace(), None
    if workspace is None:
        return
    architecture = dump_architecture(current_spec(), indent=None)
    dataset = st.session_state.get(DATASET_KEY)
    try:
        if architecture != st.session_state.get(_SAVED_ARCH_KEY):
            store = store or session_store()
            if store is not None:
                store.save_architecture(workspace.id, architecture)
                st.session_state[_SAVED_ARCH_KEY] = architecture
        if isinstance(dataset, str) and dataset != st.session_state.get(_SAVED_DATASET_KEY):
            store = store or session_store()
            if store is not None:
                store.save_dataset(workspace.id, dataset)
                st.session_state[_SAVED_DATASET_KEY] = dataset
    except StoreError as error:
        report_store_problem(error)


def keep_uploaded_dataset(filename: str, data: bytes) -> tuple[str | None, str | None]:
    """Keep an uploaded dataset in the participant's workspace (by content hash, within the
    per-participant quota), so that a run trained on it can find its data again. Returns
    the hash, or None and why it is not kept (for the page to say)."""
    workspace = current_workspace()
    store = session_store() if workspace is not None else None
    if workspace is None or store is None:
        return None, None
    try:
        check_workspace_bytes(store.usage_bytes(workspace.id) + len(data))
        return store.keep_upload(workspace.id, filename, data), None
    except LimitError as error:
        reason = error.message[:1].lower() + error.message[1:]
        return None, (f"{filename} is used in this session but not kept in your workspace: "
                      f"with it, {reason}")
    except StoreError as error:
        report_store_problem(error)
    return None, None


def stored_runs() -> list[StoredRun]:
    stored = st.session_state.get(STORED_RUNS_KEY)
    return [run for run in stored if isinstance(run, StoredRun)] if stored else []


def restore_trained_model(fits: Callable[[ModelSpec], bool]) -> str | None:
    """After a reload or a restart: the newest stored run whose architecture `fits` becomes
    the session's trained model, rebuilt from its JSON and weights. Returns a message
    where its weights could not be loaded."""
    workspace = current_workspace()
    tried: set[int] = st.session_state.setdefault(_RESTORED_KEY, set())
    if workspace is None:
        return None
    for run in reversed(stored_runs()):
        if not run.has_weights or run.id in tried:
            continue
        try:
            saved = load_architecture(run.architecture_json)
        except SpecError:
            continue
        if not fits(saved):
            continue
        tried.add(run.id)
        store = session_store()
        if store is None:
            return None
        try:
            adopt_stored_run(store, workspace.id, run)
        except StoreError as error:
            report_store_problem(error)
            return None
        except BundleError as error:
            return (f"The stored weights of run {run.id} could not be loaded ({error}). "
                    "Train the model again to see what it learned.")
        return None
    return None


def stored_run_bundle(store: Store, owner_id: int, run_id: int) -> LoadedBundle:
    """Run `run_id` of workspace `owner_id`, rebuilt from its JSON and its stored weights.

    Raises `BundleError` (no weights, or damaged ones), `LimitError`, `StoreError`."""
    return load_bundle(store.run_weights(owner_id, run_id) or b"")


def stored_run_dataset(store: Store, owner_id: int, run: StoredRun) -> Dataset:
    """The dataset run `run` (of workspace `owner_id`) trained on: the upload the workspace
    kept, or a built-in made again. Raises `DatasetError`, `StoreError`."""
    if run.upload_hash is None:
        return load_dataset(run.dataset_name)
    kept = store.kept_upload(owner_id, run.upload_hash)
    if kept is None:
        raise DatasetError(f"{run.dataset_name} was an upload that the workspace no longer "
                           "keeps: upload it again on the Train page.")
    return load_upload(*kept, max_bytes=get_settings().max_upload_bytes)


def adopt_stored_run(store: Store, owner_id: int, run: StoredRun) -> TrainedModel:
    """Stored run `run` of workspace `owner_id` becomes this session's trained model (a
    reload brings back the participant's own; the host brings a participant's).

    Raises `BundleError`, `LimitError`, `StoreError`; the session is unchanged then."""
    bundle = stored_run_bundle(store, owner_id, run.id)
    record = TrainedModel(bundle.model, bundle.spec, run.dataset_name, run.class_names,
                          run.test_accuracy, run_id=run.id)
    st.session_state[TRAINED_KEY] = record
    return record


def workspace_panel() -> None:
    """The sidebar's "Your workspace": name, another device, download, delete."""
    problem = st.session_state.get(STORE_PROBLEM_KEY)
    if problem:
        st.warning(f"Your work is not being saved right now. {problem} You can go on "
                   "working; download what you want to keep.", icon=":material/cloud_off:")
    workspace, store = current_workspace(), None
    if workspace is None:
        return
    with st.expander("Your workspace", icon=":material/person:"):
        st.caption("Your model and every run are saved on this server and come back after "
                   "a reload or a restart.")
        name = st.text_input("Display name (shown to the host)", value=workspace.display_name
                             or "", max_chars=40, key="workspace_display_name")
        if (name or None) != workspace.display_name:
            store = session_store()
            if store is not None:
                try:
                    saved = store.set_display_name(workspace.id, name)
                    st.session_state[WORKSPACE_KEY] = _replace_name(workspace, saved)
                except DisplayNameError as error:
                    st.error(str(error))
                except StoreError as error:
                    report_store_problem(error)
        _other_device(workspace)
        _download_and_delete(workspace)


def _replace_name(workspace: Workspace, name: str | None) -> Workspace:
    return Workspace(workspace.id, workspace.token, name, workspace.architecture_json,
                     workspace.dataset_name, workspace.fresh)


def _other_device(workspace: Workspace) -> None:
    st.markdown("**Continue on another device**")
    left, right = st.columns(2)
    if left.button("Get a code", key="workspace_get_code", width="stretch"):
        store = session_store()
        if store is not None:
            try:
                st.session_state["workspace_code"] = store.issue_transfer_code(workspace.id)
            except StoreError as error:
                report_store_problem(error)
    code = st.session_state.get("workspace_code")
    if isinstance(code, str):
        right.code(code, language=None)
        st.caption("Type it on the other device within 15 minutes.")
    with st.form("workspace_redeem", border=False):
        typed = st.text_input("Have a code? Open that workspace here", max_chars=16)
        if st.form_submit_button("Open it") and typed.strip():
            store = session_store()
            token = store.redeem_transfer_code(typed) if store is not None else None
            if token is None:
                st.error("That code is unknown or expired. Get a new one on the other device.")
            else:
                open_session_workspace(token)
                st.rerun()


def _download_and_delete(workspace: Workspace) -> None:
    store = session_store()
    if store is None:
        return
    st.download_button("Download everything (zip)", key="workspace_download",
                       data=lambda: store.export_zip(workspace.id),
                       file_name="cnnviz-workspace.zip", mime="application/zip",
                       width="stretch")
    if st.checkbox("Delete my workspace…", key="workspace_delete_armed"):
        if st.button("Delete everything of mine", type="primary", key="workspace_delete"):
            try:
                store.delete_workspace(workspace.id)
            except StoreError as error:
                report_store_problem(error)
                return
            for key in (WORKSPACE_KEY, RUNS_KEY, STORED_RUNS_KEY):
                st.session_state.pop(key, None)
            open_session_workspace(token="")
            st.rerun()
