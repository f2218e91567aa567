"""Errors of the application layer that the CLI maps to messages (kept light: the CLI imports this at start)."""

from __future__ import annotations


class SettingsError(Exception):
    """Settings that cannot be used; the message names each bad setting and why."""
