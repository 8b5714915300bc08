"""The host's side of the room: sign-in, the live room view, lessons, the leaderboard."""

from __future__ import annotations

from ui.host.auth import HOST_KEY, host_pages, host_sign_in, is_host, require_host

__all__ = ["HOST_KEY", "host_pages", "host_sign_in", "is_host", "require_host"]
