"""Shared parts of the embed, compare and cluster functions."""
