"""The web UI's server side without a browser: card kinds, sanitizing, bounds, i18n,
the result row, the action bar, My files, Admin, ShareX (the browser tests: test_ui_browser.py)."""

from __future__ import annotations

import io
import json
import re
import tarfile
import zipfile

import pytest

from pastefile.services.accounts import ROLE_ADMIN
from pastefile.web.ui import cards
from tests.support.images import image_bytes
from tests.support.uploads import upload

BROWSER = {"Accept": "text/html"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the pages are the same on every database; the API tests cover those


def _card(client, data: bytes, name: str, **fields) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    body = upload(client, data, name, **fields).get_json()
    html = client.get(f"/p/{body['id']}", headers=BROWSER).get_data(as_text=True)
    return body, html


def _log_in(client, services, name: str = "alice", roles: int | None = None) -> str:  # type: ignore[no-untyped-def]
    extra = {"roles": roles} if roles is not None else {}
    services.accounts.create_user(name, f"{name}-password-1", **extra)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post(
        "/login", data={"username": name, "password": f"{name}-password-1", "csrf_token": csrf}
    )
    page = client.get("/").get_data(as_text=True)  # a login starts a new session and token
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_markdown_is_rendered_without_scripts_or_handlers(client):
    md = b"# Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n"
    md += b"<img src=x onerror=alert(1)>\n"
    _, html = _card(client, md, "notes.md")
    rendered = html.split('<div class="markdown">', 1)[1].split("</div>", 1)[0]
    assert "<h1>Hi</h1>" in rendered
    assert "<script" not in rendered and "<img" not in rendered  # shown as text only
    assert 'href="javascript' not in rendered


def test_code_is_highlighted_with_line_numbers_and_escaped(client):
    _, html = _card(client, b"x = '<b>'\nprint(x)\n", "x.py")
    assert 'class="linenos"' in html
    assert "&lt;b&gt;" in html and "<b>" not in html.split('class="code-wrap"', 1)[1]


def test_archives_list_entries_and_stop_at_the_bound(client, monkeypatch):
    monkeypatch.setattr(cards, "ARCHIVE_ENTRIES", 3)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(5):
            archive.writestr(f"f{n}.txt", "x" * n)
    _, html = _card(client, buffer.getvalue(), "five.zip")
    assert html.count("<tr><td>f") == 3
    assert "Only the first entries are listed." in html


def test_tar_gz_entries(client):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("dir/inside.txt")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"abcd"))
    _, html = _card(client, buffer.getvalue(), "bundle.tar.gz")
    assert "dir/inside.txt" in html


def test_a_broken_archive_is_just_metadata(client):
    _, html = _card(client, b"PK\x03\x04 not really a zip", "broken.zip")
    assert 'class="card kind-archive' in html and "<tr><td>" not in html


def test_large_text_is_cut_with_a_raw_link(client, monkeypatch):
    monkeypatch.setattr(cards, "TEXT_LIMIT", 100)
    _, html = _card(client, b"line\n" * 100, "long.txt")
    assert "Only the beginning of the file is shown." in html


def test_card_has_qr_opengraph_relative_time_and_copy_buttons(client):
    body, html = _card(client, image_bytes(), "cat.png")
    assert re.search(r"<svg[^>]*>.*</svg>", html, re.S)
    assert f'<meta property="og:url" content="{body["url_p"]}">' in html
    assert f'<meta property="og:image" content="{body["url_i"]}">' in html
    assert 'name="twitter:card" content="summary_large_image"' in html
    assert re.search(r"\(\d+ seconds? ago\)", html)
    # Copy link in the action bar, the raw and download links, and one per embed snippet.
    assert html.count('class="copy"') == 7


