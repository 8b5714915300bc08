"""The Build page's helpers."""
