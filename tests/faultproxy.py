"""A loopback TCP proxy that a test can cut, stall and heal.

It forwards raw bytes, so TLS passes through untouched: the client still checks
the server's certificate by node id, not by the address it dialled. Each
connection gets two pump threads; :meth:`FaultProxy.drop` resets every open
connection (and can turn new ones away for a while), :meth:`FaultProxy.stall`
keeps connections open but stops moving bytes, :meth:`FaultProxy.heal` undoes
both.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from types import TracebackType

__all__ = ["FaultProxy"]

_CHUNK = 64 * 1024


class FaultProxy:
    """Listens on 127.0.0.1 (a free port) and forwards every connection to ``target``."""

    def __init__(self, target: str) -> None:
        """Prepare a proxy to ``target`` ("host:port"); call :meth:`start`."""
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._flowing = threading.Event()  # cleared while stalled
        self._flowing.set()
        self._refuse_until = 0.0
        self._closed = threading.Event()
        self.connections = 0  # accepted and forwarded
        self.refused = 0  # accepted and reset at once while refusing
        self.bytes_forwarded = 0

    @property
    def address(self) -> str:
        """host:port clients should dial."""
        host, port = self._listener.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> FaultProxy:
        """Accept connections in a background thread."""
        threading.Thread(target=self._accept_loop, name="proxy-accept", daemon=True).start()
        return self

    def drop(self, *, refuse_s: float = 0.0) -> None:
        """Reset every open connection; turn new ones away for ``refuse_s`` seconds."""
        with self._lock:
            self._refuse_until = time.monotonic() + refuse_s
            victims, self._open = self._open, set()
        for sock in victims:
            _cut(sock)

    def stall(self) -> None:
        """Keep connections open (and accept new ones) but forward no bytes."""
        self._flowing.clear()

    def heal(self) -> None:
        """Forward again and accept new connections."""
        with self._lock:
            self._refuse_until = 0.0
        self._flowing.set()

    def close(self) -> None:
        """Stop accepting and reset every connection."""
        self._closed.set()
        self._flowing.set()  # let stalled pumps run into their closed sockets
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop; close alone would not
        self._listener.close()
        self.drop()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            if not self._refusing():
                self._connect(client)
                continue
            with self._lock:
                self.refused += 1
            _reset(client)

    def _refusing(self) -> bool:
        return time.monotonic() < self._refuse_until

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._target, timeout=5)
        except OSError:
            _reset(client)  # the target is down: the client sees a refused connection
            return
        upstream.settimeout(None)
        with self._lock:
            admitted = not self._refusing()  # a drop() may have come while connecting
            if admitted:
                self._open.update((client, upstream))
                self.connections += 1
        if not admitted:
            _reset(client)
            _reset(upstream)
            return
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), name="proxy-pump", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                self._flowing.wait()  # a stall holds the bytes here, with the connection open
                if self._closed.is_set():
                    break
                sink.sendall(data)
                with self._lock:
                    self.bytes_forwarded += len(data)
        except OSError:
            pass  # one side was cut or closed
        # cutting both wakes the other pump; each pump closes the socket it read from
        with self._lock:
            self._open.difference_update((source, sink))
        _cut(sink)
        _cut(source)
        source.close()


def _cut(sock: socket.socket) -> None:
    """End a connection now (a reset on close) and wake any thread blocked on it; the owner closes it."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)


def _reset(sock: socket.socket) -> None:
    """Close a connection no pump owns, with a TCP reset."""
    _cut(sock)
    sock.close()
