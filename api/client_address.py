"""The client's address: the peer's, or what a trusted reverse proxy says in X-Forwarded-For.

A proxy appends the address it received the request from; whatever the client wrote there itself
comes first. So the hops are read from the right, skipping the trusted proxies
(``TDCFLOW_TRUSTED_PROXIES``): the first other hop is the client. A request that does not come
from a trusted proxy is its peer, whatever its headers say (anyone can write X-Forwarded-For).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

from workflows.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """The networks of the setting ("127.0.0.1, 10.0.0.0/8"); a malformed entry is an error at
    the first request, not a silently trusted address."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def _is_trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def client_address(request: Request, settings: Settings) -> str:
    peer = request.client.host if request.client else ""
    networks = trusted_networks(settings.trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer or "unknown"
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
