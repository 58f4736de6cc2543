"""The tRPC procedures, one module per router, merged by ``crosswalk.server.app``."""
