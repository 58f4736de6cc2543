"""The server loads the MCP SDK at the first ``/mcp`` request, not at start: its import
costs about as much CPU as the rest of the server's, and most servers never serve MCP."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import crosswalk.server.main
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("mcp", "mcp_types"))))
"""


def test_starting_the_server_does_not_import_the_mcp_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []
