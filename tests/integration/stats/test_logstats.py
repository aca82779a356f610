"""Access-log analysis of the log the app itself writes."""

from __future__ import annotations

import logging

from pastefile.logging_setup import FORMAT, RequestIdFilter
from pastefile.stats.logstats import analyse, table
from tests.support.uploads import upload


def test_our_own_access_log_as_the_app_writes_it(tmp_path, client):
    path = tmp_path / "access.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    access = logging.getLogger("pastefile.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        ident = upload(client, b"logged").json["url_p"].rsplit("/", 1)[-1]
        client.get(f"/i/{ident}.txt", headers={"User-Agent": "Mozilla/5.0 (X11; Linux) A"})
        client.get(f"/i/{ident}", headers={"User-Agent": "curl/8"})
        client.get(f"/d/{ident}", headers={"User-Agent": "curl/8"}, query_string={"token": "x"})
        client.get("/i/nosuchfile99", headers={"User-Agent": "curl/8"})
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
        handler.close()
    with path.open("ab") as log:
        log.write(b"2026-11-21 garbage that looks almost right\n")
    result = analyse([str(path)], processes=1)
    assert result.malformed == 1
    files = {r[0]: r[1:] for r in table(result, "file", 10)}
    assert files[ident] == (3, 2)
