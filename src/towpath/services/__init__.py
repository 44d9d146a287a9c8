"""Use cases: one function each, owning its transaction; routes call exactly one."""
