"""crosswalk: the coordination server and `cw` CLI for parallel coding agents.

This module stays import-light: the `cw` client path imports it, and the client
must start without loading any server dependency.
"""

__version__ = "0.1.0"
