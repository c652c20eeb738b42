"""Blocking work (database, Redis, WeChat's HTTP API) off the event loop.

The same call as Starlette's `run_in_threadpool`: anyio's worker threads, under anyio's default
limiter, so the gateway's domain code shares one bounded pool with the sync routes and needs no
HTTP framework to do it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
