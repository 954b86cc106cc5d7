"""Loopback replicas of the publishing platforms, speaking their real protocols on 127.0.0.1.

The crawler's tests crawl them instead of real government hosts, and `proposals demo` crawls a
small bundled one (replica/demo/) so that a first run works anywhere, offline.

- `Replica` (replica/hanweb.py): a Hanweb JPaaS or jpage site from a site folder;
- `StaticReplica` (replica/static.py): a static TRS WCM site from a site folder;
- `Fault`, `Logged` (replica/server.py, what every replica shares): what to answer instead, what was
  asked; `Variant`: how a never-seen Hanweb site differs from its fixture.
"""

from replica.hanweb import Replica, Variant, copies, sites_toml
from replica.server import BLOCKS, Fault, Logged
from replica.static import StaticReplica

__all__ = ["BLOCKS", "Fault", "Logged", "Replica", "StaticReplica", "Variant", "copies", "sites_toml"]
