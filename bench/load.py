"""A small closed-loop load generator: N clients, each sending its next request as soon as the last
answered, for a fixed time. The same client measures a shop page and the bare request behind it, so
their ratio compares the servers, not two load tools.

HTTP/1.1 with keep-alive over asyncio streams (one connection per client), enough for uvicorn and
Elasticsearch on 127.0.0.1: Content-Length or chunked bodies, cookies kept per client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from bench.common import percentiles


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class HttpClient:
    """One keep-alive connection to one host, reopened when the server closes it; a cookie jar."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""  # the CSRF token of the page last read, for the next form
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Answer:
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: one retry
            try:
                return await self._send(method, path, body, headers or {})
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _send(self, method: str, path: str, body: bytes, headers: dict) -> Answer:
        if self._writer is None:
            url = urlsplit(self.base)
            self._reader, self._writer = await asyncio.open_connection(url.hostname, url.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {urlsplit(self.base).netloc}", f"Content-Length: {len(body)}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self._writer.drain()
        status_line = await self._reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        answer_headers: dict[str, str] = {}
        while (line := await self._reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
            answer_headers[name] = value
        if answer_headers.get("transfer-encoding", "").lower() == "chunked":
            payload = bytearray()
            while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
                payload += await self._reader.readexactly(size)
                await self._reader.readexactly(2)
            await self._reader.readuntil(b"\r\n")
            content = bytes(payload)
        else:
            content = await self._reader.readexactly(int(answer_headers.get("content-length", "0")))
        if answer_headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, answer_headers, content)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        self._reader = self._writer = None


# One timed request of a client: given the client and the request's number, it sends (after any
# untimed preparation of its own) and returns the milliseconds of the timed part, or None when the
# answer was not the expected one.
Step = Callable[[HttpClient, int], Awaitable[float | None]]


async def timed(request: Awaitable[Answer], expect: int = 200) -> float | None:
    """The milliseconds `request` took, None when it answered another status than `expect`."""
    began = time.perf_counter()
    answer = await request
    return (time.perf_counter() - began) * 1000 if answer.status == expect else None


async def closed_loop(base: str, step: Step, clients: int, seconds: float,
                      prepare: Callable[[HttpClient, int], Awaitable[None]] | None = None) -> dict:
    """`clients` clients each running `step` back to back for `seconds` (after `prepare`, untimed);
    p50/p95/p99 in ms, timed requests per second, errors (a wrong answer or an exception)."""
    http = [HttpClient(base) for _ in range(clients)]
    if prepare is not None:
        await asyncio.gather(*(prepare(client, number) for number, client in enumerate(http)))

    async def call(client: int, index: int) -> float | None:
        try:
            return await step(http[client], index)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await http[client].close()
            return None

    try:
        return await closed_loop_calls(call, clients, seconds)
    finally:
        await asyncio.gather(*(client.close() for client in http))


async def closed_loop_calls(call: Callable[[int, int], Awaitable[float | None]], clients: int,
                            seconds: float) -> dict:
    """`clients` callers each making `call(client, index)` back to back for `seconds`. A call returns
    the milliseconds of its timed part (None: the call went wrong); an exception is an error too."""
    samples: list[float] = []
    errors = 0
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def run(client: int) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                ms = await call(client, next(counter))
            except Exception:  # noqa: BLE001 - a failed call is counted, the run goes on
                ms = None
            if ms is None:
                errors += 1
            else:
                samples.append(ms)

    began = time.perf_counter()
    await asyncio.gather(*(run(client) for client in range(clients)))
    elapsed = time.perf_counter() - began
    return {**summary(samples), "rps": len(samples) / elapsed, "errors": errors, "clients": clients}


def summary(samples_ms: list[float]) -> dict:
    if len(samples_ms) > 1:
        return percentiles(samples_ms)
    value = samples_ms[0] if samples_ms else 0.0
    return {"count": len(samples_ms), "p50_ms": value, "p95_ms": value, "p99_ms": value}
