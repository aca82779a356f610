"""The access log never records credentials passed in a query string."""

from __future__ import annotations

import logging


def test_tokens_in_the_query_string_are_redacted(client, caplog):
    with caplog.at_level(logging.INFO, logger="pastefile.access"):
        client.get("/p/nosuchfile?access_token=pf_supersecretvalue&w=10&password=hunter2")
    lines = [r.getMessage() for r in caplog.records if r.name == "pastefile.access"]
    assert lines, "the request was not logged"
    logged = lines[-1]
    assert "pf_supersecretvalue" not in logged
    assert "hunter2" not in logged
    assert "access_token=%5Bredacted%5D" in logged
    assert "w=10" in logged
