"""The job kinds: which handler runs each, on which queue, and what it touches."""

from __future__ import annotations

from dataclasses import dataclass

from pastefile.errors import InvalidInput
from pastefile.jobs import fetching, maintenance, media, notifying, reports, scrubbing
from pastefile.jobs.context import Handler
from pastefile.jobs.queues import LONG, SHORT


@dataclass(frozen=True)
class Kind:
    name: str
    queue: str
    handler: Handler
    # Work on an existing file: the file shows ``processing`` until it settles.
    file_work: bool = False


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("probe", SHORT, media.probe, file_work=True),
        Kind("thumbnail", SHORT, media.thumbnail, file_work=True),
        Kind("fetch_url", LONG, fetching.fetch_url),
        Kind("expire_sweep", LONG, maintenance.expire_sweep),
        Kind("gc", LONG, maintenance.gc),
        Kind("report", LONG, reports.report),
        Kind(scrubbing.KIND, LONG, scrubbing.scrub),
        Kind("webhook", SHORT, notifying.webhook),
        Kind("notify_mail", SHORT, notifying.notify_mail),
        Kind("download_digest", LONG, notifying.download_digest),
    )
}
FILE_KINDS = tuple(name for name, kind in KINDS.items() if kind.file_work)
# What a user may start through the API for a file of theirs.
USER_KINDS = ("probe", "thumbnail")


def kind_named(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(f"unknown job kind {name!r}; known: {', '.join(KINDS)}") from None
