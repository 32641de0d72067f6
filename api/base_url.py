"""The public address when ``TDCFLOW_BASE_URL`` is unset: the host and port ``tdcflow serve``
serves, recorded in the data folder for the processes that serve nothing (the worker, ``tdcflow
demo``), so `PORT=8080 make run` prints links to port 8080. A production installation behind a
reverse proxy sets ``TDCFLOW_BASE_URL``: only it knows the name the public uses."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket

from workflows.config import SERVED_BASE_URL_FILE, Settings

log = logging.getLogger("tdcflow.base_url")


def served_base_url(host: str, port: int) -> str:
    """``http://host:port`` as a browser on this machine or the network reaches it: an address that
    means "every interface" becomes this machine's name; an IPv6 address is bracketed."""
    name = host.strip() or "0.0.0.0"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None and address.is_unspecified:
        name = socket.getfqdn()
        log.warning(
            "serving on every interface and TDCFLOW_BASE_URL is unset: links in documents and e-mails "
            "name %s; set TDCFLOW_BASE_URL to the address the public uses",
            name,
        )
    elif address is not None and address.version == 6:
        name = f"[{name}]"
    return f"http://{name}:{port}"


def apply_served(settings: Settings, host: str, port: int) -> None:
    """``tdcflow serve``: without ``TDCFLOW_BASE_URL``, links name the host and port served, and
    the data folder records them for the worker."""
    if "base_url" in settings.model_fields_set:
        return
    settings.base_url = served_base_url(host, port)
    path = settings.data_dir / SERVED_BASE_URL_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.writing")
        partial.write_text(settings.base_url + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:  # a read-only data folder: this process still uses the right address
        log.warning("could not record the served address in %s: %s", path, exc)
    log.info("public address (TDCFLOW_BASE_URL unset): %s", settings.base_url)


def apply_recorded(settings: Settings) -> None:
    """The worker and ``tdcflow demo``: without ``TDCFLOW_BASE_URL``, the address the last
    ``tdcflow serve`` recorded in the data folder (else the default)."""
    settings.base_url = settings.recorded_base_url()
