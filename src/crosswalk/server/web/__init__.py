"""The web dashboard: server-rendered pages at ``/``, beside the API at ``/trpc``.

Jinja2 templates, htmx 2 and its SSE extension (vendored in ``static/``, see
``static/VENDORED.md``), sign-in with the admin token, and a live stream driven by the
change stream. ``create_dashboard`` (``dashboard.py``) builds it; reference:
docs/dashboard.md.
"""
