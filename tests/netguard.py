"""No traffic but loopback: name lookups and connections to anything else are refused and written down.

Installed first thing in the crawl subprocesses of the tests (see crawlkit.proposals_command):

    python -c "import netguard; netguard.install('attempts.txt'); …"

Every refused lookup or connection is appended to the file, so a test can assert that a crawl
reached nothing but the replicas on 127.0.0.1 (a crawl whose site cannot be resolved is the
offline machine: its own host is the only name it may ask for).
"""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


def _loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install(record: str) -> None:
    def note(what: str) -> None:
        with open(record, "a", encoding="utf-8") as file:
            file.write(what + "\n")

    def guard_lookup(real):
        def lookup(host, *args, **kwargs):
            if host is not None and not _loopback(host):
                note(f"lookup {host}")
                raise socket.gaierror(socket.EAI_NONAME, f"tests make no name lookups ({host})")
            return real(host, *args, **kwargs)
        return lookup

    def guard_connect(real):
        def connect(self, address):
            if isinstance(address, tuple) and not _loopback(address[0]):
                note(f"connect {address[0]}:{address[1]}")
                raise ConnectionRefusedError(f"tests connect to loopback only ({address[0]})")
            return real(self, address)
        return connect

    socket.getaddrinfo = guard_lookup(socket.getaddrinfo)
    socket.gethostbyname = guard_lookup(socket.gethostbyname)
    socket.gethostbyname_ex = guard_lookup(socket.gethostbyname_ex)
    socket.socket.connect = guard_connect(socket.socket.connect)
    socket.socket.connect_ex = guard_connect(socket.socket.connect_ex)
