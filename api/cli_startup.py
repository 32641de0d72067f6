"""How every ``tdcflow`` sub-command starts: the settings from the environment, logging configured
from them, or exit status 2 with the reason when they cannot be read."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from api.logging_setup import configure_logging
from workflows.config import Settings, get_settings


def start() -> Settings:
    """The settings, with logging configured from them (every sub-command starts here)."""
    try:
        settings = get_settings()
        configure_logging(settings)
    except (ValidationError, ValueError) as exc:
        print(f"tdcflow: cannot start — {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    return settings
