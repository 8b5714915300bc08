"""The Feature maps page's helpers."""
