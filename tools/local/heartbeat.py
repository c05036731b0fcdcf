"""Local only: the demo readers the seed puts online keep sending heartbeats, as a reader's
open tab would (``PUT /reader/online`` once a minute), so "Online Now" never empties on
``make run``.

Each beat reads the reader's profile and, through ``presence.set_online`` (the route's own
service):

* an online reader gets a heartbeat (lastSeenAt moves);
* a reader the presence job timed out (offline, lastSeenAt still the one this heartbeat
  wrote: the laptop slept past the timeout), or found offline by the first beat (a
  restart on kept state), goes online again;
* a reader who went offline themselves (``PUT /reader/online`` false moves lastSeenAt) is
  left offline: trying the offline toggle with a demo token works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from tools.local.worker import log, one_line


class DemoHeartbeat(threading.Thread):
    kind = "heartbeat"

    def __init__(self, reader_ids: Iterable[str], stop: threading.Event, *, interval_s: float,
                 clock: Callable[[], datetime] | None = None):
        super().__init__(name="heartbeat:demo-readers", daemon=True)
        self.reader_ids = list(reader_ids)
        self.stop_event = stop
        self.interval_s = interval_s
        self.clock = clock
        self.job = "demo-reader-heartbeat"
        self._written: dict[str, str] = {}  # reader id -> the lastSeenAt this heartbeat wrote

    def run(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - a failing beat must not stop the runner
                log(f"[heartbeat] demo readers failed: {one_line(exc)}")

    def beat(self) -> list[str]:
        """One heartbeat for each demo reader that should be online; returns their ids."""
        from chalicelib.models.readers import ReaderProfile
        from chalicelib.services import presence

        beaten = []
        for reader_id in self.reader_ids:
            try:
                profile = ReaderProfile.get(reader_id, consistent_read=True)
            except ReaderProfile.DoesNotExist:
                continue
            written = self._written.get(reader_id)
            # Offline and untouched since this heartbeat's last write (or never beaten yet: a
            # fresh start brings the seed's online readers back): timed out, not toggled off.
            timed_out = not profile.is_online and (written is None or profile.last_seen_at == written)
            if profile.is_online or timed_out:
                state = presence.set_online(reader_id, True, now=self.clock() if self.clock else None)
                self._written[reader_id] = state.last_seen_at
                beaten.append(reader_id)
        return beaten


def demo_heartbeat(stop: threading.Event) -> DemoHeartbeat:
    """The heartbeat of the seed's online readers, a few beats per presence timeout."""
    from chalicelib.config import get_settings
    from tools.seed import online_reader_ids

    interval = min(60.0, max(1.0, get_settings().reader_presence_timeout_s / 3))
    return DemoHeartbeat(online_reader_ids(), stop, interval_s=interval)
