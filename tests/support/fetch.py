"""A fetcher whose policy allows only the tests' origin network, and a sink to fetch into."""

from __future__ import annotations

from pastefile.errors import TooLarge
from pastefile.services.fetch import Fetcher, FetchPolicy

ALLOWED = ("127.0.0.2/32",)


class Sink:
    def __init__(self, limit: int | None = None) -> None:
        self.data = bytearray()
        self.limit = limit

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        if self.limit is not None and len(self.data) > self.limit:
            raise TooLarge("over the limit")
        return len(chunk)


def fetcher(**policy: object) -> Fetcher:
    values: dict[str, object] = {"allowed_networks": ALLOWED, "read_timeout": 1.0}
    values.update(policy)
    return Fetcher(FetchPolicy(**values))  # type: ignore[arg-type]
