"""Shared parts of the embed, compare and cluster functions."""

# The service's version, as GET /info reports it (pyproject.toml reads it from here).
__version__ = "0.2.0"
