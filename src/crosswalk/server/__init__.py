"""The crosswalk HTTP server: the tRPC wire layer and the procedures registered on it."""
