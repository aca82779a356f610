"""The web UI in a real browser: Playwright driving Debian's chromium against a live server.

One server (werkzeug, a thread, SQLite) and one browser for the module. Without
chromium these tests skip; with ``PASTEFILE_REQUIRE_SERVICES=1`` (CI) they fail.
Screenshots of the main pages go to docs/screenshots/ (the README shows them), with the
server's random port, the random ids and the clock replaced by fixed text first, the page
redrawn whole, and a file written only when it looks different (anti-aliasing aside), so a
run does not rewrite them for nothing.
"""

from __future__ import annotations

import io
import re
import threading
import wave
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.services.accounts import ROLE_ADMIN
from pastefile.web import create_app
from tests.support.accessibility import assert_accessible, install_axe
from tests.support.images import image_bytes
from tests.support.servers import free_port
from tests.support.settings import REQUIRE_SERVICES, make_settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev lock installs it
    sync_playwright = None


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; PASTEFILE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("ui")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        tmp, f"sqlite:///{tmp / 'ui.sqlite'}", base_url=base, max_upload_size=8 * 1024 * 1024,
        login_rate_limit="1000/minute",  # many sign-ins from one address in a few minutes
    )  # fmt: skip
    services: Services = build_services(settings)
    migrate.upgrade(services.db)
    app = create_app(services=services)
    app.jinja_env.globals["tus_threshold"] = 1024 * 1024  # exercise tus with small files
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    accounts = services.accounts
    accounts.create_user("alice", "alice-password-1")
    accounts.create_user("root", "root-password-1", roles=ROLE_ADMIN)
    accounts.create_user("mallory", "mallory-password-1")
    yield {"base": base, "services": services}
    server.shutdown()
    services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live: dict[str, Any]) -> Iterator[Page]:
    context = _new_context(browser, viewport=VIEWPORT, locale="en-US", base_url=live["base"])
    context.set_default_timeout(15_000)
    opened = context.new_page()
    # Every page works under the app's Content-Security-Policy: nothing it does is refused.
    refused: list[str] = []
    opened.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield opened
    context.close()
    assert not refused, refused


# Visible links name the server's random port and random ids, and times move: a screenshot
# shows a fixed host, ids of the same length from a fixed alphabet, and a fixed clock.
_STEADY = """(base) => {
  const pool = "Qm7xK2pZ9vTn4bLr8cWd6fYh3jGs5kNeA1", seen = new Map();
  const stable = (id) => {
    const n = seen.size * 5;
    if (!seen.has(id)) seen.set(id, (pool.slice(n) + pool).slice(0, id.length));
    return seen.get(id);
  };
  const fix = (text) => text.split(base).join("https://files.example")
    .replace(/(files\\.example\\/[pisdr]\\/)([A-Za-z0-9]+)/g, (m, p, id) => p + stable(id))
    .replace(/#manage=[\\w-]+/g, (m) => "#manage=pf_" + "x".repeat(m.length - 11))
    .replace(/\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d/g, "2026-01-01 12:00");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) walker.currentNode.nodeValue = fix(walker.currentNode.nodeValue);
  document.querySelectorAll("input").forEach((i) => { i.value = fix(i.value); });
  document.querySelectorAll("time").forEach((t) => { t.textContent = "2026-01-01 12:00 UTC"; });
  document.querySelectorAll(".ago").forEach((a) => { a.textContent = "(1 minute ago)"; });
  let day = 0;  // the stats chart's date ticks
  document.querySelectorAll("svg text").forEach((t) => {
    if (/^\\d\\d-\\d\\d$/.test(t.textContent)) t.textContent = "12-" + String(10 + 2 * day++);
  });
}"""


def _new_context(browser: Browser, **options: Any) -> Any:
    """A browser context whose pages carry axe-core (tests/support/accessibility.py)."""
    context = browser.new_context(**options)
    install_axe(context)
    return context


