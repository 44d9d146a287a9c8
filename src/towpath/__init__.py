"""towpath: a self-hosted workflow orchestration server."""

__version__ = "0.1.0"
