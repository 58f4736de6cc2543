"""crosswalk's benchmark suite (``make bench``): speed and scale against a real server.

Modules, by role: ``loadgen`` (the HTTP/1.1 tRPC load generator), ``server`` (the
server subprocess), ``dataset`` (bulk-loaded databases), one module per benchmark
(``ceiling``, ``conversations``, ``wakeup``, ``cli``, ``dbfloor``, ``scale``) and
``report`` (tables, Markdown and JSON).
"""
