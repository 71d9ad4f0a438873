"""Polling, and whether a port answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class StopWaiting(Exception):
    """Raised by a ``wait_until`` predicate when waiting longer is pointless (e.g. the process
    it waits for has exited); propagates at once."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.1,
    message: str | Callable[[], str] = "condition not met",
) -> T:
    """Poll ``predicate`` until it returns something truthy; return it or raise AssertionError.

    Exceptions raised by the predicate count as "not yet" and are reported on timeout, except
    :class:`StopWaiting`, which propagates at once.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last_exc = None
        except StopWaiting:
            raise
        except Exception as exc:  # reported on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            if last_exc is not None:
                text += f" (last error: {last_exc!r})"
            raise AssertionError(f"timed out after {timeout:.1f}s: {text}")
        time.sleep(interval)
