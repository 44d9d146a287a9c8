"""Chaos, abuse and load runs against real towpath processes: `python -m chaos --short`."""
