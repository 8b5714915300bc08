"""Feature maps page."""

from __future__ import annotations

import streamlit as st

st.title("Feature maps")