def _shot(page: Page, name: str) -> None:
    """Check the page with axe, then write its screenshot (when it looks different)."""
    assert_accessible(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = page.evaluate("location.origin")
    page.evaluate(_STEADY, base)
    page.evaluate(_REPAINT)
    png = page.screenshot(animations="disabled")
    path = SHOTS / f"{name}.png"
    if not path.exists() or _looks_different(path.read_bytes(), png):
        path.write_bytes(png)


# Chromium redraws only the parts of a page that changed, and the edges of rounded corners
# and gradients come out a few shades apart depending on the order the parts were redrawn
# in (which upload finished first, when an image was decoded). One redraw of the whole
# page once it is steady takes most of that away.
_REPAINT = """async () => {
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  const frames = () => frame().then(frame);
  await Promise.all([...document.images].map((image) => image.decode().catch(() => null)));
  document.body.style.visibility = "hidden";
  await frames();
  document.body.style.visibility = "";
  await frames();
}"""

# What is left is anti-aliasing: up to a few dozen edge pixels a few dozen shades apart
# (34 the most seen). A change anyone could see moves more pixels, or moves some further:
# a letter swings its pixels by 100 shades and more, a colour tweak touches thousands.
_NOISE_SHADES = 64
_NOISE_SHARE = 0.001


def _looks_different(old: bytes, new: bytes) -> bool:
    from PIL import Image, ImageChops

    with Image.open(io.BytesIO(old)) as before, Image.open(io.BytesIO(new)) as after:
        if before.size != after.size:
            return True
        apart = ImageChops.difference(before.convert("RGB"), after.convert("RGB")).split()
        shades = ImageChops.lighter(ImageChops.lighter(apart[0], apart[1]), apart[2]).histogram()
        area = before.size[0] * before.size[1]
    return sum(shades[1:]) > _NOISE_SHARE * area or any(shades[_NOISE_SHADES + 1 :])


def test_a_screenshot_is_rewritten_for_a_visible_change_only() -> None:
    from PIL import Image, ImageDraw

    def png(draw: Any = None, fill: tuple[int, int, int] = (246, 247, 249)) -> bytes:
        image = Image.new("RGB", (390, 844), fill)
        ImageDraw.Draw(image).rounded_rectangle((20, 20, 200, 60), radius=8, fill=(33, 96, 207))
        if draw:
            draw(ImageDraw.Draw(image))
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

    def edges(pen: Any) -> None:  # forty edge pixels of the button, 34 shades lighter
        pen.point([(40 + n, 20) for n in range(20)] + [(40 + n, 60) for n in range(20)],
                  fill=(67, 130, 241))  # fmt: skip

    assert not _looks_different(png(), png())
    assert not _looks_different(png(), png(edges))
    assert _looks_different(png(), png(lambda pen: pen.text((30, 80), "x", fill=(0, 0, 0))))
    assert _looks_different(png(), png(fill=(240, 242, 245)))  # a colour tweak
    assert _looks_different(png(), png(lambda pen: pen.rectangle((20, 61, 200, 61), (33, 96, 207))))


def _log_in(page: Page, user: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/me/files$"))  # signing in lands on My files


def _upload_page_file(page: Page, name: str, data: bytes, mime: str = "text/plain") -> str:
    """Upload through the page's file input; the public id of the result row that appears."""
    page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    return _result_id(page, name)


def _result_id(page: Page, name: str) -> str:
    row = page.locator("#result-list .result", has_text=name).first
    row.wait_for()
    return str(row.get_attribute("data-id"))


def _in_view(page: Page, selector: str) -> bool:
    """Whether the element is on screen without scrolling."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def _api_upload(live: dict[str, Any], data: bytes, name: str, **fields: str) -> str:
    import requests

    response = requests.post(
        live["base"] + "/",
        files={"file": (name, data)},
        data=fields,
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


# --- the upload page ---------------------------------------------------------------------


def test_file_input_upload_shows_progress_then_one_compact_row(page: Page) -> None:
    page.goto("/")
    page.evaluate(
        """() => new MutationObserver(() => {
          const p = document.querySelector('#queue progress');
          if (p) window.sawProgress = true;
        }).observe(document.getElementById('queue'), {childList: true, subtree: true})"""
    )
    data = image_bytes(size=(640, 360))  # ~0.5 MB of noise: multipart, with progress events
    ident = _upload_page_file(page, "numbers.png", data, "image/png")
    assert page.evaluate("window.sawProgress === true")
    row = page.locator("#result-list .result")
    assert row.count() == 1
    assert row.locator(".result-name").inner_text() == "numbers.png"
    short = row.locator("a.result-link").inner_text()
    assert re.search(r"/s/\w+$", short)
    page.wait_for_function("() => document.querySelector('.result-thumb img').naturalWidth > 0")
    assert (
        row.locator("a", has_text="Open")
        .get_attribute("href", timeout=1000)
        .endswith(f"/p/{ident}")
    )
    box = row.bounding_box()
    assert box is not None and box["height"] < 200, box  # a row, not a 1,300 px card
    # One file: the address bar moved to its page.
    assert page.url.endswith(f"/p/{ident}")


def _throttle(page: Page, bytes_per_second: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 20, "downloadThroughput": -1}
    cdp.send(
        "Network.emulateNetworkConditions", conditions | {"uploadThroughput": bytes_per_second}
    )


def test_progress_shows_speed_and_time_left_and_cancel_stops(page: Page) -> None:
    page.goto("/")
    _throttle(page, 256 * 1024)
    data = b"slow upload " * 80_000  # ~940 kB: multipart, about 4 s at this speed
    page.set_input_files("#file", files=[{"name": "slow.txt", "mimeType": "", "buffer": data}])
    row = page.locator("#queue .item").first
    page.wait_for_function(
        "() => { const p = document.querySelector('#queue progress'); return p && p.value > 5; }"
    )
    info = row.locator(".item-info").inner_text()
    assert re.search(r"\d+% · [\d.]+ (bytes|KiB|MiB)/s · .+ left", info), info
    assert 0 < row.locator("progress").evaluate("p => p.value") < 100
    row.locator("button.cancel").click()
    assert row.locator(".item-info").inner_text() == "Cancelled"
    page.wait_for_timeout(500)
    assert page.locator("#result-list .result").count() == 0


def test_drag_and_drop_upload(page: Page) -> None:
    page.goto("/")
    transfer = page.evaluate_handle(
        """() => { const dt = new DataTransfer();
        dt.items.add(new File(["dropped text\\n"], "dropped.txt", {type: "text/plain"}));
        return dt; }"""
    )
    page.dispatch_event("#drop", "dragenter", {"dataTransfer": transfer})
    assert "over" in (page.get_attribute("#drop", "class") or "")
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    _result_id(page, "dropped.txt")
    assert page.locator("#result-list .result").count() == 1


def test_several_files_and_paste(page: Page) -> None:
    page.goto("/")
    files = [
        {"name": f"many-{n}.txt", "mimeType": "text/plain", "buffer": f"{n}\n".encode()}
        for n in range(3)
    ]
    page.set_input_files("#file", files=files)
    page.wait_for_function("() => document.querySelectorAll('#result-list .result').length === 3")
    page.evaluate(
        """() => { const dt = new DataTransfer();
        dt.items.add(new File(["pasted\\n"], "pasted.txt", {type: "text/plain"}));
        document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt})); }"""
    )
    _result_id(page, "pasted.txt")


def test_keyboard_only_upload(page: Page) -> None:
    choosers: list[Any] = []
    page.on("filechooser", lambda c: choosers.append(c))  # intercept from the start: no race
    page.goto("/")
    for _ in range(30):  # tab from the top of the page to the file input
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "file":
            break
    assert page.evaluate("document.activeElement.id") == "file"
    page.keyboard.press("Space")
    for _ in range(100):
        if choosers:
            break
        page.wait_for_timeout(100)
    assert choosers, "Space on the focused file input opened no file chooser"
    choosers[0].set_files(files=[{"name": "keys.txt", "mimeType": "text/plain", "buffer": b"k"}])
    _result_id(page, "keys.txt")


def test_large_file_goes_through_tus(page: Page) -> None:
    methods: list[str] = []
    page.on(
        "request",
        lambda r: methods.append(r.method) if "/api/v1/uploads" in r.url else None,
    )
    page.goto("/")
    data = b"tus chunk " * 250_000  # 2.5 MB, over the test threshold of 1 MiB
    ident = _upload_page_file(page, "big.txt", data)
    assert "POST" in methods and "PATCH" in methods
    # tus hands the anonymous upload's token over too: the row has its delete link.
    link = page.locator("#result-list .result input.delete-link").input_value()
    assert f"/p/{ident}#manage=" in link
    page.goto(f"/p/{ident}")
    assert page.locator(".card dd", has_text="2.4 MiB").count() == 1


def test_errors_are_readable_sentences(page: Page) -> None:
    page.goto("/")
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 200
    page.set_input_files("#file", files=[{"name": "tool", "mimeType": "", "buffer": elf}])
    alert = page.locator("#queue .item.failed .item-info")
    alert.wait_for()
    # Our words alone: no MIME type, no developer sentence, no raw JSON.
    assert alert.inner_text() == "This kind of file is not accepted here."
    bar = page.locator("#queue .item.failed progress")
    assert bar.evaluate("b => b.value") == 0  # the bar starts over...
    red = bar.evaluate("b => getComputedStyle(b).backgroundColor")
    assert red == "color(srgb 0.752941 0.223529 0.168627 / 0.3)", red  # ...and turns red (--bad)
    too_big = b"x" * (8 * 1024 * 1024 + 1)
    page.set_input_files("#file", files=[{"name": "huge.txt", "mimeType": "", "buffer": too_big}])
    page.locator("#queue .item.failed", has_text="huge.txt").wait_for()
    info = page.locator("#queue .item.failed", has_text="huge.txt").inner_text()
    assert "larger than the limit of 8 MiB" in info and "huge.txt · 8 MiB" in info
    assert "Up to 8 MiB." in page.locator("main").inner_text()


def test_one_size_format_in_pages_and_scripts(page: Page) -> None:
    from pastefile.services.humanize import format_size

    page.goto("/")
    sizes = [0, 1, 512, 1023, 1024, 1280, 1331, 726_033, 1_048_575, 2_500_000, 8 << 20,
             (512 << 20) - 1, 5 * 1024**3 + 1, 3 * 1024**5]  # fmt: skip
    shown = page.evaluate("sizes => sizes.map(window.pastefile.size)", sizes)
    assert shown == [format_size(n) for n in sizes]
    assert shown[7] == "709 KiB" and shown[11] == "512 MiB"


def test_copying_a_link(browser: Browser, live: dict[str, Any]) -> None:
    context = _new_context(browser, viewport=VIEWPORT, base_url=live["base"])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live["base"])
    page = context.new_page()
    ident = _api_upload(live, b"copy me\n", "copy.txt")
    page.goto(f"/p/{ident}")
    short = page.locator(".links a[href*='/s/']").get_attribute("href")
    button = page.locator(".actions button[aria-label='Copy the short link']")
    assert button.inner_text() == "Copy link"
    button.click()
    # The feedback is on the button itself, and it goes back after about two seconds.
    page.locator(".actions button.copy", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == short
    page.locator(".actions button.copy", has_text="Copy link").wait_for(timeout=4000)
    assert "done" not in (button.get_attribute("class") or "")
    # Each embed snippet has its own Copy, in a section that starts collapsed.
    embed = page.locator("details.embed")
    assert not embed.evaluate("d => d.open")
    embed.locator("summary").click()
    embed.locator("button[aria-label='Copy the Markdown snippet']").click()
    embed.locator("button[aria-label='Copy the Markdown snippet']", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()").startswith("[copy.txt](")
    context.close()


def _clipboard_page(browser: Browser, live: dict[str, Any], viewport: dict[str, int]) -> Page:
    context = _new_context(browser, viewport=viewport, locale="en-US", base_url=live["base"])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live["base"])
    context.set_default_timeout(15_000)
    return _watched(context.new_page())


_REFUSED: dict[int, list[str]] = {}


def _watched(page: Page) -> Page:
    """Record Content-Security-Policy refusals, as the ``page`` fixture does."""
    refused = _REFUSED.setdefault(id(page), [])
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


def _close(page: Page) -> None:
    """Close the page's context; nothing it did was refused by the page's CSP."""
    refused = _REFUSED.pop(id(page), [])
    page.context.close()
    assert not refused, refused


@pytest.mark.parametrize(("viewport", "shot"), [(VIEWPORT, "upload"), (PHONE, "mobile-upload")])
def test_a_batch_shows_compact_rows_copy_all_and_keeps_the_page(
    browser: Browser, live: dict[str, Any], viewport: dict[str, int], shot: str
) -> None:
    page = _clipboard_page(browser, live, viewport)
    page.goto("/")
    files = [
        {"name": "sunset.png", "mimeType": "image/png", "buffer": _gradient(1200, 800)},
        {"name": "notes.md", "mimeType": "text/markdown", "buffer": b"# Notes\n\n- one\n"},
        {"name": "greet.py", "mimeType": "text/x-python", "buffer": b"print('hi')\n"},
    ]
    page.set_input_files("#file", files=files)
    page.wait_for_function("() => document.querySelectorAll('#result-list .result').length === 3")
    rows = page.locator("#result-list .result")
    # Several files: the address bar stays, so Back does not lose the batch.
    assert page.url == live["base"] + "/"
    shorts = [rows.nth(n).locator("a.result-link").inner_text() for n in range(3)]
    assert all(re.search(r"/s/\w+$", link) for link in shorts)
    # Three rows fit on one screen, phone included.
    assert _in_view(page, "#result-list .result:last-child .result-actions")
    assert rows.nth(0).locator(".result-actions .copy").is_visible()
    assert rows.nth(0).locator("a", has_text="Open").is_visible()
    page.click("#copy-all")
    page.locator("#copy-all", has_text="Copied").wait_for()
    assert sorted(page.evaluate("navigator.clipboard.readText()").split("\n")) == sorted(shorts)
    # Anonymous uploads: one delete link per row.
    assert page.locator("#result-list input.delete-link").count() == 3
    page.locator("#copy-all", has_text="Copy all links").wait_for(timeout=4000)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _shot(page, shot)
    _close(page)


def test_anonymous_delete_from_the_stored_link(browser: Browser, live: dict[str, Any]) -> None:
    page = _clipboard_page(browser, live, VIEWPORT)
    page.goto("/")
    page.set_input_files(
        "#file",
        files=[
            {"name": f"mine-{n}.txt", "mimeType": "text/plain", "buffer": f"anon {n}\n".encode()}
            for n in range(2)
        ],
    )
    page.wait_for_function("() => document.querySelectorAll('#result-list .result').length === 2")
    ident = _result_id(page, "mine-0.txt")
    row = page.locator("#result-list .result", has_text="mine-0.txt")
    link = row.locator("input.delete-link").input_value()
    assert link.startswith(f"{live['base']}/p/{ident}#manage=")
    # Somebody without the link sees no Delete.
    stranger = _watched(_new_context(browser, viewport=VIEWPORT, base_url=live["base"]).new_page())
    stranger.goto(f"/p/{ident}")
    assert stranger.locator(".actions button", has_text="Delete").is_hidden()
    # The link works in any browser, and leaves the token out of the address bar.
    stranger.goto(link)
    stranger.locator(".actions button", has_text="Delete").wait_for()
    assert "#manage" not in stranger.url
    _close(stranger)
    # This browser kept the token: its card offers Delete, which asks first.
    row.locator("a", has_text="Open").click()
    page.wait_for_url(f"**/p/{ident}")
    delete = page.locator(".actions button", has_text="Delete")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    delete.click()
    page.wait_for_timeout(300)
    assert asked and "Delete this file?" in asked[0]
    assert page.locator(".card-status").inner_text() == ""
    page.once("dialog", lambda d: d.accept())
    delete.click()
    page.locator(".card-status", has_text="This file was deleted.").wait_for()
    assert page.locator(".card .actions").count() == 0
    assert page.goto(f"/p/{ident}").status == 410  # type: ignore[union-attr]
    assert page.evaluate(f"localStorage.getItem('pastefile:token:{ident}')") is None
    # Signed in later, the same browser still deletes the other anonymous upload with
    # its stored token (the session's CSRF token rides along).
    other = _result_id_from_storage(page)
    _log_in(page, "alice", "alice-password-1")
    page.goto(f"/p/{other}")
    page.once("dialog", lambda d: d.accept())
    page.click(".actions button:has-text('Delete')")
    page.locator(".card-status", has_text="This file was deleted.").wait_for()
    _close(page)


def _result_id_from_storage(page: Page) -> str:
    keys = page.evaluate("Object.keys(localStorage)")
    tokens = [k.rsplit(":", 1)[1] for k in keys if k.startswith("pastefile:token:")]
    assert len(tokens) == 1, keys
    return str(tokens[0])


# --- the file card, per type ---------------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("docs/readme.txt", "hello")
        archive.writestr("src/main.py", "print(1)\n")
    return buffer.getvalue()


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 8000)
    return buffer.getvalue()


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
MARKDOWN = b"# Notes\n\nSome **bold** text.\n\n<script>window.pwned=1</script>\n\n- one\n- two\n"


def _gradient(width: int, height: int) -> bytes:
    """A smooth image: small as a PNG, so the screenshot stays small too."""
    from PIL import Image

    ramp = Image.linear_gradient("L").resize((width, height))
    across = Image.linear_gradient("L").rotate(90).resize((width, height))
    picture = Image.merge("RGB", (ramp, across, Image.new("L", (width, height), 160)))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def test_image_card_uses_the_pipeline_srcset(page: Page, live: dict[str, Any]) -> None:
    ident = _api_upload(live, _gradient(1600, 1000), "wide.png")
    page.goto(f"/p/{ident}")
    image = page.locator(".card img.preview")
    srcset = image.get_attribute("srcset") or ""
    assert "w=" in srcset and re.search(r" 960w, ", srcset) and srcset.endswith(" 1600w")
    page.wait_for_function("() => document.querySelector('.card img.preview').naturalWidth > 0")
    # Not stretched: the picked candidate is at least as wide as the slot on screen.
    shown = image.evaluate("i => [i.naturalWidth, i.clientWidth * devicePixelRatio]")
    assert shown[0] >= shown[1], shown
    # Two columns on a desktop: the details sit beside the preview.
    view, side = (
        page.locator(".card .view").bounding_box(),
        page.locator(".card .side").bounding_box(),
    )
    assert view and side and side["x"] > view["x"] + view["width"] - 1
    assert page.locator(".meta", has_text="1600 \u00d7 1000").count() == 1
    assert page.locator("meta[property='og:image']").get_attribute("content", timeout=1000)
    assert page.locator(".qr svg").count() == 1
    _shot(page, "card-image")


def test_code_card_is_highlighted_with_line_numbers(page: Page, live: dict[str, Any]) -> None:
    ident = _api_upload(live, b"def greet(name):\n    return f'hi {name}'\n", "greet.py")
    page.goto(f"/p/{ident}")
    assert page.locator(".code .linenos").count() == 1
    assert page.locator(".code span.k", has_text="def").count() == 1  # a Pygments keyword
    raw = page.locator(".links a", has_text="Raw").get_attribute("href")
    assert raw and raw.endswith(f"/i/{ident}.py")
    assert page.locator(".meta .language").inner_text() == "Python"
    _shot(page, "card-code")


@pytest.mark.parametrize("name", ["long.py", "bundle.zip", "long.md", "paper.pdf"])
def test_download_is_on_the_first_screen_of_a_phone(
    browser: Browser, live: dict[str, Any], name: str
) -> None:
    lines = b"".join(b"x%d = %d\n\n" % (n, n) for n in range(300))
    data = {".zip": _zip(), ".pdf": PDF, ".md": b"# Long\n\n" + lines}.get(Path(name).suffix, lines)
    ident = _api_upload(live, data, name)
    for viewport in (PHONE, VIEWPORT):
        page = _clipboard_page(browser, live, viewport)
        page.goto(f"/p/{ident}")
        assert _in_view(page, ".actions a:has-text('Download')"), (name, viewport)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        if viewport == PHONE and name == "long.py":
            _shot(page, "mobile-card-code")
        _close(page)


def _transparent_png() -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (900, 600), (0, 0, 0, 0))
    ImageDraw.Draw(picture).ellipse((150, 50, 750, 550), fill=(47, 111, 222, 200))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def test_a_transparent_image_on_a_checkerboard_and_click_to_zoom(
    page: Page, live: dict[str, Any]
) -> None:
    ident = _api_upload(live, _transparent_png(), "circle.png")
    page.goto(f"/p/{ident}")
    image = page.locator(".card img.preview")
    assert "conic-gradient" in image.evaluate("i => getComputedStyle(i).backgroundImage")
    image.click()
    zoomed = page.locator(".lightbox img")
    zoomed.wait_for()
    assert (zoomed.get_attribute("src") or "").endswith(f"/i/{ident}.png")
    page.wait_for_function("() => document.querySelector('.lightbox img').naturalWidth === 900")
    page.keyboard.press("Escape")
    assert page.locator(".lightbox").count() == 0


def test_owner_edits_and_deletes_on_the_card(browser: Browser, live: dict[str, Any]) -> None:
    for viewport in (VIEWPORT, PHONE):
        page = _clipboard_page(browser, live, viewport)
        _log_in(page, "alice", "alice-password-1")
        page.goto("/")
        ident = _upload_page_file(page, "draft.txt", b"a draft\n" * 3)
        page.goto(f"/p/{ident}")
        assert page.locator(".badges").count() == 0  # public: nothing to warn about
        assert _in_view(page, ".actions button:has-text('Edit')")
        page.click(".actions button:has-text('Edit')")
        form = page.locator(".edit-form")
        form.locator("input[name=filename]").fill("final.txt")
        form.locator("select[name=visibility]").select_option("private")
        form.locator("button[type=submit]").click()
        page.locator("h1.name", has_text="final.txt").wait_for()
        assert page.locator(".badges .vis-private").inner_text() == "Private"
        if viewport == VIEWPORT:
            # The owner's panel counts the views written so far, and they are written every
            # two seconds: write both views now, so the shot shows two whatever the timing.
            live["services"].stats_recorder.flush()
            page.reload()
            assert page.locator(".stats-panel dd").first.inner_text() == "2"
            _shot(page, "card-owner")
        # Nobody else sees it now; the owner deletes it after a confirmation.
        assert requests_status(f"{live['base']}/p/{ident}") == 404
        page.once("dialog", lambda d: d.accept())
        page.click(".actions button:has-text('Delete')")
        page.locator(".card-status", has_text="This file was deleted.").wait_for()
        assert page.goto(f"/p/{ident}").status == 410  # type: ignore[union-attr]
        _close(page)


def requests_status(url: str) -> int:
    import requests

    return requests.get(url, headers={"Accept": "text/html"}, timeout=10).status_code


def test_markdown_card_is_rendered_and_sanitized(page: Page, live: dict[str, Any]) -> None:
    ident = _api_upload(live, MARKDOWN, "notes.md")
    page.goto(f"/p/{ident}")
    assert page.locator(".markdown h1").inner_text() == "Notes"
    assert page.locator(".markdown strong").inner_text() == "bold"
    assert page.locator(".markdown script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    # The <script> line does not make it HTML: Markdown, with a .md raw link.
    assert page.locator(".meta .language").inner_text() == "Markdown"
    raw = page.locator(".actions a", has_text="Raw").get_attribute("href")
    assert raw and raw.endswith(f"/i/{ident}.md")


def test_archive_video_audio_pdf_and_other_cards(page: Page, live: dict[str, Any]) -> None:
    cases = [
        (_zip(), "bundle.zip", ".entries td", "src/main.py"),
        (MP4, "clip.mp4", "video.player", None),
        (_wav(), "tone.wav", "audio.player", None),
        (PDF, "paper.pdf", "object.pdf", None),
        (b"\x00\x01\x02\x03" * 64, "blob.dat", ".view .icon", None),
    ]
    for data, name, selector, text in cases:
        ident = _api_upload(live, data, name)
        page.goto(f"/p/{ident}")
        found = page.locator(selector, has_text=text) if text else page.locator(selector)
        assert found.count() >= 1, name
        if selector in ("video.player", "audio.player", "object.pdf"):
            attr = "data" if selector == "object.pdf" else "src"
            assert f"/i/{ident}" in (found.get_attribute(attr) or "")


def test_password_protected_file(page: Page, live: dict[str, Any]) -> None:
    ident = _api_upload(live, b"secret notes\n", "secret.txt", password=PASSWORD)
    page.goto(f"/p/{ident}")
    assert page.locator("h1", has_text="protected by a password").count() == 1
    page.fill("#password", "wrong password")
    page.click("form button[type=submit]")
    assert page.locator(".error[role=alert]").count() == 1
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.locator(".card h1.name", has_text="secret.txt").wait_for()
    assert page.locator(".code-wrap", has_text="secret notes").count() == 1


def test_the_raw_link_of_a_protected_file_asks_for_the_password(
    page: Page, live: dict[str, Any]
) -> None:
    ident = _api_upload(live, b"raw secret\n", "raw.txt", password=PASSWORD)
    response = page.goto(f"/i/{ident}")
    assert response is not None and response.status == 403
    assert page.locator("h1", has_text="protected by a password").count() == 1
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/i/{ident}$"))
    assert "raw secret" in page.content()  # the bytes themselves, not the card


def test_gone_file_gets_a_410_page(page: Page, live: dict[str, Any]) -> None:
    ident = _api_upload(live, b"short-lived\n", "gone.txt", max_downloads="1")
    import requests

    assert requests.get(f"{live['base']}/i/{ident}", timeout=10).status_code == 200
    response = page.goto(f"/p/{ident}")
    assert response is not None and response.status == 410
    assert page.locator("h1", has_text="This file is gone").count() == 1


# --- signed in ----------------------------------------------------------------------------


def test_sign_in_and_the_tokens_page(page: Page, live: dict[str, Any]) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live["base"])
    _log_in(page, "alice", "alice-password-1")
    page.goto("/account/tokens")
    before = len(live["services"].accounts.list_tokens(1))
    page.fill("#name", "laptop")
    page.click("button:has-text('Create token')")
    page.locator(".flash", has_text="Created the token laptop.").wait_for()
    token = page.locator("#new-token").input_value()
    assert token.startswith("pf_")
    page.click("button[aria-label='Copy the new token']")
    page.locator("button[aria-label='Copy the new token']", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    # Post/redirect/get: reloading the page makes no second token, and shows no value.
    page.reload()
    assert len(live["services"].accounts.list_tokens(1)) == before + 1
    assert page.locator("#new-token").count() == 0
    assert page.locator("td", has_text="laptop").count() == 1
    revoke = page.locator("button[aria-label='Revoke laptop']")
    assert "danger" in (revoke.get_attribute("class") or "")
    page.once("dialog", lambda d: d.dismiss())  # changing one's mind keeps the token
    revoke.click()
    assert page.locator("td", has_text="revoked").count() == 0
    page.once("dialog", lambda d: d.accept())
    revoke.click()
    page.locator(".flash", has_text="Revoked the token.").wait_for()
    assert page.locator("td", has_text="revoked").count() == 1


def test_log_out_from_the_header(page: Page) -> None:
    _log_in(page, "alice", "alice-password-1")
    page.goto("/help")
    page.click("header button:has-text('Log out')")
    page.locator(".flash", has_text="You are logged out.").wait_for()
    assert page.locator("header a", has_text="Log in").count() == 1


def _user_with_files(live: dict[str, Any], name: str, count: int) -> list[str]:
    """A user and ``count`` small text files of theirs (uploaded with a token), oldest first."""
    import requests

    accounts = live["services"].accounts
    user = accounts.create_user(name, f"{name}-password-1")
    _, token = accounts.create_token(accounts.session_principal(user), "t", ["read", "upload"])
    ids = []
    for n in range(count):
        response = requests.post(
            live["base"] + "/",
            files={"file": (f"{name}-{n:02}.txt", f"file {n}\n".encode() * (n + 1))},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))
    return ids


def test_dashboard_selection_spans_pages_and_bulk_delete_asks_first(
    page: Page, live: dict[str, Any]
) -> None:
    ids = _user_with_files(live, "dana", 27)  # two pages of 24
    _log_in(page, "dana", "dana-password-1")
    width = page.locator("section.dashboard").bounding_box()
    assert width is not None and width["width"] > 1100  # the full width, not a 700 px panel
    _shot(page, "my-files")
    bar = page.locator("#bulk")
    assert page.locator("#bulk-delete").is_disabled()
    page.check("#select-all")
    assert page.locator("#selected-count").inner_text() == "24 selected"
    page.uncheck(f".file[data-id='{ids[-1]}'] input[name=ids]")
    assert page.locator("#selected-count").inner_text() == "23 selected"
    assert page.evaluate("document.getElementById('select-all').indeterminate")
    page.evaluate("window.scrollTo(0, 1200)")
    box = bar.bounding_box()
    assert box is not None and -1 <= box["y"] <= 1, box  # the bulk bar sticks to the top
    page.click("a[rel=next]")
    page.check(f".file[data-id='{ids[0]}'] input[name=ids]")
    assert page.locator("#selected-count").inner_text() == "24 selected"  # kept across pages
    page.once("dialog", lambda d: d.dismiss())
    page.click("#bulk-delete")
    assert len(live["services"].files.statuses(_uid(live, "dana"), ids)) == 27  # nothing gone
    page.once("dialog", lambda d: d.accept())
    page.click("#bulk-delete")
    page.locator(".flash", has_text="Deleted 24 files.").wait_for()
    left = live["services"].files.statuses(_uid(live, "dana"), ids)
    assert sorted(left) == sorted([ids[-1], ids[1], ids[2]])
    assert page.locator("#selected-count").inner_text() == "Nothing selected"


def _uid(live: dict[str, Any], name: str) -> int:
    users, _ = live["services"].accounts.list_users(0, 100, name)
    return int(next(u.id for u in users if u.username == name))


def test_dashboard_table_sorts_and_hover_actions_and_the_edit_drawer(
    page: Page, live: dict[str, Any]
) -> None:
    ids = _user_with_files(live, "erin", 3)
    _log_in(page, "erin", "erin-password-1")
    page.click("nav.views a:has-text('List')")
    page.wait_for_url(re.compile(r"view=list"))
    headers = page.locator("table.files-table thead th a").all_inner_texts()
    assert [h.split(" ")[0] for h in headers] == [
        "Name", "Type", "Size", "Visibility", "Expires", "Downloads", "Created",
    ]  # fmt: skip
    page.click("table.files-table th a:has-text('Size')")
    page.wait_for_url(re.compile(r"dir=desc.*sort=size|sort=size.*dir=desc"))
    names = page.locator("table.files-table td.fname a").all_inner_texts()
    assert names == ["erin-02.txt", "erin-01.txt", "erin-00.txt"]  # largest first
    page.click("table.files-table th a:has-text('Size')")
    page.wait_for_url(re.compile(r"dir=asc.*sort=size|sort=size.*dir=asc"))
    names = page.locator("table.files-table td.fname a").all_inner_texts()
    assert names == ["erin-00.txt", "erin-01.txt", "erin-02.txt"]
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Size")
    _shot(page, "my-files-list")
    # Hover actions in the grid: hidden until the pointer (or focus) is on the tile.
    page.click("nav.views a:has-text('Grid')")
    page.wait_for_url(re.compile(r"view=grid"))
    tile = page.locator(f".file[data-id='{ids[0]}']")
    actions = tile.locator(".file-actions")
    page.mouse.move(0, 0)
    assert actions.evaluate("e => getComputedStyle(e).opacity") == "0"
    tile.hover()
    page.wait_for_function(
        "id => getComputedStyle(document.querySelector(`.file[data-id='${id}'] .file-actions`))"
        ".opacity === '1'",
        arg=ids[0],
    )
    tile.locator("a:has-text('Edit')").click()
    drawer = page.locator("#drawer")
    drawer.wait_for()
    page.wait_for_function("() => document.activeElement.id === 'edit-name'")  # focus moved in
    drawer.locator("#edit-name").fill("renamed.txt")
    drawer.locator("#edit-visibility").select_option("private")
    drawer.locator("button:has-text('Save')").click()
    page.locator(".flash", has_text="Saved renamed.txt.").wait_for()
    assert "Private" in page.locator(f".file[data-id='{ids[0]}'] .status").inner_text()
    # One file's Delete asks first, too.
    tile = page.locator(f".file[data-id='{ids[1]}']")
    tile.hover()
    page.once("dialog", lambda d: d.accept())
    tile.locator("button:has-text('Delete')").click()
    page.locator(".flash", has_text="Deleted 1 file.").wait_for()
    assert page.goto(f"/p/{ids[1]}").status == 410  # type: ignore[union-attr]


def test_dashboard_on_a_phone(browser: Browser, live: dict[str, Any]) -> None:
    _user_with_files(live, "finn", 5)
    context = _new_context(
        browser, viewport=PHONE, base_url=live["base"], has_touch=True, is_mobile=True
    )
    page = _watched(context.new_page())
    _log_in(page, "finn", "finn-password-1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    actions = page.locator(".file-actions").first  # no hover on a touch screen: always shown
    assert actions.is_visible() and actions.evaluate("e => getComputedStyle(e).opacity") == "1"
    _shot(page, "mobile-my-files")
    _close(page)


def test_my_files_status_follows_the_job_events(page: Page, live: dict[str, Any]) -> None:
    from tests.support.jobs import drain_jobs

    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    _log_in(page, "alice", "alice-password-1")
    page.goto("/")
    ident = _upload_page_file(page, "pending.png", image_bytes(), "image/png")
    page.goto("/me/files")
    status = page.locator(f".file[data-id='{ident}'] .job-status")
    assert status.inner_text() == "processing"  # testing runs no job runner in the app
    page.wait_for_timeout(300)  # the socket's hello
    drain_jobs(live["services"])
    page.locator(f".file[data-id='{ident}'] .job-status", has_text="ready").wait_for()
    assert any('"type":"file"' in f and ident in f for f in frames)


def test_admin_disables_a_user_after_a_confirmation(page: Page, live: dict[str, Any]) -> None:
    _log_in(page, "root", "root-password-1")
    page.goto("/admin")
    page.click("nav.subnav a:has-text('Users')")
    row = page.locator("tr[data-user='mallory']")
    button = row.locator("button[aria-label='Disable mallory']")
    assert "danger" in (button.get_attribute("class") or "")
    page.once("dialog", lambda d: d.dismiss())
    button.click()
    assert live["services"].accounts.active_user(3) is not None
    page.once("dialog", lambda d: d.accept())
    button.click()
    page.locator(".flash", has_text="Disabled mallory").wait_for()
    assert "disabled" in page.locator("tr[data-user='mallory']").inner_text()
    assert live["services"].accounts.active_user(3) is None
    live["services"].accounts.update_user(3, disabled=False)


def test_admin_files_are_paged_and_filtered(page: Page, live: dict[str, Any]) -> None:
    _user_with_files(live, "gail", 30)
    _log_in(page, "root", "root-password-1")
    page.goto("/admin/files")
    assert page.locator("#all-files tbody tr").count() == 25
    height = page.evaluate("document.documentElement.scrollHeight")
    page.fill("input[name=owner]", "gail")
    page.click("button:has-text('Filter')")
    assert page.locator("#all-files tbody tr").count() == 25
    assert page.locator("#all-files tbody td", has_text=re.compile("^gail$")).count() == 25
    page.click("a[rel=next]")
    assert page.locator("#all-files tbody tr").count() == 5
    assert "owner=gail" in page.url
    page.click("a[rel=prev]")
    _shot(page, "admin")
    assert height < 2600, height  # a page of 25, not every file
    row = page.locator("#all-files tbody tr").first
    name = row.locator("td.fname").inner_text()
    page.once("dialog", lambda d: d.accept())
    row.locator("button:has-text('Delete')").click()
    page.locator(".flash", has_text="Deleted the file").wait_for()
    assert page.locator("#all-files td.fname", has_text=name).count() == 0
    assert "owner=gail" in page.url  # the filter stays after a delete


def test_admin_sections_and_the_jobs_table_fit_at_1440(page: Page) -> None:
    _log_in(page, "root", "root-password-1")
    page.goto("/admin")
    for label, path in (("Stats", "/admin/stats"), ("Reports", "/admin/reports"),
                        ("Moderation", "/admin/moderation"), ("Jobs", "/jobs")):  # fmt: skip
        page.click(f"nav.subnav a:has-text('{label}')")
        page.wait_for_url(re.compile(re.escape(path) + "$"))
        assert page.locator("nav.subnav a[aria-current=page]").inner_text() == label
    page.locator("#job-table").wait_for()
    assert page.locator("input[name=token]").count() == 0  # the session is enough
    fits = "document.querySelector('#job-table').getBoundingClientRect().right <= " + (
        "document.querySelector('section.jobs').getBoundingClientRect().right"
    )
    assert page.evaluate(fits)


def test_admin_on_a_phone(browser: Browser, live: dict[str, Any]) -> None:
    context = _new_context(browser, viewport=PHONE, base_url=live["base"])
    page = _watched(context.new_page())
    _log_in(page, "root", "root-password-1")
    # Filtered to the users every test starts with: the shot is the same in any order.
    page.goto("/admin/users?q=o")
    assert page.locator("tbody tr").count() == 2  # root and mallory
    _shot(page, "mobile-admin")
    _close(page)


def test_admin_pages_are_for_administrators_only(page: Page) -> None:
    _log_in(page, "alice", "alice-password-1")
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    assert page.locator("nav a", has_text="Admin").count() == 0


# --- everyone -----------------------------------------------------------------------------


def test_mobile_viewport_has_no_sideways_scroll(browser: Browser, live: dict[str, Any]) -> None:
    context = _new_context(browser, viewport=PHONE, base_url=live["base"])
    page = context.new_page()
    ident = _api_upload(live, _gradient(900, 600), "phone.png")
    for path in ("/", f"/p/{ident}", "/help"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    page.goto(f"/p/{ident}")
    _shot(page, "mobile-card")
    context.close()


def test_dark_mode_follows_the_system(browser: Browser, live: dict[str, Any]) -> None:
    context = _new_context(browser, viewport=VIEWPORT, color_scheme="dark", base_url=live["base"])
    page = context.new_page()
    ident = _api_upload(live, b"print('dark')\n" * 3, "dark.py")
    page.goto(f"/p/{ident}")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 23, 28)"  # --bg of the dark palette
    _shot(page, "card-dark")
    context.close()


def test_chinese_by_accept_language_and_the_switcher(
    browser: Browser, live: dict[str, Any]
) -> None:
    context = _new_context(browser, viewport=VIEWPORT, locale="zh-CN", base_url=live["base"])
    page = context.new_page()
    page.goto("/")
    assert page.locator("h1").inner_text() == "分享文件"
    assert page.get_attribute("html", "lang") == "zh-CN"
    _shot(page, "upload-zh")
    page.click("a[lang=en]")
    assert page.locator("h1").inner_text() == "Share a file"
    page.click("a[lang=zh]")
    assert page.locator("h1").inner_text() == "分享文件"
    context.close()


def test_help_page_and_sharex_config(page: Page) -> None:
    _log_in(page, "alice", "alice-password-1")
    page.goto("/help")
    assert page.locator("pre.recipe", has_text="curl -F file=@photo.jpg").count() == 1
    with page.expect_download() as download:
        page.click("button:has-text('Download pastefile.sxcu')")
    assert download.value.suggested_filename == "pastefile.sxcu"
    import json

    config = json.loads(Path(download.value.path()).read_text())
    assert config["Headers"]["Authorization"].startswith("Bearer pf_")
    assert config["RequestURL"].endswith("/api/v1/files")


# --- accessibility: axe on every page, light and dark ----------------------------------


def _page_states(live: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(path, who signs in) for every page a user can reach, each kind of card included."""
    cards = [
        _api_upload(live, _gradient(320, 200), "axe.png"),
        _api_upload(live, b"def f():\n    return 1\n" * 40, "axe.py"),
        _api_upload(live, b"# Title\n\nSome *text*.\n\n```\ncode\n```\n", "axe.md"),
        _api_upload(live, _zip(), "axe.zip"),
        _api_upload(live, _wav(), "axe.wav"),
        _api_upload(live, b"\x00\x01\x02" * 50, "axe.bin"),
    ]
    locked = _api_upload(live, b"locked\n", "locked.txt", password=PASSWORD)
    anonymous = [(p, None) for p in ("/", "/help", "/login", "/register", f"/p/{locked}",
                                     f"/i/{locked}", "/p/" + "x" * 10)]  # fmt: skip
    anonymous += [(f"/p/{ident}", None) for ident in cards]
    signed_in = [(p, "alice") for p in ("/me/files", "/me/files?view=list", "/account/tokens")]
    admin = [(p, "root") for p in ("/admin", "/admin/users", "/admin/files", "/admin/moderation",
                                   "/admin/stats", "/admin/reports", "/jobs")]  # fmt: skip
    return anonymous + signed_in + admin


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_any_page(
    browser: Browser, live: dict[str, Any], scheme: str
) -> None:
    failures: list[str] = []
    signed: str | None = None
    context = _new_context(browser, viewport=VIEWPORT, color_scheme=scheme, base_url=live["base"])
    page = _watched(context.new_page())
    for path, who in _page_states(live):
        if who != signed:
            context.clear_cookies()
            if who:
                _log_in(page, who, f"{who}-password-1")
            signed = who
        page.goto(path)
        try:
            assert_accessible(page, f"{scheme} {path}")
        except AssertionError as exc:
            failures.append(str(exc))
    _close(page)
    assert not failures, "\n".join(failures)