def test_card_has_one_h1_unique_ids_and_wide_srcset(client):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (1600, 1000), (0, 0, 0, 0)).save(out, "PNG")
    _, html = _card(client, out.getvalue(), "clear.png")
    assert html.count("<h1") == 1
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), ids
    srcset = re.search(r'srcset="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    widths = [int(w) for w in re.findall(r" (\d+)w(?:,|$)", srcset)]
    assert widths == [480, 960, 1600], srcset  # real widths, ending with the original's
    assert "1x" not in srcset and 'sizes="' in html
    assert '<details class="embed">' in html  # the embed section starts collapsed


def test_the_card_names_the_language_and_links_the_right_extension(client):
    body, html = _card(client, b"# Notes\n\n<script>x()</script>\n", "notes.md")
    assert f'href="{body["url_i"]}"' in html and body["url_i"].endswith(".md")
    assert '<dd class="language">Markdown</dd>' in html and '<div class="markdown">' in html
    body, html = _card(client, b"print('dark')\n" * 3, "dark.py")
    assert body["url_i"].endswith(".py") and "<dd>text/x-python</dd>" in html
    assert '<dd class="language">Python</dd>' in html
    _, html = _card(client, b"just words\n", "words.txt")
    assert 'class="language"' not in html


def test_the_action_bar_and_owner_controls(client, services):
    anonymous, html = _card(client, b"anon\n", "anon.txt")
    actions = html[
        html.index('class="actions"') : html.index("</div>", html.index('class="actions"'))
    ]
    assert (
        "Copy link" in actions and anonymous["url_d"] in actions and anonymous["url_i"] in actions
    )
    assert "data-anonymous hidden" in actions  # shown only where the delete link's token is
    # Edit too is only for the token's holder: hidden until card.js finds the token.
    assert re.findall(r'data-action="edit"[^>]*>', html) == [
        'data-action="edit" data-anonymous hidden aria-expanded="false" '
        f'aria-controls="edit-{anonymous["id"]}">'
    ]
    assert 'name="csrf-token"' not in html
    csrf = _log_in(client, services)
    mine = upload(client, b"mine\n", "mine.txt", visibility="private", csrf_token=csrf)
    assert mine.status_code == 201, mine.get_data(as_text=True)
    page = client.get(f"/p/{mine.get_json()['id']}", headers=BROWSER).get_data(as_text=True)
    assert 'data-action="edit"' in page and 'data-action="delete"' in page
    assert '<span class="vis vis-private">Private</span>' in page
    assert 'name="csrf-token"' in page
    # Someone else's card offers neither (but for the anonymous file's token holder).
    other = client.get(f"/p/{anonymous['id']}", headers=BROWSER).get_data(as_text=True)
    buttons = re.findall(r'<button[^>]*data-action="(?:edit|delete)"[^>]*>', other)
    assert len(buttons) == 2 and all("data-anonymous hidden" in b for b in buttons)


def test_result_row_is_compact_with_the_short_link(client):
    body = upload(client, b"hello\n", "hello.txt").get_json()
    row = client.get(f"/p/{body['id']}/row").get_data(as_text=True)
    assert row.lstrip().startswith("<li") and "<html" not in row
    assert f'data-short="{body["url_s"]}"' in row and f'href="{body["url_p"]}"' in row
    assert "hello.txt" in row and 'class="copy"' in row


def test_result_row_of_a_protected_file_needs_the_password(client):
    body = upload(client, b"s\n", "s.txt", password="pw-123456").get_json()
    assert client.get(f"/p/{body['id']}/row").status_code == 403
    shown = client.get(f"/p/{body['id']}/row", headers={"X-File-Password": "pw-123456"})
    assert shown.status_code == 200


def test_gone_page_is_a_410_in_html(client):
    body = upload(client, b"once\n", "once.txt", max_downloads=1).get_json()
    assert client.get(f"/i/{body['id']}").status_code == 200
    page = client.get(f"/p/{body['id']}", headers=BROWSER)
    assert page.status_code == 410
    assert "This file is gone" in page.get_data(as_text=True)


def test_chinese_by_accept_language_and_cookie(client):
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "分享文件" in zh.get_data(as_text=True) and 'lang="zh-CN"' in zh.get_data(as_text=True)
    login = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "<h1>登录</h1>" in login and "用户名" in login
    client.get("/lang/en?next=/")
    en = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert "Share a file" in en.get_data(as_text=True)


def test_my_files_needs_a_session_and_lists_only_mine(client, services):
    assert client.get("/me/files", headers=BROWSER).status_code == 401
    upload(client, b"anon\n", "anonymous.txt")
    csrf = _log_in(client, services)
    client.post("/", data={"file": (io.BytesIO(b"m\n"), "mine.txt"), "csrf_token": csrf})
    page = client.get("/me/files?view=list&q=mine").get_data(as_text=True)
    assert "mine.txt" in page and "anonymous.txt" not in page


def test_pages_describe_themselves_and_load_the_first_screen_of_thumbnails_at_once(
    client, services
):
    home = client.get("/", headers=BROWSER).get_data(as_text=True)
    assert re.search(r'<meta name="description" content="[^"]+">', home)
    _, card = _card(client, b"x = 1\n", "x.py")
    assert re.search(r'<meta name="description" content="x\.py · [^"]+">', card)
    csrf = _log_in(client, services)
    for n in range(8):
        picture = (io.BytesIO(image_bytes(size=(64 + n, 48))), f"p{n}.png")
        client.post("/", data={"file": picture, "csrf_token": csrf})
    page = client.get("/me/files", headers=BROWSER).get_data(as_text=True)
    thumbs = re.findall(r'<img class="thumb"[^>]*>', page)
    assert len(thumbs) == 8
    assert ['loading="lazy"' in tag for tag in thumbs] == [False] * 6 + [True] * 2


def test_my_files_bulk_delete_and_edit_need_csrf(client, services):
    csrf = _log_in(client, services)
    sent = client.post(
        "/", data={"file": (io.BytesIO(b"m\n"), "mine.txt"), "csrf_token": csrf},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    ident = sent.get_json()["id"]
    assert client.post("/me/files/delete", data={"ids": ident}).status_code == 400
    edited = client.post(
        f"/me/files/{ident}/edit",
        data={"csrf_token": csrf, "visibility": "unlisted", "expires_in": "3600"},
    )
    assert edited.status_code == 303
    listed = client.get("/me/files?view=list").get_data(as_text=True)
    assert "Saved mine.txt." in listed  # the success message, once
    assert re.search(r"<td>Unlisted</td>", listed)
    assert "Saved mine.txt." not in client.get("/me/files").get_data(as_text=True)
    assert (
        client.post("/me/files/delete", data={"ids": ident, "csrf_token": csrf}).status_code == 303
    )
    after = client.get("/me/files").get_data(as_text=True)
    assert "mine.txt" not in after.replace("Deleted 1 file.", "") and "Deleted 1 file." in after


def test_my_files_table_sorts_by_every_column_and_edits_in_a_drawer(client, services):
    csrf = _log_in(client, services)
    for name, data in (("b.txt", b"bb\n"), ("a.txt", b"aaaa\n"), ("c.txt", b"c\n")):
        client.post("/", data={"file": (io.BytesIO(data), name), "csrf_token": csrf})
    order = lambda html: re.findall(r'class="fname"><a href="[^"]+">(\w\.txt)', html)  # noqa: E731
    page = client.get("/me/files?view=list&sort=name&dir=asc").get_data(as_text=True)
    assert order(page) == ["a.txt", "b.txt", "c.txt"]
    assert 'aria-sort="ascending"' in page
    page = client.get("/me/files?view=list&sort=size&dir=desc").get_data(as_text=True)
    assert order(page) == ["a.txt", "b.txt", "c.txt"]
    for column in ("type", "visibility", "expiry", "downloads", "created"):
        assert client.get(f"/me/files?view=list&sort={column}&dir=asc").status_code == 200
    headers = re.findall(r'<th scope="col"[^>]*>\s*<a href="[^"]+">(\w+)', page)
    assert headers == ["Name", "Type", "Size", "Visibility", "Expires", "Downloads", "Created"]
    ident = re.search(r'data-id="(\w+)"', page).group(1)
    drawer = client.get(f"/me/files?view=list&edit={ident}").get_data(as_text=True)
    assert 'id="drawer"' in drawer and f'action="/me/files/{ident}/edit?' in drawer
    client.post(
        f"/me/files/{ident}/edit?view=list",
        data={"csrf_token": csrf, "filename": "renamed.txt", "expires_in": "keep"},
    )
    assert "renamed.txt" in client.get("/me/files?view=list").get_data(as_text=True)


def test_bulk_delete_skips_what_is_not_mine_and_says_how_many(client, services):
    other = upload(client, b"not mine\n", "theirs.txt").get_json()["id"]
    csrf = _log_in(client, services)
    mine = [
        client.post(
            "/", data={"file": (io.BytesIO(f"{n}\n".encode()), f"{n}.txt"), "csrf_token": csrf},
            headers={"Accept": "application/json"},
        ).get_json()["id"]
        for n in range(3)
    ]  # fmt: skip
    sent = client.post("/me/files/delete", data={"ids": [*mine, other], "csrf_token": csrf})
    assert sent.status_code == 303
    assert "Deleted 3 files." in client.get("/me/files").get_data(as_text=True)
    assert client.get(f"/p/{other}", headers=BROWSER).status_code == 200


def test_admin_is_for_administrators(client, services):
    csrf = _log_in(client, services)
    assert client.get("/admin", headers=BROWSER).status_code == 403
    assert (
        client.post("/admin/users/1", data={"csrf_token": csrf, "action": "promote"}).status_code
        == 403
    )


def test_admin_promotes_and_sees_storage(client, services):
    other = services.accounts.create_user("bob", "bob-password-1")
    csrf = _log_in(client, services, "root", roles=ROLE_ADMIN)
    upload(client, b"some bytes\n", "a.txt")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "bob" in page and "a.txt" in client.get("/admin/files").get_data(as_text=True)
    assert f'action="/admin/users/{other.id}"' in page
    assert 'action="/admin/users/2"' not in page  # no disable/demote buttons for oneself
    done = client.post(f"/admin/users/{other.id}", data={"csrf_token": csrf, "action": "promote"})
    assert done.status_code == 303
    assert services.accounts.get_user(other.id).roles == ROLE_ADMIN


def test_sharex_config_carries_a_new_upload_token(client, services):
    csrf = _log_in(client, services)
    assert client.post("/help/sharex.sxcu").status_code == 400  # no CSRF token
    response = client.post("/help/sharex.sxcu", data={"csrf_token": csrf})
    assert "attachment" in response.headers["Content-Disposition"]
    config = json.loads(response.data)
    token = config["Headers"]["Authorization"].removeprefix("Bearer ")
    who = services.accounts.principal_for_token(token)
    assert who.scopes == frozenset({"upload"})
    assert config["FileFormName"] == "file" and config["URL"] == "{json:links.raw}"


def test_other_files_get_an_icon_with_their_extension(client):
    _, html = _card(client, b"\x00\x01\x02\x03" * 64, "blob.dat")
    assert 'class="card kind-other' in html
    assert '<span class="badge" aria-hidden="true">DAT</span>' in html


def test_admin_deletes_anyones_file(client, services):
    body = upload(client, b"reported\n", "reported.txt", password="pw-123456").get_json()
    csrf = _log_in(client, services, "root", roles=ROLE_ADMIN)
    assert "reported.txt" in client.get("/admin/files?q=reported").get_data(as_text=True)
    done = client.post(f"/admin/files/{body['id']}/delete", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert client.get(f"/p/{body['id']}", headers=BROWSER).status_code == 410


def test_admin_sub_navigation_links_every_section(client, services):
    _log_in(client, services, "root", roles=ROLE_ADMIN)
    for path in ("/admin", "/admin/users", "/admin/files", "/admin/moderation", "/admin/stats",
                 "/admin/reports", "/jobs"):  # fmt: skip
        page = client.get(path).get_data(as_text=True)
        nav = re.search(r'<nav class="subnav".*?</nav>', page, re.S)
        assert nav, path
        links = re.findall(r'href="([^"]+)"', nav.group(0))
        assert links == ["/admin/users", "/admin/files", "/admin", "/jobs", "/admin/stats",
                         "/admin/reports", "/admin/moderation"], path  # fmt: skip
        assert nav.group(0).count('aria-current="page"') == 1, path
    jobs = client.get("/jobs").get_data(as_text=True)
    assert 'name="token"' not in jobs  # a signed-in admin is not asked for an API token
    assert 'name="token"' in client.__class__(client.application).get("/jobs").get_data(
        as_text=True
    )


def test_admin_files_are_paged_and_filtered_with_owner_visibility_and_expiry(client, services):
    csrf = _log_in(client, services, "root", roles=ROLE_ADMIN)
    for n in range(30):
        upload(client, f"anon {n}\n".encode(), f"anon-{n:02}.txt")
    client.post(
        "/", data={"file": (io.BytesIO(b"root's\n"), "roots.txt"), "csrf_token": csrf,
                   "visibility": "private", "expires_in": "3600"},
    )  # fmt: skip
    first = client.get("/admin/files").get_data(as_text=True)
    assert first.count('<tr data-id="') == 25 and "Page 1 of 2" in first
    assert 'href="/admin/files?page=2"' in first
    second = client.get("/admin/files?page=2").get_data(as_text=True)
    assert second.count('<tr data-id="') == 6
    mine = client.get("/admin/files?owner=root").get_data(as_text=True)
    assert mine.count('<tr data-id="') == 1 and "<td>root</td><td>Private</td>" in mine
    assert "roots.txt" in client.get("/admin/files?visibility=private").get_data(as_text=True)
    expiring = client.get("/admin/files?expiring=yes").get_data(as_text=True)
    assert expiring.count('<tr data-id="') == 1
    anonymous = client.get("/admin/files?owner=-&q=anon-0").get_data(as_text=True)
    assert anonymous.count('<tr data-id="') == 10 and "<td>anonymous</td>" in anonymous
    kept = re.search(r'href="(/admin/files\?[^"]*page=2[^"]*)"',
                     client.get("/admin/files?owner=-").get_data(as_text=True))  # fmt: skip
    assert kept and "owner=-" in kept.group(1)  # paging keeps the filter


def test_admin_users_show_usage_against_quota(client, services, settings):
    settings.user_quota_bytes = 1000
    csrf = _log_in(client, services, "root", roles=ROLE_ADMIN)
    client.post("/", data={"file": (io.BytesIO(b"x" * 250), "q.bin"), "csrf_token": csrf})
    page = client.get("/admin/users").get_data(as_text=True)
    row = re.search(r'<tr data-user="root">.*?</tr>', page, re.S).group(0)
    assert 'max="1000" value="250"' in row and "250 bytes / 1000 bytes" in row


def test_admin_actions_confirm_and_report_success(client, services):
    bob = services.accounts.create_user("bob", "bob-password-1")
    csrf = _log_in(client, services, "root", roles=ROLE_ADMIN)
    page = client.get("/admin/users").get_data(as_text=True)
    disable = re.search(r'<button class="danger" name="action" value="disable"[^>]*>', page)
    assert disable and "data-confirm=" in disable.group(0)
    client.post(f"/admin/users/{bob.id}", data={"csrf_token": csrf, "action": "disable"})
    assert "Disabled bob; their sessions ended." in client.get("/admin/users").get_data(
        as_text=True
    )


def test_moderation_removes_and_lists_blocked_content(client, services):
    body = upload(client, b"abusive bytes\n", "abuse.txt").get_json()
    csrf = _log_in(client, services, "root", roles=ROLE_ADMIN)
    done = client.post(
        "/admin/moderation/remove",
        data={"csrf_token": csrf, "ident": f"http://localhost/p/{body['id']}", "reason": "spam"},
    )
    assert done.status_code == 303
    page = client.get("/admin/moderation").get_data(as_text=True)
    assert "Removed 1 file(s)" in page and "<td>spam</td>" in page
    assert client.get(f"/p/{body['id']}", headers=BROWSER).status_code == 451
    assert client.post("/admin/moderation/remove", data={"ident": body["id"]}).status_code == 400


def test_a_browser_opening_a_protected_raw_link_gets_the_password_form(client):
    body = upload(client, b"raw secret\n", "raw.txt", password="pw-123456").get_json()
    for path, then in ((f"/i/{body['id']}", "raw"), (f"/d/{body['id']}", "download")):
        page = client.get(path, headers=BROWSER)
        assert page.status_code == 403 and "protected by a password" in page.get_data(as_text=True)
        assert f'name="then" value="{then}"' in page.get_data(as_text=True)
    assert client.get(f"/i/{body['id']}").get_json()["code"] == "password_required"  # curl
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = client.post(
        f"/p/{body['id']}/unlock",
        data={"csrf_token": csrf, "password": "pw-123456", "then": "raw"},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/i/{body['id']}")
    assert client.get(f"/i/{body['id']}").data == b"raw secret\n"
    elsewhere = client.post(
        f"/p/{body['id']}/unlock",
        data={"csrf_token": csrf, "password": "pw-123456", "then": "https://evil.example/"},
    )
    assert elsewhere.headers["Location"].endswith(f"/p/{body['id']}")  # never a URL


def test_every_page_links_a_favicon_and_a_manifest_and_code_css_only_with_code(client):
    page = client.get("/", headers=BROWSER).get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert client.get(icon).status_code == 200
    manifest = client.get(re.search(r'<link rel="manifest" href="([^"]+)"', page).group(1))
    assert manifest.status_code == 200 and json.loads(manifest.data)["start_url"] == "/"
    _, image = _card(client, image_bytes("PNG", (64, 48)), "pic.png")
    _, code = _card(client, b"print(1)\n", "code.py")
    assert "/ui/code.css" not in image and "/ui/code.css" in code


def test_spanish_by_accept_language_and_the_switcher(client):
    page = client.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"}).get_data(as_text=True)
    assert '<html lang="es">' in page and "<h1>Comparte un archivo</h1>" in page
    assert 'lang="es"' in page and "Español" in page
    client.get("/lang/es?next=/")
    assert "Elegir archivos" in client.get("/").get_data(as_text=True)


def test_time_left_keeps_each_languages_word_order(client):
    zh = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'data-left="剩余 {t}"' in zh  # not "2 s 剩余"
    en = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-left="{t} left"' in en
