"""Fixtures for the in-process tRPC wire tests: the demo endpoint and test clients."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from tests.integration.trpc.trpc_demo import Client, Ctx, Probe, build_router, make_context

from crosswalk.server.trpc import TrpcEndpoint


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def endpoint(probe: Probe) -> TrpcEndpoint[Ctx]:
    return TrpcEndpoint(
        build_router(probe), make_context(probe), max_body_bytes=1024, ping_interval_s=0.05
    )


@pytest.fixture
def app(endpoint: TrpcEndpoint[Ctx]) -> Starlette:
    return Starlette(routes=[Mount("/trpc", app=endpoint)])


@pytest.fixture
def client(app: Starlette) -> Client:
    return Client(app, {"authorization": "Bearer good"})


@pytest.fixture
def anon(app: Starlette) -> Client:
    return Client(app)
