"""A threaded Thrift server for ``PasteFileService``: one thread per connection."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any

import click
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.server import TThreadedServer
from thriftpy2.thrift import TProcessor
from thriftpy2.transport import (
    TBufferedTransportFactory,
    TServerSocket,
    TSocket,
    TTransportException,
)

from pastefile.composition import Services, build_services
from pastefile.config import Settings
from pastefile.db import migrate
from pastefile.logging_setup import configure_logging
from pastefile.rpc.handler import DEFAULT_BASE_URL, PasteFileHandler
from pastefile.rpc.schema import idl

log = logging.getLogger(__name__)

# Longer than the client pool's idle age, so clients drop idle connections first.
IDLE_TIMEOUT_SECONDS = 300


class _ServerSocket(TServerSocket):  # type: ignore[misc]
    """thriftpy2's server socket without SO_REUSEPORT.

    With it a second server on a busy port would silently share the port
    (and split the calls) instead of failing to start.
    """

    def _init_sock(self) -> None:
        sock = socket.socket(self.socket_family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock = sock

    def accept(self) -> TSocket:
        sock = self.sock
        if sock is None:
            raise OSError("the server socket is closed")
        client, _ = sock.accept()
        client.settimeout(self.client_timeout)
        return TSocket(sock=client)  # type: ignore[no-untyped-call]


class RpcServer(TThreadedServer):  # type: ignore[misc]
    def __init__(
        self,
        handler: PasteFileHandler,
        host: str = "127.0.0.1",
        port: int = 8200,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    ) -> None:
        trans = _ServerSocket(  # type: ignore[no-untyped-call]
            host=host, port=port, client_timeout=int(idle_timeout * 1000)
        )
        super().__init__(
            TProcessor(idl.PasteFileService, handler),
            trans,
            itrans_factory=TBufferedTransportFactory(),
            iprot_factory=TBinaryProtocolFactory(),  # type: ignore[no-untyped-call]
            daemon=True,
        )
        self.handler = handler
        self.host = host

    @property
    def port(self) -> int:
        sock = self.trans.sock
        assert sock is not None, "call bind() first"
        return int(sock.getsockname()[1])

    def bind(self) -> int:
        """Listen now (port 0 picks a free one) and return the port."""
        if self.trans.sock is None:
            self.trans.listen()  # type: ignore[no-untyped-call]
        return self.port

    def serve(self) -> None:
        self.bind()
        while not self.closed:
            try:
                client = self.trans.accept()  # type: ignore[no-untyped-call]
            except OSError:
                if self.closed:
                    return
                log.exception("rpc: accept failed")
                continue
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client: Any) -> None:
        itrans = self.itrans_factory.get_transport(client)
        iprot = self.iprot_factory.get_protocol(itrans)
        try:
            while not self.closed:
                self.processor.process(iprot, iprot)
        except TTransportException:
            pass  # the client hung up
        except OSError as exc:
            log.debug("rpc connection closed: %s", exc)  # reset or idle timeout
        except Exception:
            # Garbage or a protocol mismatch: this connection goes, the server stays.
            log.warning("rpc: dropped a connection after a protocol error", exc_info=True)
        finally:
            itrans.close()

    def close(self) -> None:
        self.closed = True
        # Closing the listening socket wakes the accept() in serve().
        self.trans.close()  # type: ignore[no-untyped-call]


def run(settings: Settings, host: str, port: int) -> None:
    """``pastefile rpc``: serve until SIGINT or SIGTERM."""
    configure_logging(settings.log_level, settings.log_dir)
    services = build_services(settings)
    _prepare(services)
    server = RpcServer(PasteFileHandler(services), host, port)
    server.bind()
    signal.signal(signal.SIGTERM, _exit)
    click.echo(f"pastefile rpc ({settings.app_env}) on {host}:{server.port}", err=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        services.close()


def _prepare(services: Services) -> None:
    # As `pastefile serve` does: the embedded SQLite database migrates itself.
    if services.db.is_sqlite:
        migrate.upgrade(services.db)
    services.health.require_ready()
    if not services.settings.base_url:
        log.warning("PASTEFILE_BASE_URL is not set; RPC links use %s", DEFAULT_BASE_URL)


def _exit(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)
