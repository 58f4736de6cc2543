"""Domain services: pure functions over the domain, with no database or web imports."""
