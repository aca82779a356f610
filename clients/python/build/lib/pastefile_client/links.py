"""Share links and their fragment.

An encrypted file's link is ``<server>/p/<id>#k=<secret>&n=<name>&t=<type>``, form-encoded
keys in the fragment, which browsers never send to the server:

- ``k``: the age identity, ``AGE-SECRET-KEY-1…``;
- ``p=1`` instead of ``k``: the file was encrypted with a passphrase (age's scrypt mode);
- ``n`` and ``t``: the file name and MIME type, base64url of UTF-8 without padding.

The browser bundle reads and writes the same layout (docs/encryption.md).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from pastefile_client.errors import USAGE, Failure

_FILE_PATH = re.compile(
    r"^(?P<prefix>.*?)/(?:p|i|d|api/v1/files)/(?P<id>[A-Za-z0-9]+)(?:\.[^/]*)?/?$"
)
_SHORT_PATH = re.compile(r"^(?P<prefix>.*?)/s/(?P<code>[A-Za-z0-9]+)/?$")
_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


@dataclass
class Secret:
    key: str | None = None
    passphrase: bool = False
    name: str | None = None
    mimetype: str | None = None

    @property
    def encrypted(self) -> bool:
        return bool(self.key) or self.passphrase


@dataclass
class Target:
    server: str | None
    file_id: str | None
    short_code: str | None
    secret: Secret


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def unb64(text: str) -> str:
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        return raw.decode("utf-8")
    except (ValueError, UnicodeError):
        raise Failure(
            "bad link: the name or type in the fragment is not base64url", USAGE
        ) from None


def fragment(secret: Secret) -> str:
    fields: list[tuple[str, str]] = []
    if secret.key:
        fields.append(("k", secret.key))
    if secret.passphrase:
        fields.append(("p", "1"))
    if secret.name:
        fields.append(("n", b64(secret.name)))
    if secret.mimetype:
        fields.append(("t", b64(secret.mimetype)))
    return urlencode(fields, safe="-")


def parse_fragment(text: str) -> Secret:
    if text.upper().startswith("AGE-SECRET-KEY-1") and "=" not in text:
        return Secret(key=text.upper())  # a bare identity opens the file too, without its name
    values = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    key = values.get("k") or None
    if key is not None and not key.upper().startswith("AGE-SECRET-KEY-1"):
        raise Failure("bad link: the key in the fragment is not an age identity", USAGE)
    return Secret(
        key=key.upper() if key else None,
        passphrase=values.get("p") == "1",
        name=unb64(values["n"]) if values.get("n") else None,
        mimetype=unb64(values["t"]) if values.get("t") else None,
    )


def parse_target(text: str) -> Target:
    """A link (``/p/``, ``/i/``, ``/d/``, ``/s/``, an API URL) or a bare file id."""
    text = text.strip()
    if _ID.match(text):
        return Target(None, text, None, Secret())
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise Failure(f"bad URL {text!r}: {exc}", USAGE) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Failure(f"bad URL {text!r}: give a pastefile link or a file id", USAGE)
    secret = parse_fragment(parts.fragment)
    base = f"{parts.scheme}://{parts.netloc}"
    found = _FILE_PATH.match(parts.path)
    if found:
        return Target(base + found.group("prefix"), found.group("id"), None, secret)
    short = _SHORT_PATH.match(parts.path)
    if short:
        return Target(base + short.group("prefix"), None, short.group("code"), secret)
    raise Failure(
        f"bad URL {text!r}: not a pastefile file link (/p/<id>, /i/<id>, /s/<code>)", USAGE
    )
