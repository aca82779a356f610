"""Bad input: every case is a problem+json (or an HTML page) with a stable code,
stores nothing, and never harms what is already stored."""

from __future__ import annotations

import io
import random
import struct
import time
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pastefile.db.models import File
from tests.support.files import stored_blobs, temp_files
from tests.support.images import image_bytes
from tests.support.uploads import multipart_body, upload

LIMIT = 32 * 1024
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_upload_size": LIMIT, "max_resize_dimension": 2000}


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"]
    assert body["title"]
    assert body["detail"]
    return body


def assert_problem_page(response, status: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert f"{status} ·" in text
    assert "Traceback" not in text


def file_rows(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return session.scalar(select(func.count()).select_from(File)) or 0


def assert_nothing_stored(services, settings) -> None:  # type: ignore[no-untyped-def]
    assert temp_files(settings) == []
    assert stored_blobs(settings) == []
    assert file_rows(services) == 0


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width`` x ``height``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# --- 413: larger than PASTEFILE_MAX_UPLOAD_SIZE ------------------------------------------

# Just over the limit is caught while streaming; far over it, by Content-Length.
OVERSIZES = [LIMIT + 1, 3 * 1024 * 1024]


@pytest.mark.parametrize("size", OVERSIZES)
def test_multipart_upload_over_the_limit_is_413_and_leaves_nothing(
    client, services, settings, size
):
    response = upload(client, b"x" * size, "big.txt")
    assert_problem(response, 413, "too_large")
    assert_nothing_stored(services, settings)


@pytest.mark.parametrize("size", OVERSIZES)
def test_put_upload_over_the_limit_is_413_and_leaves_nothing(client, services, settings, size):
    response = client.put("/big.txt", data=b"x" * size, headers=JSON)
    assert_problem(response, 413, "too_large")
    assert_nothing_stored(services, settings)


def test_chunked_put_over_the_limit_is_413_and_leaves_nothing(client, services, settings):
    # `curl -T -` sends no Content-Length; the limit is enforced while streaming.
    response = client.put(
        "/big.txt",
        input_stream=io.BytesIO(b"x" * (LIMIT * 3)),
        environ_overrides={"wsgi.input_terminated": True},
        headers=JSON,
    )
    assert_problem(response, 413, "too_large")
    assert_nothing_stored(services, settings)


def test_upload_of_exactly_the_limit_is_accepted(client):
    data = b"y" * LIMIT
    body = upload(client, data, "exact.txt").get_json()
    assert body["bytes"] == LIMIT
    assert client.get(f"/i/{body['id']}").data == data


def test_browser_gets_a_page_for_413(client, services, settings):
    response = client.post(
        "/", data={"file": (io.BytesIO(b"x" * (LIMIT + 1)), "big.txt")}, headers=BROWSER
    )
    assert_problem_page(response, 413)
    assert_nothing_stored(services, settings)


# --- 400: missing field or empty file ----------------------------------------------------


def _post(client, data, **kwargs):  # type: ignore[no-untyped-def]
    return client.post("/", data=data, headers=JSON, **kwargs)


MISSING = {
    "no fields": lambda c: _post(c, {}),
    "wrong field name": lambda c: _post(c, {"upload": (io.BytesIO(b"abc"), "a.txt")}),
    "file as a text field": lambda c: _post(c, {"file": "abc"}),
    "no file chosen": lambda c: _post(c, {"file": (io.BytesIO(b""), "")}),
    "not multipart": lambda c: _post(c, b'{"file": "abc"}', content_type="application/json"),
    "no boundary": lambda c: _post(c, b"abc", content_type="multipart/form-data"),
    "truncated multipart": lambda c: _post(
        c,
        b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello',
        content_type="multipart/form-data; boundary=XX",
    ),
}


def test_missing_file_is_400(client, services, settings, subtests):
    for case, send in MISSING.items():
        with subtests.test(case=case):
            assert_problem(send(client), 400, "missing_file")
            assert_nothing_stored(services, settings)


def test_empty_multipart_file_is_400(client, services, settings):
    assert_problem(upload(client, b"", "empty.txt"), 400, "empty_file")
    assert_nothing_stored(services, settings)


def test_empty_put_is_400(client, services, settings):
    assert_problem(client.put("/empty.txt", data=b"", headers=JSON), 400, "empty_file")
    assert_nothing_stored(services, settings)


def test_browser_gets_a_page_for_400(client):
    assert_problem_page(client.post("/", data={}, headers=BROWSER), 400)


# --- 404: unknown ids and short codes ----------------------------------------------------

UNKNOWN_IDS = [
    "AAAAAAAAAAAA",
    "a" * 5000,
    "abc.def.ghi",
    "..",
    "...passwd",
    "a%2Fb",
    "a/b",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%E4%BD%A0%E5%A5%BD",
    "1",
]


def test_unknown_or_junk_id_is_404(client, subtests):
    upload(client, b"something that does exist", "real.txt")
    for ident in UNKNOWN_IDS:
        for route in ("i", "d", "p", "s", "r"):
            path = f"/{route}/{ident}" + ("?w=9&h=9" if route == "r" else "")
            with subtests.test(path=path[:60]):
                assert_problem(client.get(path, headers=JSON), 404, "not_found")


def test_unknown_id_with_an_extension_is_404(client):
    body = upload(client, b"exists", "e.txt").get_json()
    assert client.get(f"/i/{body['id']}.txt").status_code == 200
    wrong = "Z" if body["id"][0] != "Z" else "Y"
    assert_problem(client.get(f"/i/{wrong}{body['id'][1:]}.txt", headers=JSON), 404, "not_found")


def test_unknown_page_is_404_not_405(client):
    for path in ("/nothing-here", "/favicon.ico", "/i/", "/p/a/b/c"):
        assert_problem(client.get(path, headers=JSON), 404, "not_found")


def test_browser_gets_a_page_for_404(client):
    assert_problem_page(client.get("/p/AAAAAAAAAAAA", headers=BROWSER), 404)
    assert_problem_page(client.get("/s/AAAAAAA", headers=BROWSER), 404)


# --- 400: w and h -------------------------------------------------------------------------

BAD_DIMENSIONS = [
    {"w": "0", "h": "10"},
    {"w": "10", "h": "0"},
    {"w": "-1", "h": "10"},
    {"w": "abc", "h": "10"},
    {"w": "1.5", "h": "10"},
    {"w": "100000", "h": "10"},
    {"w": "10", "h": "2001"},
    {"w": "10"},
    {"h": "10"},
    {"w": "10", "h": ""},
]


def test_bad_dimensions_on_upload_are_400_and_store_nothing(client, services, settings, subtests):
    for dims in BAD_DIMENSIONS:
        with subtests.test(dims=dims):
            response = upload(client, image_bytes(), "cat.png", **dims)
            assert_problem(response, 400, "invalid_dimensions")
            assert_nothing_stored(services, settings)


def test_bad_dimensions_on_put_are_400_and_store_nothing(client, services, settings, subtests):
    for dims in BAD_DIMENSIONS:
        with subtests.test(dims=dims):
            response = client.put("/cat.png", data=image_bytes(), query_string=dims, headers=JSON)
            assert_problem(response, 400, "invalid_dimensions")
            assert_nothing_stored(services, settings)


def test_bad_dimensions_on_resize_are_400(client, services, subtests):
    body = upload(client, image_bytes(), "cat.png").get_json()
    for dims in [*BAD_DIMENSIONS, {}]:
        with subtests.test(dims=dims):
            response = client.get(f"/r/{body['id']}", query_string=dims, headers=JSON)
            assert_problem(response, 400, "invalid_dimensions")
            assert file_rows(services) == 1


def test_browser_gets_a_page_for_bad_dimensions(client):
    response = client.post(
        "/",
        data={"file": (io.BytesIO(image_bytes()), "cat.png"), "w": "0", "h": "5"},
        headers=BROWSER,
    )
    assert_problem_page(response, 400)


# --- 415: resize of a non-image ------------------------------------------------------------

NOT_IMAGES = {
    "text": b"just words\n",
    "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>',
}


def test_resize_of_a_non_image_on_upload_is_415(client, services, settings, subtests):
    for kind, data in NOT_IMAGES.items():
        with subtests.test(kind=kind):
            response = upload(client, data, f"x.{kind}", w="10", h="10")
            assert_problem(response, 415, "not_an_image")
            assert_nothing_stored(services, settings)


def test_resize_of_a_stored_non_image_is_415(client, services, subtests):
    for rows, (kind, data) in enumerate(NOT_IMAGES.items(), start=1):
        with subtests.test(kind=kind):
            body = upload(client, data, f"x.{kind}").get_json()
            response = client.get(f"/r/{body['id']}?w=10&h=10", headers=JSON)
            assert_problem(response, 415, "not_an_image")
            assert file_rows(services) == rows


# --- 422: corrupt images and decompression bombs ------------------------------------------

CORRUPT = {
    "truncated png": image_bytes("PNG")[:200],
    "garbage pixels": image_bytes("PNG")[:60] + b"\xde\xad" * 300,
    "truncated jpeg": image_bytes("JPEG", (200, 150))[:300],
}


def test_resize_of_a_corrupt_image_on_upload_is_422(client, services, settings, subtests):
    for kind, data in CORRUPT.items():
        with subtests.test(kind=kind):
            response = upload(client, data, "broken.img", w="10", h="10")
            assert_problem(response, 422, "corrupt_image")
            assert_nothing_stored(services, settings)


def test_resize_of_a_stored_corrupt_image_is_422(client, services, subtests):
    for rows, (kind, data) in enumerate(CORRUPT.items(), start=1):
        with subtests.test(kind=kind):
            body = upload(client, data, "broken.img").get_json()
            response = client.get(f"/r/{body['id']}?w=10&h=10", headers=JSON)
            assert_problem(response, 422, "corrupt_image")
            assert file_rows(services) == rows


def test_png_claiming_60000x60000_is_refused_fast_on_upload(client, services, settings):
    started = time.perf_counter()
    response = upload(client, png_claiming(60000, 60000), "bomb.png", w="10", h="10")
    assert time.perf_counter() - started < 2
    assert_problem(response, 422, "image_too_large")
    assert_nothing_stored(services, settings)


def test_png_claiming_60000x60000_is_refused_fast_on_resize(client, services):
    body = upload(client, png_claiming(60000, 60000), "bomb.png").get_json()
    started = time.perf_counter()
    response = client.get(f"/r/{body['id']}?w=10&h=10", headers=JSON)
    assert time.perf_counter() - started < 2
    assert_problem(response, 422, "image_too_large")
    assert file_rows(services) == 1


def test_browser_gets_a_page_for_422(client):
    response = client.post(
        "/",
        data={"file": (io.BytesIO(CORRUPT["truncated png"]), "b.png"), "w": "5", "h": "5"},
        headers=BROWSER,
    )
    assert_problem_page(response, 422)


# --- file names: traversal, NUL, backslashes, huge names ---------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\system32\\evil.txt",
    "C:\\Users\\me\\notes.txt",
    "a\x00b.txt",
    "evil.txt\x00.png",
    "x" * 10_000 + ".txt",
    "é" * 6000 + ".txt",
    "..",
    "\\",
    "line\r\nbreak.txt",
]


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _assert_safe_name(name: str) -> None:
    assert name
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert "\n" not in name
    assert "\r" not in name
    assert not name.startswith(".")
    assert len(name.encode("utf-8")) <= 255


def _assert_written_only_to_storage(tmp_path: Path, before: set[Path], settings) -> None:  # type: ignore[no-untyped-def]
    storage_root = Path(settings.storage_url.removeprefix("file://")).resolve()
    for path in _files_under(tmp_path) - before:
        resolved = path.resolve()
        assert resolved.is_relative_to(storage_root) or resolved.name.startswith("pastefile.db")
        assert "passwd" not in resolved.name and "evil" not in resolved.name


def test_hostile_multipart_names_are_neutralised(client, settings, tmp_path, subtests):
    before = _files_under(tmp_path)
    for n, name in enumerate(HOSTILE_NAMES):
        with subtests.test(name=name[:40]):
            body, content_type = multipart_body(f"hostile content {n}".encode(), name)
            response = client.post("/", data=body, content_type=content_type, headers=JSON)
            assert response.status_code == 201
            _assert_safe_name(response.get_json()["filename"])
            download = client.get(f"/d/{response.get_json()['id']}")
            assert "/" not in download.headers["Content-Disposition"]
    _assert_written_only_to_storage(tmp_path, before, settings)


PUT_PATHS = [
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2F..%2Fetc%2Fpasswd",
    "/..%5C..%5Cevil.txt",
    "/a%00b.txt",
    "/" + "y" * 10_000 + ".txt",
    "/dir/sub/evil.txt",
]


def test_hostile_put_names_are_neutralised(client, settings, tmp_path, subtests):
    before = _files_under(tmp_path)
    for n, path in enumerate(PUT_PATHS):
        with subtests.test(path=path[:40]):
            response = client.put(path, data=f"put content {n}".encode(), headers=JSON)
            assert response.status_code == 201
            card = client.get(response.get_data(as_text=True).strip(), headers=JSON).get_json()
            _assert_safe_name(card["filename"])
    _assert_written_only_to_storage(tmp_path, before, settings)


def test_long_name_keeps_its_extension(client):
    body = upload(client, b"long", "n" * 10_000 + ".txt").get_json()
    assert body["filename"].endswith(".txt")
    assert len(body["filename"].encode()) == 255


# --- 415: configured allow and deny lists ---------------------------------------------------

MZ_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100


@pytest.mark.parametrize("settings_overrides", [{"allowed_types": "image/*, application/pdf"}])
def test_allow_list_refuses_other_types_with_415(client, services, settings):
    # Neither the name nor the declared Content-Type makes text an image.
    response = _post(client, {"file": (io.BytesIO(b"plain words\n"), "a.png", "image/png")})
    assert_problem(response, 415, "unsupported_type")
    assert_nothing_stored(services, settings)
    assert upload(client, image_bytes(), "ok.png").status_code == 201
    assert upload(client, NOT_IMAGES["pdf"], "ok.pdf").status_code == 201


@pytest.mark.parametrize("settings_overrides", [{"denied_types": "text/*"}])
def test_deny_list_refuses_a_type_with_415(client, services, settings):
    assert_problem(upload(client, b"plain words\n", "a.bin"), 415, "unsupported_type")
    assert_problem(client.put("/a.png", data=b"words\n", headers=JSON), 415, "unsupported_type")
    assert_nothing_stored(services, settings)
    assert upload(client, image_bytes(), "ok.png").status_code == 201


def test_executables_are_refused_by_default(client, services, settings):
    assert_problem(upload(client, MZ_EXE, "setup.jpg"), 415, "unsupported_type")
    elf = Path("/bin/ls").read_bytes()[:LIMIT]
    assert_problem(upload(client, elf, "ls.txt"), 415, "unsupported_type")
    assert_nothing_stored(services, settings)


@pytest.mark.parametrize("first_bytes", [b"\xeb\x18\xe1\xa2", b"\xb8\x75\x0e\x06"])
def test_random_bytes_that_look_like_a_dos_opcode_are_not_refused(client, first_bytes):
    # About 1 in 80 encrypted or random files start like this; libmagic calls them
    # "DOS executable (COM)". They are not executables and must upload.
    data = first_bytes + random.Random(first_bytes).randbytes(4000)
    response = upload(client, data, "backup.tar.gpg")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert client.get(f"/i/{response.get_json()['id']}").data == data


def test_browser_gets_a_page_for_415(client):
    response = client.post("/", data={"file": (io.BytesIO(MZ_EXE), "setup.exe")}, headers=BROWSER)
    assert_problem_page(response, 415)


# --- an error never loses what was already stored ----------------------------------------------


def _bad_requests(client, keeper: dict) -> list:  # type: ignore[no-untyped-def]
    ident, data = keeper["id"], keeper["data"]
    return [
        upload(client, data + b"x" * LIMIT, "big.png"),
        client.put("/big.png", data=b"x" * (LIMIT + 1), headers=JSON),
        upload(client, b"", "empty.png"),
        _post(client, {}),
        upload(client, data, "again.png", w="0", h="5"),
        upload(client, data, "again.png", w="5"),
        client.get(f"/r/{ident}?w=-1&h=5", headers=JSON),
        client.get(f"/r/{ident}?w=99999&h=5", headers=JSON),
        upload(client, data[:200], "cut.png", w="5", h="5"),
        upload(client, png_claiming(60000, 60000), "bomb.png", w="5", h="5"),
        upload(client, b"text", "t.txt", w="5", h="5"),
        upload(client, MZ_EXE, "x.exe"),
        client.get(f"/i/{ident}x", headers=JSON),
        client.get(f"/i/{ident}/..", headers=JSON),
        client.put("/%2e%2e/%2e%2e/" + keeper["sha256"], data=b"", headers=JSON),
    ]


def test_errors_never_lose_what_was_stored(client, services, settings):
    data = image_bytes()
    keeper = upload(client, data, "keeper.png").get_json()
    keeper["data"] = data
    statuses = [r.status_code for r in _bad_requests(client, keeper)]
    assert all(400 <= s < 500 for s in statuses), statuses
    assert client.get(f"/i/{keeper['id']}").data == data
    assert client.get(f"/d/{keeper['id']}").data == data
    assert client.get(f"/s/{keeper['url_s'].rsplit('/', 1)[1]}").status_code == 302
    assert len(stored_blobs(settings)) == 1
    assert file_rows(services) == 1
    assert temp_files(settings) == []