def test_the_upload_page_has_one_primary_action(page: Page) -> None:
    page.goto("/")
    visible = [b for b in page.locator("main .button, main button").all() if b.is_visible()]
    assert [b.inner_text() for b in visible] == ["Choose files"]


# --- notifications (docs/collections.md#notifications) ----------------------------------


def test_webhooks_and_download_alerts_on_the_account_page_and_the_card(
    page: Page, live: dict[str, Any]
) -> None:
    from dataclasses import replace

    from pastefile.services.upload_options import UploadOptions
    from tests.support.jobs import drain_jobs
    from tests.support.webhooks import receiver

    services: Services = live["services"]
    alice = services.accounts.authenticate("alice", "alice-password-1")
    ident = services.uploads.save_stream(
        io.BytesIO(b"alert me"), "alert.txt", options=UploadOptions(owner_id=alice.id)
    ).file.public_id
    _log_in(page, "alice", "alice-password-1")
    page.goto("/account/notifications")
    page.fill("#notify-email", "alice@example.test")
    page.click("#notifications button[type=submit]")
    page.locator(".flash", has_text="Saved.").wait_for()
    policy = services.fetcher.policy
    services.fetcher.policy = replace(policy, allowed_networks=("127.0.0.2/32",))
    try:
        with receiver() as hook:
            page.fill("#hook-url", hook.url)
            page.click("#webhooks form button:has-text('Register')")
            secret = page.locator("#new-secret").input_value()
            assert secret.startswith("whsec_")
            page.reload()
            assert page.locator("#new-secret").count() == 0  # shown once
            page.click("button:has-text('Send a test')")
            page.locator(".flash", has_text="Done.").wait_for()
            drain_jobs(services)
            page.reload()
            row = page.locator("table.deliveries tbody tr").first
            assert "webhook.ping" in row.inner_text() and "delivered" in row.inner_text()
            assert len(hook.got) == 1
            assert_accessible(page, "the notifications page")
    finally:
        services.fetcher.policy = policy
    page.goto(f"/p/{ident}")
    page.click("button:has-text('Email me when it is downloaded')")
    page.locator("button", has_text="Stop emailing me about downloads").wait_for()
    assert page.locator("h2", has_text="Download history").count() == 1
    assert services.notifier.alerts.is_subscribed(alice.id, "file", ident)
