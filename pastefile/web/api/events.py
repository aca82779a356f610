"""``/api/v1/events``: the WebSocket of live job and file events.

The session authenticates browsers; other clients send a token, as
``Authorization`` or, since browsers cannot set headers here, ``?access_token=``.
Users get their own events, operators everyone's; a ping every 15 s keeps
proxies from closing an idle socket.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint
from flask_sock import Sock

from pastefile.errors import PasteFileError
from pastefile.jobs.service import sees_every_job
from pastefile.web.auth import JOBS, admit, same_origin
from pastefile.web.context import services

bp = Blueprint("events", __name__)
sock = Sock()
_PING_SECONDS = 15.0


@sock.route("/api/v1/events", bp=bp)  # type: ignore[untyped-decorator]
def events(ws: Any) -> None:
    try:
        who = admit("read", JOBS)
    except PasteFileError as exc:
        ws.close(reason=1008, message=exc.detail[:120])
        return
    if who.token_id is None and not same_origin():
        # A page on another site may not ride on this browser's session cookie.
        ws.close(reason=1008, message="this socket is for pages of this site")
        return
    bus = services().events
    subscription = bus.subscribe(who.user_id, sees_every_job(who))
    try:
        ws.send(orjson.dumps({"type": "hello", "user_id": who.user_id}).decode())
        while ws.connected:
            event = subscription.get(timeout=_PING_SECONDS)
            ws.send(orjson.dumps(event or {"type": "ping"}).decode())
    finally:
        subscription.close()
