"""Tests may open sockets to loopback only: nothing they run can reach the internet."""

from __future__ import annotations

import socket

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOOPBACK:
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address[0]}")
    return _real_connect(self, address)


def allow_loopback_only() -> None:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
