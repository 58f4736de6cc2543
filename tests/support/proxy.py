"""A test-only TCP reverse proxy with failover, standing in for the load balancer in
front of several crosswalk servers (``docs/deploy.md``).

Each new client connection goes to the first backend that accepts it, in the order
given; a backend that refuses (its server is down) is skipped. Bytes are piped both
ways until either side closes. It runs on its own thread and event loop and listens
on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.support.server import free_port


class FailoverProxy:
    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self.connections: dict[int, int] = {}  # backend port -> connections sent there
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="failover-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/trpc"

    def start(self) -> FailoverProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def stop(self) -> None:
        if self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await self._stopped.wait()
            server.close()

    async def _handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        upstream = None
        for port in self.backends:
            with contextlib.suppress(OSError):
                upstream = await asyncio.open_connection("127.0.0.1", port)
                self.connections[port] = self.connections.get(port, 0) + 1
                break
        if upstream is None:
            client_writer.close()
            return
        server_reader, server_writer = upstream
        await asyncio.gather(
            _pipe(client_reader, server_writer), _pipe(server_reader, client_writer)
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()
