"""The headers every dashboard response carries, whatever made it (a page, a static
file, a redirect, a refusal, the live stream, an error).

- ``Content-Security-Policy``: scripts, styles, the live stream and form posts come
  from this server only, and nothing inline runs: no ``<script>`` or ``<style>`` body,
  no ``style=`` or ``on...=`` attribute (the templates have none; htmx is told not to
  add its indicator ``<style>`` and never to evaluate code, by ``htmx-config`` in
  ``base.html``). Text an agent wrote that slipped past escaping could not run.
- ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: no other site can frame a
  page to trick a click on Approve or Stop.
- ``Referrer-Policy: no-referrer``: no URL leaves with a link followed elsewhere. Pages
  with forms narrow it back to ``same-origin`` with a ``<meta name="referrer">``: under
  ``no-referrer`` a browser sends ``Origin: null`` with a form post, and the post check
  (``auth.same_origin``) needs the real origin.
- ``X-Content-Type-Options: nosniff``: a response is only ever what its type says.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
)
HEADERS: Final[list[tuple[bytes, bytes]]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


class SecurityHeaders:
    """ASGI middleware adding ``HEADERS`` to every HTTP response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *HEADERS]}
            await send(message)

        await self._app(scope, receive, send_with_headers)
