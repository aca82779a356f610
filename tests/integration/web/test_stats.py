"""/api/v1/stats, /api/v1/files/{id}/stats, the card panel, the dashboard."""

from __future__ import annotations

from datetime import timedelta

from pastefile.services.accounts import ROLE_ADMIN
from pastefile.stats.counting import today
from tests.support.sessions import sign_in
from tests.support.stats import post_file, recorder, user_headers


def problem(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code


def test_owner_reads_their_file_stats_others_do_not(app, client, services):
    _, alice = user_headers(services, "alice")
    _, bob = user_headers(services, "bob")
    ident = post_file(client, alice)
    client.get(f"/p/{ident}", headers={"User-Agent": "x"})
    client.get(f"/d/{ident}", headers={"User-Agent": "y"})
    recorder(app).flush()
    body = client.get(f"/api/v1/files/{ident}/stats", headers=alice).json
    assert body["id"] == ident and body["to"] == today().isoformat()
    assert len(body["days"]) == 30
    assert body["days"][-1] == {
        "day": today().isoformat(),
        "views": 1,
        "hits": 0,
        "downloads": 1,
        "uv": 2,
    }
    assert body["totals"] == {"views": 1, "hits": 0, "downloads": 1, "uv": 2}
    problem(client.get(f"/api/v1/files/{ident}/stats", headers=bob), 403, "forbidden")
    problem(client.get(f"/api/v1/files/{ident}/stats"), 401, "unauthorized")
    problem(client.get("/api/v1/files/nosuchfile123/stats", headers=alice), 404, "not_found")


def test_date_ranges_are_validated_and_bounded(client, services, settings):
    _, alice = user_headers(services, "alice")
    ident = post_file(client, alice)
    url = f"/api/v1/files/{ident}/stats"
    day = today()
    span = {"from": str(day - timedelta(days=2)), "to": str(day)}
    ok = client.get(url, query_string=span, headers=alice)
    assert [d["day"] for d in ok.json["days"]] == [str(day - timedelta(days=n)) for n in (2, 1, 0)]
    for bad in (
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": str(day), "to": str(day - timedelta(days=1))},
        {"from": str(day - timedelta(days=settings.stats_max_range_days)), "to": str(day)},
    ):
        problem(client.get(url, query_string=bad, headers=alice), 400, "invalid_input")


def test_site_stats_are_for_administrators(app, client, services):
    _, admin = user_headers(services, "root", ROLE_ADMIN, ("read", "admin"))
    _, alice = user_headers(services, "alice")
    ident = post_file(client, alice, b"<b>bytes</b>", "<script>.txt")
    client.get(f"/i/{ident}")
    recorder(app).flush()
    problem(client.get("/api/v1/stats", headers=alice), 403, "insufficient_scope")
    body = client.get("/api/v1/stats", headers=admin).json
    assert body["totals"]["hits"] == 1
    assert body["uploads"][-1]["uploads"] == 1
    assert body["top_files"] == [{"id": ident, "filename": "<script>.txt", "requests": 1}]
    assert body["latest_uploads"] == [ident]
    assert body["storage_by_type"][0]["files"] == 1
    assert body["days"][-1]["active_users"] >= 1


def _log_in(client, services, user_id):  # type: ignore[no-untyped-def]
    sign_in(client, services, user_id)


def test_the_owner_sees_a_panel_on_the_card_and_visitors_do_not(app, client, services):
    alice, headers = user_headers(services, "alice")
    ident = post_file(client, headers)
    html = {"Accept": "text/html"}
    assert "stats-panel" not in client.get(f"/p/{ident}", headers=html).get_data(as_text=True)
    recorder(app).flush()
    _log_in(client, services, alice.id)
    page = client.get(f"/p/{ident}", headers=html).get_data(as_text=True)
    assert "stats-panel" in page and "<svg" in page


def test_the_dashboard_draws_every_chart_and_escapes_labels(app, client, services):
    root, _ = user_headers(services, "root", ROLE_ADMIN, ("read", "admin"))
    _, alice = user_headers(services, "alice")
    ident = post_file(client, alice, b"x", '<img src=x onerror="alert(1)">.txt')
    client.get(f"/i/{ident}")
    recorder(app).flush()
    assert client.get("/admin/stats").status_code == 401
    _log_in(client, services, root.id)
    page = client.get("/admin/stats", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert page.count("<svg") == 6
    assert "<img src=x" not in page and "&lt;img src=x" in page
    problem(
        client.get("/admin/stats", query_string={"from": "nope"}, headers={"Accept": "x/y"}),
        400,
        "invalid_input",
    )
