"""Definitions kept as files: `towpath apply` and `towpath export`, a client of the HTTP API."""
