"""Request size and time limits, as plain ASGI middleware (no per-request task or copy).

A body larger than the limit is refused with 413 as soon as its ``Content-Length`` says so,
or as soon as the bytes read pass it; a request that runs past its time limit gets 503. A
streamed response that has already started is cut off instead (the client sees a truncated
stream, never a wrong line). ``/route/batch`` has its own, larger, limits.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pedonc_routing.service.metrics import REJECTED


class _BodyTooLarge(Exception):
    pass


def _error(status: int, error: str, message: str) -> tuple[Message, Message]:
    body = json.dumps({"error": error, "message": message}).encode()
    return (
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    )


class LimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        timeout_seconds: float,
        batch_path: str,
        max_batch_bytes: int,
        batch_timeout_seconds: float,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds
        self.batch_path = batch_path
        self.max_batch_bytes = max_batch_bytes
        self.batch_timeout_seconds = batch_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        batch = scope["path"] == self.batch_path
        limit = self.max_batch_bytes if batch else self.max_body_bytes
        timeout = self.batch_timeout_seconds if batch else self.timeout_seconds
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await self._refuse(send, 413, "too_large", f"the body is limited to {limit} bytes")
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(timeout):
                await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(send, 413, "too_large", f"the body is limited to {limit} bytes")
        except TimeoutError:
            if started:
                raise
            await self._refuse(send, 503, "timeout", f"the request took longer than {timeout:g} s")

    @staticmethod
    async def _refuse(send: Send, status: int, error: str, message: str) -> None:
        REJECTED.labels(error).inc()
        start, body = _error(status, error, message)
        await send(start)
        await send(body)
