"""Workspace secrets as the rest of towpath sees them: the names a secret may take, its
size limit, and redaction, which replaces a value (and its base64 and URL-encoded forms)
wherever it would be stored or shown."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from collections.abc import Mapping

# A secret's name is what a template writes after `secrets.`: an identifier.
SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
MAX_SECRET_BYTES = 64 * 1024
# The workspace's default key for the `llm` step, when a step names none.
LLM_API_KEY_SECRET = "LLM_API_KEY"  # noqa: S105 - a name, not a value
# A config field marked so may read `{{ secrets.NAME }}`; the catalog shows the mark.
SECRET_CAPABLE = "secret_capable"  # noqa: S105 - a schema mark
# A config field marked so holds a secret's name (the `llm` step's `api_key_secret`).
SECRET_NAMING = "secret_name"  # noqa: S105 - a schema mark
# Beside SECRET_NAMING: the secret read when the field is unset, if the workspace has it.
DEFAULT_SECRET = "default_secret"  # noqa: S105 - a schema mark


# A run of base64 (either alphabet) long enough to hold a secret with something around it,
# as `Basic <base64 of user:password>` does: its decoded bytes are searched too.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


# Values shorter than this are not replaced (see Redactor).
SHORTEST = 4


def placeholder(name: str) -> str:
    """What a secret's value reads as wherever it would have been stored or shown."""
    return f"[secret:{name}]"


def _forms(value: str) -> set[str]:
    raw = value.encode()
    encoded = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    unpadded = {form.rstrip("=") for form in encoded}
    return {value, quote(value, safe=""), quote(value), quote_plus(value), *encoded, *unpadded}


class Redactor:
    """Replaces every form of each secret's value; built once per step execution."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        # A value of a few characters is no secret to keep, and replacing it wherever
        # those characters stand would break what a step records (`text` -> `te[…]t`).
        secrets = {name: value for name, value in secrets.items() if len(value) >= SHORTEST}
        found: dict[str, str] = {}
        for name, value in secrets.items():
            for form in _forms(value):
                found.setdefault(form, placeholder(name))
        # Longest first, so a value containing another is replaced whole.
        self._forms = sorted(found.items(), key=lambda item: -len(item[0]))
        self._pattern = (
            re.compile("|".join(re.escape(form) for form, _ in self._forms)) if found else None
        )
        self._names = dict(self._forms)
        # Raw values, longest first: looked for inside decoded base64 runs.
        self._raw = sorted(
            ((value.encode(), placeholder(name)) for name, value in secrets.items() if value),
            key=lambda item: -len(item[0]),
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, text: str) -> str:
        if self._pattern is None:
            return text
        text = self._pattern.sub(lambda match: self._names[match.group(0)], text)
        return _BASE64_RUN.sub(self._encoded_run, text)

    def quoted_text(self, text: str) -> str:
        """`text` redacted, and a cut-off start of a value at its very end too: an error or
        a log line quotes at most so much of what a server answered, and the cut may fall
        inside a value it repeated."""
        text = self.text(text)
        for form, name in self._forms:
            cut = _cut_prefix(text, form)
            if cut:
                return text[:-cut] + name
        return text

    def _encoded_run(self, match: re.Match[str]) -> str:
        """A base64 run whose decoded bytes hold a secret (a value with a prefix, so that
        its own encoding is not a substring) is replaced whole."""
        run = match.group(0)
        for decoded in _decodings(run):
            for raw, name in self._raw:
                if raw in decoded:
                    return name
        return run

    def value(self, value: Any) -> Any:
        """`value` with every string in it (keys too) redacted; other values as they are."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


# A value's first characters left at a text's end: fewer tell next to nothing.
_SHORTEST_CUT = 4


def _cut_prefix(text: str, form: str) -> int:
    """The length of the longest end of `text` that starts `form` without being all of it
    (0 if none is `_SHORTEST_CUT` long)."""
    tail = text[-(len(form) - 1) :] if len(form) > 1 else ""
    start = tail.find(form[0]) if tail else -1
    while start != -1 and len(tail) - start >= _SHORTEST_CUT:
        if form.startswith(tail[start:]):
            return len(tail) - start
        start = tail.find(form[0], start + 1)
    return 0


def _decodings(run: str) -> list[bytes]:
    padded = run.rstrip("=")
    padded += "=" * (-len(padded) % 4)
    found = []
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            found.append(decode(padded))
        except ValueError:
            continue
    return found


def redact(value: Any, secrets: Mapping[str, str]) -> Any:
    """`value` with each secret's value, and its base64 and URL-encoded forms, replaced by
    `[secret:NAME]`."""
    return Redactor(secrets).value(value)
