"""The per-container cache behind the catalog slices and the online overlay: one load per
TTL, whatever the number of requests or threads asking at once."""

from __future__ import annotations

import threading

from chalicelib.ttl_cache import TtlCache


def test_a_value_is_loaded_once_per_ttl_and_again_after_forget():
    now = [100.0]
    loads: list[int] = []
    cache = TtlCache(lambda: loads.append(1) or len(loads), 60.0, clock=lambda: now[0])

    assert [cache.get(), cache.get()] == [1, 1]
    now[0] += 59.9
    assert cache.get() == 1
    now[0] += 0.1
    assert cache.get() == 2
    cache.forget()
    assert cache.get() == 3


def test_threads_asking_at_once_share_one_load():
    gate = threading.Barrier(8)
    loads: list[int] = []
    release = threading.Event()

    def load() -> int:
        loads.append(1)
        release.wait(5)
        return 42

    cache = TtlCache(load, 60.0)
    results: list[int] = []

    def ask() -> None:
        gate.wait()
        results.append(cache.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    assert results == [42] * 8 and len(loads) == 1
