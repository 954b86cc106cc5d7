"""One crawl shared by workers on several machines: scrapy-redis's scheduler and duplicate filter in one Redis.

`proposals crawl --redis URL` puts the crawl's requests in scrapy-redis's priority queue and its
duplicate filter (the detail pages a crawl asks for, once for all workers) in that Redis, under
one key prefix (`PROPOSALS_REDIS_KEY`, default `proposals`). What scrapy-redis leaves out, and
this module adds:

- an acknowledged frontier: scrapy-redis pops a request (ZRANGE + ZREMRANGEBYRANK) and forgets
  it, so a worker killed with a request in hand would lose it, and its duplicate filter would keep
  anyone from asking for the page again. Here a request is popped *into* the worker's in-flight
  hash in one Lua script, and leaves it only when its page is archived (the pipeline's batch is
  committed) or its answer has been read and its follow-ups queued. A worker writes a heartbeat
  key with a TTL; a worker whose heartbeat has lapsed is dead, and the first live worker to notice
  puts everything it held back on the queue (one script: nothing is requeued twice). A worker
  stopped cleanly (Ctrl-C) puts back what it had not finished;
- seeding once: each site's column pages (and its pages to revalidate) are queued by the one
  worker that claims the site (HSETNX), however many workers are started with it;
- idle stop: a worker stops when the queue is empty and no live worker holds a request (nor is
  seeding) for `PROPOSALS_REDIS_IDLE` seconds;
- politeness for the crawl as a whole (`GatedDownloadHandler`): before a request goes on the wire
  it takes one of the host's `CONCURRENT_REQUESTS_PER_DOMAIN` leases in Redis and waits until the
  host's last request started at least its delay ago (its site's `delay`, else `DOWNLOAD_DELAY`, or the longer delay a
  worker's AutoThrottle or block backoff holds for that host, shared for a while with every
  worker); the lease is given back when the answer is in. Time is Redis's clock (TIME), so the
  machines' clocks do not matter; a lease of a dead worker expires or is taken back with its work;
- per-site counts of pages done, each worker's counts summed for the crawl, and `status()` for
  `proposals crawl --redis URL --status`.

The keys of a crawl are deleted by the last worker to leave it with nothing left to do, so that
the next night's crawl starts afresh (its incremental walks decide again what to fetch).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import pickle
import socket
import time
import uuid
from collections import Counter
from dataclasses import asdict
from typing import Any

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis.scheduler import Scheduler

from .sites import SiteConfig

logger = logging.getLogger(__name__)

DEFAULT_KEY = "proposals"

# pop the best request into the worker's in-flight hash (field: sha1 of the request, value: score:request)
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], redis.sha1hex(r[1]), r[2] .. ':' .. r[1])
return r[1]
"""
# everything a worker held, back on the queue with its priority
_REQUEUE = """
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local v = entries[i + 1]
  local at = string.find(v, ':', 1, true)
  redis.call('ZADD', KEYS[1], string.sub(v, 1, at - 1), string.sub(v, at + 1))
end
redis.call('DEL', KEYS[2])
return #entries / 2
"""
# a detail page: claimed in the duplicate filter and queued in one step, or neither (a replayed list page
# then finds its pages queued, or claims them itself)
_CLAIM_PUSH = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# a host's lease: KEYS leases (zset member -> expiry), next start, shared delay, the worker's leases;
# ARGV member, concurrency, delay, base delay, lease ttl. Returns '0' (taken) or seconds to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return '0.05' end
local delay = tonumber(ARGV[3])
local shared = tonumber(redis.call('GET', KEYS[3]) or '0')
if delay > tonumber(ARGV[4]) then
  redis.call('SET', KEYS[3], ARGV[3], 'PX', math.ceil(delay * 3000))
