"""Services: the rules of each aggregate, run inside a unit of work.

Services import the domain and the database ports (``crosswalk.db``), never the
server; the server's procedures call them. ``docs/architecture.md`` draws the layers.
"""
