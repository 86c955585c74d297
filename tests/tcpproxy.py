"""A small TCP proxy on loopback that can misbehave on purpose, for the fault tests.

It sits between the service and the test Dovecot and forwards bytes both ways,
unchanged (TLS passes through end to end, so certificates are still checked
against the real server's). On demand it:

- ``drop()``: closes every open connection at once, as a router reset does;
- ``cut_after(n)``: closes the next connection whose server side has sent more
  than ``n`` bytes, which, with ``n`` past the greeting and login, lands in the
  middle of a FETCH answer; ``cut_after(b"...")`` closes it right after the server
  has sent those bytes (in plain IMAP: a word of a message's text);
- ``stall()``: stops forwarding on the connections open now (they stay open and
  silent, a server that stops answering) while new connections work normally;
- ``refuse(True)``: closes every new connection at once, as a server that is down.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    client: socket.socket
    server: socket.socket
    stalled: threading.Event = field(default_factory=threading.Event)
    from_server: int = 0
    tail: bytes = b""  # the end of what the server sent, to find a cut_after pattern

    def close(self) -> None:
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class Proxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.links: set[_Link] = set()
        self.lock = threading.Lock()
        self.cuts = 0  # connections closed by cut_after
        self.from_server = 0  # bytes the server sent, over every connection
        self.connections = 0
        self._cut_at: int | bytes | None = None
        self._refusing = False
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    # --- the faults ---------------------------------------------------------------

    def drop(self) -> int:
        with self.lock:
            links, self.links = self.links, set()
        for link in links:
            link.close()
        return len(links)

    def cut_after(self, where: int | bytes) -> None:
        with self.lock:
            self._cut_at = where

    def stall(self) -> int:
        with self.lock:
            for link in self.links:
                link.stalled.set()
            return len(self.links)

    def refuse(self, refusing: bool) -> None:
        with self.lock:
            self._refusing = refusing

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self.drop()

    # --- forwarding ------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                refusing = self._refusing
            if refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(client, server)
            with self.lock:
                self.links.add(link)
                self.connections += 1
            threading.Thread(target=self._pump, args=(link, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, False), daemon=True).start()

    def _pump(self, link: _Link, upstream: bool) -> None:
        source, sink = (link.client, link.server) if upstream else (link.server, link.client)
        try:
            while data := source.recv(65536):
                if link.stalled.is_set():
                    continue  # swallowed: the other side hears nothing more
                cut = False if upstream else self._cut(link, data)
                sink.sendall(data if cut is False else data[:cut])
                if cut is not False:
                    break
        except OSError:
            pass
        with self.lock:
            self.links.discard(link)
        link.close()

    def _cut(self, link: _Link, data: bytes) -> int | bool:
        """False to forward ``data`` whole, or how much of it to forward before the cut."""
        with self.lock:
            link.from_server += len(data)
            self.from_server += len(data)
            where = self._cut_at
            if where is None:
                return False
            if isinstance(where, int):
                if link.from_server <= where:
                    return False
                end = len(data)
            else:
                seen = link.tail + data
                at = seen.find(where)
                if at < 0:
                    link.tail = seen[-len(where):]
                    return False
                end = at + len(where) - len(link.tail)
            self._cut_at = None
            self.cuts += 1
            return end
