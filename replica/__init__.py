"""Loopback replicas of the publishing platforms, speaking their real protocols on 127.0.0.1.

The crawler's tests crawl them instead of real government hosts, and `proposals demo` crawls a
small bundled one (replica/demo/) so that a first run works anywhere, offline.

- `Replica` (replica/hanweb.py): a Hanweb JPaaS or jpage site from a site folder;
- `StaticReplica` (replica/static.py): a static TRS WCM site from a site folder;
- `Fault`, `Variant`, `Logged`: what to answer instead, how a never-seen site differs, what was asked.
"""

from replica.hanweb import BLOCKS, Fault, Logged, Replica, Variant, copies, sites_toml
from replica.static import StaticReplica

__all__ = ["BLOCKS", "Fault", "Logged", "Replica", "StaticReplica", "Variant", "copies", "sites_toml"]
