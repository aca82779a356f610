"""The one kind of failure a user sees: a one-line message and an exit code.

Every error the client can meet is turned into a ``Failure`` where it happens; ``cli.main``
prints it on stderr and exits with its code. No traceback ever reaches the user.
"""

from __future__ import annotations

# Exit codes, documented in docs/client.md.
GENERAL = 1
USAGE = 2
AUTH = 3
MISSING = 4
NETWORK = 5
CRYPTO = 6
LIMIT = 7
LOCAL_IO = 8


class Failure(Exception):
    def __init__(self, message: str, code: int = GENERAL) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def write_failure(path: object, exc: OSError) -> Failure:
    """A local file that cannot be written (disk full, permissions, a read-only place)."""
    reason = exc.strerror or str(exc)
    return Failure(f"cannot write {path}: {reason}", LOCAL_IO)


def read_failure(path: object, exc: OSError) -> Failure:
    reason = exc.strerror or str(exc)
    return Failure(f"cannot read {path}: {reason}", LOCAL_IO)