end
if shared > delay then delay = shared end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < nxt then return string.format('%.6f', nxt - now) end
redis.call('ZADD', KEYS[1], string.format('%.6f', now + tonumber(ARGV[5])), ARGV[1])
redis.call('SET', KEYS[2], string.format('%.6f', now + delay), 'PX', math.ceil(delay * 1000) + 60000)
redis.call('HSET', KEYS[4], ARGV[1], KEYS[1])
return '0'
"""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def site_json(config: SiteConfig) -> str:
    return json.dumps(asdict(config), ensure_ascii=False)


def site_from_json(text: bytes | str) -> SiteConfig:
    data = json.loads(text)
    return SiteConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def _request_site(encoded: bytes) -> str:
    try:
        return str(pickle.loads(encoded).get("meta", {}).get("site") or "?")
    except Exception:  # a request this version cannot read
        return "?"


class Frontier:
    """A crawl's keys in Redis (the prefix `key`), and what any process may do with them."""

    def __init__(self, url: str, key: str = DEFAULT_KEY, *, heartbeat: float = 15.0) -> None:
        import redis

        self.url, self.key, self.heartbeat = url, key, heartbeat
        self.server = redis.Redis.from_url(url)
        self._pop = self.server.register_script(_POP)
        self._requeue = self.server.register_script(_REQUEUE)
        self._claim_push = self.server.register_script(_CLAIM_PUSH)
        self.acquire_script = self.server.register_script(_ACQUIRE)

    def k(self, *parts: str) -> str:
        return ":".join((self.key, *parts))

    @property
    def queue_key(self) -> str:
        return self.k("requests")

    @property
    def dupefilter_key(self) -> str:
        return self.k("dupefilter")

    def ping(self) -> None:
        self.server.ping()

    # --- sites and seeding -----------------------------------------------------------------------

    def claim_site(self, config: SiteConfig) -> bool:
        """True for the one worker that gets to seed this site in this crawl."""
        return bool(self.server.hsetnx(self.k("sites"), config.slug, site_json(config)))

    def sites(self) -> list[SiteConfig]:
        return [site_from_json(v) for _, v in sorted(self.server.hgetall(self.k("sites")).items())]

    def seeding(self, worker: str, busy: bool) -> None:
        (self.server.sadd if busy else self.server.srem)(self.k("seeding"), worker)

    def push(self, encoded: bytes, priority: int) -> None:
        self.server.zadd(self.queue_key, {encoded: -priority})

    def claim_push(self, fingerprint: str, encoded: bytes, priority: int) -> bool:
        """Queue a page no worker of the crawl has asked for (scrapy-redis's duplicate filter), atomically."""
        keys = [self.dupefilter_key, self.queue_key]
        return bool(self._claim_push(keys=keys, args=[fingerprint, -priority, encoded]))

    # --- workers ---------------------------------------------------------------------------------

    def join(self, worker: str) -> None:
        self.server.hset(self.k("workers"), worker, json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                                                                "since": time.time()}))
        self.server.incr(self.k("joined"))
        self.beat(worker)

    def beat(self, worker: str) -> None:
        self.server.set(self.k("alive", worker), "1", px=int(self.heartbeat * 1000))

    def alive(self, worker: str) -> bool:
        return bool(self.server.exists(self.k("alive", worker)))

    def workers(self) -> list[str]:
        return sorted(w.decode() for w in self.server.hkeys(self.k("workers")))

    def pop(self, worker: str) -> bytes | None:
        return self._pop(keys=[self.queue_key, self.k("inflight", worker)])

    def requeue(self, worker: str) -> int:
        """Everything `worker` held goes back on the queue; its leases are given back."""
        count = int(self._requeue(keys=[self.queue_key, self.k("inflight", worker)]) or 0)
        for member, leases in self.server.hgetall(self.k("leases", worker)).items():
            self.server.zrem(leases, member)
        self.server.delete(self.k("leases", worker))
        return count

    def reap(self, me: str | None = None) -> int:
        """Put back the work of workers whose heartbeat has lapsed; how many requests went back."""
        back = 0
        for worker in self.workers():
            if worker != me and not self.alive(worker):
                moved = self.requeue(worker)
                self.server.hdel(self.k("workers"), worker)
                self.server.srem(self.k("seeding"), worker)
                self.server.incr(self.k("left"))
                if moved:
                    logger.warning("worker %s is gone: %d of its requests are back on the queue", worker, moved)
                back += moved
        return back

    def leave(self, worker: str) -> int:
        back = self.requeue(worker)
        self.server.hdel(self.k("workers"), worker)
        self.server.srem(self.k("seeding"), worker)
        self.server.delete(self.k("alive", worker))
        return back

    def pending(self) -> int:
        """Requests queued or held by live workers, and live workers still seeding."""
        held = sum(self.server.hlen(self.k("inflight", w)) for w in self.workers())
        seeding = sum(1 for w in self.server.smembers(self.k("seeding")) if self.alive(w.decode()))
        return int(self.server.zcard(self.queue_key)) + held + seeding

    # --- what was done ---------------------------------------------------------------------------

    def ack(self, worker: str, key: str, site: str) -> None:
        pipe = self.server.pipeline()
        pipe.hdel(self.k("inflight", worker), key)
        pipe.hincrby(self.k("done"), site, 1)
        pipe.execute()

    def handed_back(self, worker: str, key: str) -> None:
        self.server.hdel(self.k("inflight", worker), key)

    def walk_ended(self, column: str, how: str, total: int | None) -> None:
        self.server.hset(self.k("walks"), column, json.dumps({"ended": how, "total": total}))

    def walks(self) -> dict[str, dict]:
        return {k.decode(): json.loads(v) for k, v in self.server.hgetall(self.k("walks")).items()}

    def column_problem(self, column: str) -> None:
        self.server.hincrby(self.k("problems"), column, 1)

    def column_problems(self) -> Counter:
        return Counter({k.decode(): int(v) for k, v in self.server.hgetall(self.k("problems")).items()})

    def add_counts(self, per_site: dict[str, Counter]) -> None:
        pipe = self.server.pipeline()
        for slug, counts in per_site.items():
            for name, value in counts.items():
                if value:
                    pipe.hincrby(self.k("counts"), f"{slug}\t{name}", int(value))
        pipe.incr(self.k("finished"))
        pipe.incr(self.k("left"))
        pipe.execute()

    def counts(self) -> dict[str, Counter]:
        per_site: dict[str, Counter] = {}
        for field, value in self.server.hgetall(self.k("counts")).items():
            slug, _, name = field.decode().partition("\t")
            per_site.setdefault(slug, Counter())[name] = int(value)
        return per_site

    def finished_workers(self) -> int:
        return int(self.server.get(self.k("finished")) or 0)

    def clear_if_done(self) -> bool:
        """Delete the crawl's keys if every process that joined has left it (finished, seeded only, or
        found dead) and nothing is queued."""
        if self.server.hlen(self.k("workers")) or self.server.zcard(self.queue_key):
            return False
        if int(self.server.get(self.k("left")) or 0) < int(self.server.get(self.k("joined")) or 0):
            return False
        self.clear()
        return True

    def clear(self) -> None:
        keys = list(self.server.scan_iter(match=self.key + ":*", count=500))
        for start in range(0, len(keys), 500):
            self.server.delete(*keys[start:start + 500])

    def status(self) -> dict[str, Any]:
        """The frontier for the operator: per site queued, in flight, done; the workers."""
        queued: Counter = Counter(_request_site(m) for m in self.server.zrange(self.queue_key, 0, -1))
        in_flight: Counter = Counter()
        workers = []
        for worker in self.workers():
            held = self.server.hvals(self.k("inflight", worker))
            in_flight.update(_request_site(v.split(b":", 1)[1]) for v in held)
            workers.append({"worker": worker, "alive": self.alive(worker), "in_flight": len(held)})
        done = {k.decode(): int(v) for k, v in self.server.hgetall(self.k("done")).items()}
        sites = sorted(set(queued) | set(in_flight) | set(done)
                       | {s.decode() for s in self.server.hkeys(self.k("sites"))})
        return {"key": self.key, "workers": workers,
                "sites": [{"site": s, "queued": queued[s], "in_flight": in_flight[s], "done": done.get(s, 0)}
                          for s in sites]}


