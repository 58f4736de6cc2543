"""The domain: what every layer shares, importing nothing but the standard library.

- ``enums``: the enumerations stored in the database and sent on the wire;
- ``rows``: typed rows (one frozen dataclass per table, ``New*`` inserts, ``*Update``
  partial updates), ``Paged``, ``Removal``;
- ``errors``: the one error tree;
- ``dependency_graph``, ``slug``, ``names``, ``timestamps``: pure helpers.

``db``, ``services`` and ``server`` import from here, never the reverse
(``tests/unit/test_layers.py`` keeps it so). This ``__init__`` imports nothing, so a
module of the domain costs only itself.
"""
