"""What stops an apply or an export: a file that cannot be applied, or a refusal by the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class ApplyError(Exception):
    """A message for the person running the command, naming the file it is about."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.path = path


class ServerError(ApplyError):
    """The server answered a request with an error envelope."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        where = f" (field {field})" if field else ""
        super().__init__(f"the server answered {status} {code}: {message}{where}")
        self.status = status
        self.code = code
        self.field = field

    def about(self, path: Path | None) -> ApplyError:
        """The same refusal, naming the file whose object was refused."""
        return ApplyError(str(self), path)
