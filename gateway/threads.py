"""Blocking work (database, Redis, WeChat's HTTP API) off the event loop.

The same call as Starlette's `run_in_threadpool`: anyio's worker threads, under anyio's default
limiter, so the gateway's domain code shares one bounded pool with the sync routes and needs no
HTTP framework to do it."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))


async def sweep_forever(interval_s: float, sweep: Callable[[], object], log: logging.Logger, what: str) -> None:
    """Run a blocking sweep every `interval_s` seconds until cancelled. A failed round (the
    database may be away) is logged and tried again next round, never ends the loop."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(sweep)
        except Exception:
            log.exception("%s failed", what)
