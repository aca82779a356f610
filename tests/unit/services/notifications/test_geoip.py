"""GeoIP: an address becomes a two-letter country or nothing; a missing or unreadable
database means no country, never an error on a download."""

from __future__ import annotations

from pathlib import Path

from pastefile.services.notifications.events import subject_of
from pastefile.services.notifications.history import GeoIP


class FakeReader:
    """Answers like maxminddb's reader for a GeoLite2-Country database."""

    def get(self, address: str) -> dict[str, object] | None:
        if address == "81.2.69.142":
            return {"country": {"iso_code": "gb", "names": {"en": "United Kingdom"}}}
        if address == "2001:db8::1":
            return {"continent": {"code": "EU"}}  # no country in the record
        return None


def test_countries_come_from_the_database() -> None:
    geo = GeoIP(Path("unused.mmdb"))
    geo._reader = FakeReader()
    assert geo.country("81.2.69.142") == "GB"
    assert geo.country("2001:db8::1") == ""
    assert geo.country("8.8.8.8") == ""
    assert geo.country("not an address") == ""
    assert geo.country("-") == ""


def test_without_a_database_there_is_no_country(tmp_path: Path) -> None:
    assert GeoIP(None).country("81.2.69.142") == ""
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a maxmind database")
    geo = GeoIP(broken)
    assert geo.country("81.2.69.142") == ""
    assert geo.country("81.2.69.142") == ""  # tried once, then remembered as unusable


def test_events_name_their_subject() -> None:
    assert subject_of("file.downloaded", {"id": "abc"}) == ("file", "abc")
    assert subject_of("collection.downloaded", {"id": "c1"}) == ("collection", "c1")
    assert subject_of("request.received", {"id": "r1"}) == ("request", "r1")
    assert subject_of("file.downloaded", {}) is None
    assert subject_of("webhook.ping", {"id": "x"}) is None
