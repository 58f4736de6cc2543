"""Run the demo app under uvicorn (uvloop + httptools), loopback only.

uvicorn waits for open connections before running the lifespan shutdown, and an SSE
stream never ends by itself, so the endpoint is closed as the *first* step of shutdown:
every stream ends without a ``return`` event and clients reconnect to the next server.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from demo_app import app, endpoint


class ClosingServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await endpoint.close()
        await super().shutdown(sockets=sockets)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
    ClosingServer(config).run()


if __name__ == "__main__":
    main()
