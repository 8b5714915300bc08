"""Host: the live room, the lesson and its locks, the challenge and its leaderboard."""

from __future__ import annotations

import streamlit as st

from ui.entry import run_through_app
from ui.host import require_host
from ui.host.leaderboard import challenge_form, leaderboard_panel
from ui.host.lesson_form import lesson_form
from ui.host.projector import projector_view
from ui.host.quiz import question_launcher
from ui.host.room_view import live_room
from ui.lesson import room_store

run_through_app()  # a reload of this page's URL on a fresh server
require_host()  # the navigation lists this page only for the host; checked again here

st.header("Host · the room", anchor=False)
room = room_store()
if room is None:
    st.warning("The workspace store cannot be opened, so the room cannot be run. See the "
               "server's log.", icon=":material/cloud_off:")
    st.stop()

# Only the open tab is drawn: its fragment is the one that refreshes.
room_tab, lesson_tab, challenge_tab = st.tabs(
    ["Room", "Lesson and locks", "Challenge and leaderboard"],
    key="host_tabs", on_change="rerun",
)
if room_tab.open:
    with room_tab:
        question_launcher(room)
        live_room(room)
        projector_view(room)
if lesson_tab.open:
    with lesson_tab:
        lesson_form(room)
if challenge_tab.open:
    with challenge_tab:
        leaderboard_panel(room, key="host_board", pickable=True)
        projector_view(room)
        with st.expander("Set or change the challenge", icon=":material/emoji_events:"):
            challenge_form(room)
