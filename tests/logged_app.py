"""The app of a server process a test starts (``uvicorn --factory tests.logged_app:create``), its
logging set up from the environment as ``tdcflow serve`` sets it: one line a record, with the
process id, so that a test can tell which worker process did what."""

from __future__ import annotations

from fastapi import FastAPI

from api.logging_setup import configure_logging
from api.main import create_app
from workflows.config import get_settings


def create() -> FastAPI:
    configure_logging(get_settings())
    return create_app()