class SharedCrawl:
    """This worker's part in a shared crawl (made by the runner, kept by the CrawlState)."""

    def __init__(self, frontier: Frontier, *, idle: float) -> None:
        self.frontier = frontier
        self.worker = worker_name()
        self.idle = idle
        self.seed_slugs: set[str] = set()
        self.crawl_counts: dict[str, Counter] = {}   # the whole crawl's, read when this worker closes
        self.finished_workers = 0
        from scrapy_redis.dupefilter import RFPDupeFilter

        self.dupefilter = RFPDupeFilter(frontier.server, frontier.dupefilter_key)

    def push(self, request: Request, encoded: bytes) -> bool:
        """Queue a request; a detail page (`meta["claim"]`) only if no worker of the crawl asked for it yet,
        claimed in scrapy-redis's duplicate filter in the same step, so that a list page replayed after
        its worker died finds each of its pages queued or unclaimed, never claimed and lost."""
        if request.meta.get("claim"):
            return self.frontier.claim_push(self.dupefilter.request_fingerprint(request), encoded, request.priority)
        self.frontier.push(encoded, request.priority)
        return True

    def ack(self, key: str | None, site: str) -> None:
        if key:
            self.frontier.ack(self.worker, key, site)


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler, with requests popped into this worker's in-flight hash (see the module)."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.idle_since = None
        scheduler.beating = None
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider):
        super().open(spider)
        self.shared: SharedCrawl = spider.state.shared
        self.frontier = self.shared.frontier
        from twisted.internet import task

        self.beating = task.LoopingCall(self._beat)
        self.beating.start(max(self.frontier.heartbeat / 3, 0.2), now=False)

    def _beat(self) -> None:
        try:
            self.frontier.beat(self.shared.worker)
            self.frontier.reap(self.shared.worker)
        except Exception as error:  # Redis away for a moment: the next beat tries again
            logger.warning("heartbeat to Redis failed: %s", error)

    def close(self, reason):
        if self.beating is not None and self.beating.running:
            self.beating.stop()
        back = self.frontier.leave(self.shared.worker)
        if back:
            logger.info("put %d unfinished requests back on the shared queue", back)

    def enqueue_request(self, request):
        key = request.meta.pop("frontier_key", None)  # a retry or a redirect of a request this worker held
        if key:
            request.meta.pop("claim", None)  # claimed when it was first queued
        queued = self.shared.push(request, self.queue._encode_request(request))
        if queued and self.stats:
            self.stats.inc_value("scheduler/enqueued/redis", spider=self.spider)
        if key:
            self.frontier.handed_back(self.shared.worker, key)
        return queued

    def next_request(self):
        encoded = self.frontier.pop(self.shared.worker)
        if encoded is None:
            return None
        request = self.queue._decode_request(encoded)
        request.meta["frontier_key"] = hashlib.sha1(encoded).hexdigest()
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis", spider=self.spider)
        return request

    def spider_idle(self, spider) -> None:
        """Nothing to do here: flush the archive's batch, then wait for work until the frontier stays empty."""
        for hook in spider.state.idle_hooks:
            hook()
        self.frontier.reap(self.shared.worker)
        left = self.frontier.server.hlen(self.frontier.k("inflight", self.shared.worker))
        if left:  # idle, yet holding requests: nothing will answer them
            logger.warning("%d requests held but never answered; dropped", left)
            self.frontier.server.delete(self.frontier.k("inflight", self.shared.worker))
        now = time.monotonic()
        if self.frontier.pending():
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now
        if self.idle_since is not None and now - self.idle_since >= self.shared.idle:
            logger.info("the shared frontier has been empty for %.0f s: stopping", now - self.idle_since)
            return
        self._poll_soon()
        raise DontCloseSpider

    def _poll_soon(self) -> None:
        """Look at the queue again in a moment (Scrapy's own heartbeat would wait 5 s)."""
        from twisted.internet import reactor

        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            reactor.callLater(0.25, nextcall.schedule)


class GatedDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP handler, behind the crawl-wide gate of each host (see the module)."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._crawler = crawler
        settings = crawler.settings
        self.concurrency = max(settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), 1)
        self.base_delay = settings.getfloat("DOWNLOAD_DELAY")
        self.slots = settings.getdict("DOWNLOAD_SLOTS")  # a site's own delay, on each of its hosts
        self.ttl = settings.getfloat("DOWNLOAD_TIMEOUT") + 30
        self.counter = 0

    def _base(self, request: Request) -> float:
        return float(self.slots.get(request.meta.get("download_slot"), {}).get("delay", self.base_delay))

    def _delay(self, request: Request) -> float:
        downloader = self._crawler.engine.downloader
        slot = downloader.slots.get(request.meta.get("download_slot"))
        return max(self._base(request), slot.delay if slot is not None else 0.0)

    async def download_request(self, request: Request, spider=None):
        state = getattr(self._crawler.spider, "state", None)
        shared = getattr(state, "shared", None)
        if shared is None:
            return await super().download_request(request)
        frontier, netloc = shared.frontier, urlparse_cached(request).netloc.lower()
        self.counter += 1
        member = f"{shared.worker}:{self.counter}"
        keys = [frontier.k("gate", netloc, "leases"), frontier.k("gate", netloc, "next"),
                frontier.k("gate", netloc, "delay"), frontier.k("leases", shared.worker)]
        while True:
            wait = float(frontier.acquire_script(keys=keys, args=[member, self.concurrency, self._delay(request),
                                                                  self._base(request), self.ttl]))
            if wait <= 0:
                break
            await asyncio.sleep(min(wait, 1.0))
        try:
            return await super().download_request(request)
        finally:
            pipe = frontier.server.pipeline()
            pipe.zrem(keys[0], member)
            pipe.hdel(keys[3], member)
            pipe.execute()


def redis_settings(url: str, key: str) -> dict[str, Any]:
    """The Scrapy settings of a worker of the crawl `key` in the Redis at `url`."""
    return {
        "SCHEDULER": "crawler.shared.SharedScheduler",
        "SCHEDULER_PERSIST": True,                   # the queue is the crawl's, not this worker's
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{key}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{key}:dupefilter",
        "SCHEDULER_SERIALIZER": "scrapy_redis.picklecompat",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": url,
        "DOWNLOAD_HANDLERS": {"http": "crawler.shared.GatedDownloadHandler",
                              "https": "crawler.shared.GatedDownloadHandler"},
    }


__all__ = ["DEFAULT_KEY", "Frontier", "GatedDownloadHandler", "SharedCrawl", "SharedScheduler", "redis_settings"]
