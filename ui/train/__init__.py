"""The Train page's helpers."""
