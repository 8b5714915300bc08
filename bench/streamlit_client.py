"""A minimal Streamlit websocket client: one browser session without the browser.

It speaks the app's own protocol (BackMsg / ForwardMsg protobufs over `/_stcore/stream`),
so a load test can hold many sessions on a small machine and time each script run.
Widgets are found by their user key (Streamlit ends a keyed widget's id with `-<key>`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

__all__ = ["RunResult", "StreamlitSession"]

_WIDGET_TYPES = {
    "button", "checkbox", "color_picker", "date_input", "file_uploader", "multiselect",
    "number_input", "radio", "selectbox", "slider", "text_area", "text_input", "toggle",
    "button_group", "segmented_control", "time_input",
}  # fmt: skip


@dataclass
class RunResult:
    seconds: float
    exceptions: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


class StreamlitSession:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/").replace("http", "ws", 1) + "/_stcore/stream"
        self.widget_ids: dict[str, str] = {}  # user key -> widget id
        self.widget_states: dict[str, WidgetState] = {}
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path ("", "Train", …) -> page script hash
        self.query_string = ""
        self.auto_reruns: dict[str, float] = {}  # fragment id -> seconds, as the page asks
        self._socket: Any = None

    async def connect(self) -> None:
        self._socket = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=64 * 1024 * 1024, open_timeout=30
        )

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()

    def _collect(self, message: ForwardMsg, result: RunResult) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.page_script_hash = message.new_session.page_script_hash
        elif kind == "navigation":
            self.page_script_hash = message.navigation.page_script_hash
            for page in message.navigation.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.auto_reruns[message.auto_rerun.fragment_id] = message.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fragment_id, None)
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            element_type = element.WhichOneof("type")
            if element_type == "exception":
                result.exceptions.append(
                    f"{element.exception.type}: {element.exception.message}"
                )
            elif element_type in ("markdown", "alert", "heading"):
                body = getattr(element, element_type).body
                result.texts.append(body)
            elif element_type == "metric":
                result.texts.append(f"{element.metric.label}: {element.metric.body}")
            elif element_type == "progress":
                result.texts.append(element.progress.text)
            elif element_type in _WIDGET_TYPES:
                widget_id = getattr(element, element_type).id
                if widget_id.startswith("$$ID-") and "-" in widget_id[5:]:
                    key = widget_id.split("-", 2)[2]
                    self.widget_ids[key] = widget_id

    async def open_page(self, url_pathname: str, timeout: float = 120.0) -> RunResult:
        """Switch to another page of `st.navigation`, as a click in the sidebar does."""
        self.page_script_hash = self.pages[url_pathname]
        self.widget_states.clear()
        return await self.rerun(timeout)

    async def rerun(self, timeout: float = 120.0, **changes: Any) -> RunResult:
        """Set widgets by key (`trigger_value`, `int_value`, …) and wait for the run to finish."""
        for key, (attribute, value) in changes.items():
            widget_id = self.widget_ids[key]
            state = WidgetState(id=widget_id)
            setattr(state, attribute, value)
            self.widget_states[widget_id] = state
        self.auto_reruns.clear()  # a whole run registers the page's fragments again
        result = await self._run(timeout)
        for key, (attribute, _) in changes.items():
            if attribute in ("trigger_value", "json_trigger_value"):
                self.widget_states.pop(self.widget_ids[key], None)
        return result

    async def fragment_rerun(self, fragment_id: str, timeout: float = 120.0) -> RunResult:
        """Rerun one fragment alone, as the browser does every `run_every` seconds."""
        return await self._run(timeout, fragment_id=fragment_id)

    async def _run(self, timeout: float, fragment_id: str = "") -> RunResult:
        message = BackMsg()
        message.rerun_script.query_string = self.query_string
        message.rerun_script.page_script_hash = self.page_script_hash
        message.rerun_script.widget_states.widgets.extend(self.widget_states.values())
        if fragment_id:
            message.rerun_script.fragment_id = fragment_id
            message.rerun_script.is_auto_rerun = True
        start = time.perf_counter()
        await self._socket.send(message.SerializeToString())
        result = RunResult(0.0)
        await asyncio.wait_for(self._until_finished(result), timeout)
        result.seconds = time.perf_counter() - start
        return result

    async def _until_finished(self, result: RunResult) -> None:
        while True:
            raw = await self._socket.recv()
            message = ForwardMsg()
            message.ParseFromString(raw)
            self._collect(message, result)
            if message.WhichOneof("type") == "script_finished":
                return
