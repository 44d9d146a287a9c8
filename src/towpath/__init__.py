"""towpath: a self-hosted workflow orchestration server."""

import sys
import types

__version__ = "0.1.0"

# httpx imports its own command-line tool, and with it rich, pygments and click, whenever
# they are installed (rich is: our command line uses it), at a cost of about 6 MB in every
# process. No towpath process runs httpx's command line; its `httpx` script, a process of
# its own, is not affected.
if "httpx" not in sys.modules:
    _unused_cli = types.ModuleType("httpx._main")
    _unused_cli.main = lambda: None  # type: ignore[attr-defined]
    sys.modules.setdefault("httpx._main", _unused_cli)
