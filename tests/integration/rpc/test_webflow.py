"""The book's chapter-10 web flow: a web app that stores uploads through RPC.

The web app asks the RPC service where to put the file (``get_file_info``),
writes the bytes there, then registers them (``create``). pastefile's own
routes call the service layer in-process, so no product route takes this
detour; the book's view is mounted on the real app here instead, and talks to
a real RPC server over TCP (see docs/rpc.md).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask, current_app, jsonify, request
from flask.testing import FlaskClient
from PIL import Image

from pastefile.composition import Services
from pastefile.rpc.client import PasteFileClient
from pastefile.rpc.schema import idl
from pastefile.web import create_app
from tests.support.images import image_bytes
from tests.support.rpc import rpc_server

book = Blueprint("book_rpc", __name__)


@book.put("/via-rpc/<filename>")
def upload_via_rpc(filename: str) -> Any:
    """The book's upload view, with the storage behind the RPC service."""
    rpc: PasteFileClient = current_app.extensions["rpc_client"]
    width, height = request.args.get("w", type=int), request.args.get("h", type=int)
    try:
        created = rpc.upload(request.stream, filename, request.mimetype, width, height)
    except (idl.ImageNotSupported, idl.UploadImageError) as exc:
        return jsonify(error=exc.message), 415 if isinstance(exc, idl.ImageNotSupported) else 400
    fields = [spec[1] for spec in idl.PasteFile.thrift_spec.values()]
    return jsonify({name: getattr(created, name) for name in fields}), 201


@pytest.fixture
def web(services: Services) -> Iterator[FlaskClient]:
    with rpc_server(services) as server:
        app: Flask = create_app(services=services)
        app.register_blueprint(book)
        app.extensions["rpc_client"] = PasteFileClient("127.0.0.1", server.port, retries=1)
        yield app.test_client()
        app.extensions["rpc_client"].close()


def test_the_web_app_stores_an_upload_through_the_rpc_service(web):
    response = web.put("/via-rpc/cat.png?w=20&h=10", data=image_bytes(size=(64, 48)))
    assert response.status_code == 201
    card = response.get_json()
    assert card["image_size"] == [20, 10]
    assert card["size_humanize"].endswith(("bytes", "kB"))
    # The same web app serves what the RPC service registered.
    raw = web.get(card["url_i"].removeprefix("http://files.test"))
    assert raw.status_code == 200
    assert Image.open(io.BytesIO(raw.data)).size == (20, 10)
    preview = web.get(card["url_p"].removeprefix("http://files.test"), headers={"Accept": "*/*"})
    assert preview.get_json()["sha256"] == card["filehash"]


def test_the_web_flow_dedups_and_relays_refusals(web):
    first = web.put("/via-rpc/a.txt", data=b"same bytes\n" * 10).get_json()
    second = web.put("/via-rpc/b.txt", data=b"same bytes\n" * 10).get_json()
    assert second["id"] == first["id"]
    refused = web.put("/via-rpc/a.txt?w=5&h=5", data=b"not an image")
    assert refused.status_code == 415
    assert "not_an_image" in refused.get_json()["error"]
