"""`python -m towpath` runs the command line."""

from towpath.cli import app

app()
