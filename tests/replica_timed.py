"""Replicas that answer slowly, as county servers do, and write down when each request began and ended.

    with TimedReplica(FIXTURES / "haidao", latency=0.5) as site:
        ...
        site.spans()             # [(start, end), …] in time.monotonic(), one per request
        site.max_concurrency()   # the most requests the host was answering at one instant

A request's span runs from its arrival to the moment its answer is about to be written (after the
replica's `latency`), so two spans overlap only where the host was working on both at once.
Self-contained on top of tests/replica.py: the handler is wrapped, nothing of it changes.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time

from replica import Replica


class TimedReplica(Replica):
    def __init__(self, *args, latency: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.latency = latency
        self._spans: list[tuple[float, float, str]] = []
        self._spans_lock = threading.Lock()
        replica = self
        base = self._server.RequestHandlerClass

        class Timed(base):
            def _serve(self, method: str) -> None:
                self._began = time.monotonic()
                self._ended = None
                try:
                    super()._serve(method)
                finally:
                    with replica._spans_lock:
                        replica._spans.append((self._began, self._ended or time.monotonic(), self.path))

            def _send(self, *args, **kwargs) -> int:
                if replica.latency:
                    time.sleep(replica.latency)
                self._ended = time.monotonic()  # the answer leaves now: the host is done with it
                return super()._send(*args, **kwargs)

        self._server.RequestHandlerClass = Timed
        reported = self._server.handle_error

        def handle_error(request, client_address) -> None:  # a client killed mid-answer is no error of ours
            if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
                reported(request, client_address)

        self._server.handle_error = handle_error

    def spans(self) -> list[tuple[float, float, str]]:
        with self._spans_lock:
            return sorted(self._spans)

    def max_concurrency(self) -> int:
        """The most requests whose spans overlap at one instant (an end before a start at the same instant)."""
        events = sorted([(start, 1) for start, _, _ in self.spans()] + [(end, -1) for _, end, _ in self.spans()],
                        key=lambda event: (event[0], event[1]))
        most = now = 0
        for _, step in events:
            now += step
            most = max(most, now)
        return most

    def min_gap(self) -> float | None:
        """The shortest time between the starts of two requests to this host."""
        starts = [start for start, _, _ in self.spans()]
        return min((b - a for a, b in itertools.pairwise(starts)), default=None)


__all__ = ["TimedReplica"]
