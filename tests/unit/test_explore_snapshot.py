"""The explore read model against moto: the snapshot build (calls grow with pages, not
readers), its stored form, the per-container store with its conditional re-check, the
freshness marker and its schedules, and the online overlay."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.calls import aws_calls
from tests.support.explore import many, reader

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture()
def explore(aws: None, default_catalog: None) -> Any:
    from chalicelib.services.explore import service

    service.forget_cached()
    yield
    service.forget_cached()


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    from chalicelib.services.explore import overlay, store

    moment = [1000.0]
    monkeypatch.setattr(store, "monotonic", lambda: moment[0])
    monkeypatch.setattr(overlay, "monotonic", lambda: moment[0])
    return moment


# --- the build -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("explore")
def test_the_build_batch_gets_users_a_hundred_at_a_time():
    from chalicelib.services.explore import snapshot

    ids = many(250)
    with aws_calls() as calls:
        built = snapshot.build(now=NOW)
    operations = Counter(op for _service, op in calls)
    assert sorted(card["id"] for card in built.cards) == ids
    assert operations["BatchGetItem"] == 3  # ceil(250 / 100), never a GetItem per reader
    assert operations["GetItem"] == 0
    assert 1 <= operations["Query"] <= 3  # the byStatus pages (and the cached time spans once)
    assert built.built_at == "2026-12-01T12:00:00.000Z"


@pytest.mark.usefixtures("explore")
def test_the_snapshot_leaves_out_every_reader_without_a_card():
    from chalicelib.services.explore import snapshot

    reader("shown")
    reader("pending", status="pending")
    reader("declined", status="declined")
    reader("suspended", status="suspended")
    reader("user-suspended", user_status="suspended")
    reader("user-deleted", user_status="deleted")
    reader("demoted", role="client")
    reader("hidden", show_online=False, online=True)
    built = snapshot.build(now=NOW)
    assert sorted(card["id"] for card in built.cards) == ["hidden", "shown"]
    assert built.hidden_presence == frozenset({"hidden"})


@pytest.mark.usefixtures("explore")
def test_a_private_profile_is_not_in_the_snapshot():
    from chalicelib.services.explore import snapshot

    reader("private", visibility="private")
    reader("members", visibility="readers_only")
    built = snapshot.build(now=NOW)
    assert [card["id"] for card in built.cards] == ["members"]
    assert built.cards[0]["visibility"] == "readers_only"


def test_the_stored_form_round_trips_and_refuses_other_formats():
    import gzip

    from chalicelib.services.explore import snapshot

    built = snapshot.Built(built_at="2026-12-01T12:00:00.000Z", cards=[{"id": "a", "displayName": "Ä"}, {"id": "b"}],
                           hidden_presence=frozenset({"b"}))
    again = snapshot.parse(snapshot.serialize(built))
    assert again == built
    with pytest.raises(snapshot.SnapshotFormatError):
        snapshot.parse(gzip.compress(b'{"format": 99, "builtAt": "x", "count": 0}'))
    with pytest.raises(snapshot.SnapshotFormatError):
        snapshot.parse(gzip.compress(b'{"format": 1, "builtAt": "x", "count": 2}\n{"id": "a"}'))
    with pytest.raises(snapshot.SnapshotFormatError):
        snapshot.parse(b"not gzip")


# --- the store ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("explore")
def test_a_fresh_stack_builds_once_then_rechecks_s3_at_most_every_minute(clock):
    from chalicelib.services.explore import snapshot, store

    reader("one")
    with aws_calls() as calls:
        first = store.current()
    assert first.ids == ("one",)
    assert ("s3", "PutObject") in calls  # no snapshot yet: built and stored synchronously

    with aws_calls() as calls:
        assert store.current() is first
        clock[0] += store.RECHECK_S - 1
        assert store.current() is first
    assert calls == []

    clock[0] += 1
    with aws_calls() as calls:
        assert store.current() is first  # unchanged: a conditional GET answered 304
    assert calls == [("s3", "GetObject")]

    reader("two")
    store.publish(snapshot.build(now=NOW))  # another container's build
    clock[0] += store.RECHECK_S
    with aws_calls() as calls:
        second = store.current()
    assert calls == [("s3", "GetObject")]
    assert sorted(second.ids) == ["one", "two"] and second.built_at == "2026-12-01T12:00:00.000Z"
    assert second.card("two")["id"] == "two" and second.card("nobody") is None


@pytest.mark.usefixtures("explore")
def test_a_new_container_loads_the_stored_index_without_building(clock, monkeypatch):
    from chalicelib.services.explore import engine, snapshot, store

    reader("one")
    reader("hidden", visibility="readers_only")
    store.publish(snapshot.build(now=NOW))
    reader("two")  # not in the stored snapshot
    store.forget()

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cold container must load the stored index, not build one")

    monkeypatch.setattr(engine.Index, "build", no_build)
    with aws_calls() as calls:
        loaded = store.current()
    assert calls == [("s3", "GetObject")]  # the index object only
    assert loaded.source == "index" and sorted(loaded.ids) == ["hidden", "one"]
    assert loaded.card("one")["id"] == "one" and loaded.built_at == "2026-12-01T12:00:00.000Z"
    found = loaded.index.search(engine.Filters(), online=frozenset(), favorites=frozenset(), viewer_role=None,
                                now=NOW, offset=0, limit=10)
    assert found.reader_ids == ["one"]  # the loaded index searches like the built one


def _stored_index() -> bytes:
    from chalicelib.config import get_settings
    from chalicelib.integrations import s3
    from chalicelib.services.explore import packed

    stored = s3.read(get_settings().media_bucket_name, packed.KEY, limit=packed.MAX_BYTES)
    assert stored is not None
    return stored.data


def _store_index(data: bytes) -> None:
    from chalicelib.config import get_settings
    from chalicelib.integrations import s3
    from chalicelib.services.explore import packed

    s3.put(get_settings().media_bucket_name, packed.KEY, data, content_type=packed.CONTENT_TYPE)


@pytest.mark.parametrize("tamper", ["flipped byte", "foreign key", "other format", "garbage"])
@pytest.mark.usefixtures("explore")
def test_a_tampered_or_foreign_index_is_never_unpickled_and_the_cards_object_is_used(clock, monkeypatch, tamper):
    import pickle

    from chalicelib.services.explore import packed, snapshot, store

    reader("one")
    built = snapshot.build(now=NOW)
    store.publish(built)
    good = _stored_index()
    original = packed.parse(good)
    if tamper == "flipped byte":
        bad = good[:-1] + bytes([good[-1] ^ 1])
    elif tamper == "foreign key":
        bad = packed.serialize(original, secret="somebody else's secret")
    elif tamper == "other format":
        head = packed.MAGIC + (packed.engine.ENGINE_FORMAT + 1).to_bytes(4, "big")
        body = good[len(head) + 32:]
        bad = head + packed._tag(packed._key(), head + body) + body  # signed, but of another layout
    else:
        bad = b"not an index at all"
    _store_index(bad)
    store.forget()
    unpickled: list[Any] = []
    real_loads = pickle.loads
    monkeypatch.setattr(pickle, "loads", lambda data, **kw: unpickled.append(1) or real_loads(data, **kw))
    warnings: list[str] = []
    monkeypatch.setattr(packed.logger, "warning", lambda message, **kw: warnings.append(message))

    with aws_calls() as calls:
        loaded = store.current()
    assert unpickled == []
    assert warnings == ["explore index object rejected; building from the cards object"]
    assert loaded.source == "cards" and loaded.ids == ("one",) and loaded.card("one")["id"] == "one"
    assert calls == [("s3", "GetObject"), ("s3", "GetObject")]  # the index (rejected), then the cards

    clock[0] += store.RECHECK_S
    with aws_calls() as calls:
        assert store.current() is loaded  # both unchanged: two 304s, nothing rejected again
    assert calls == [("s3", "GetObject"), ("s3", "GetObject")] and len(warnings) == 1

    store.publish(built)  # the next build stores a good index: served from it
    clock[0] += store.RECHECK_S
    assert store.current().source == "index"


def test_the_packed_index_round_trips_and_drops_the_memos():
    from chalicelib.services.explore import engine, packed

    cards = [{"id": "a", "displayName": "Ada", "ratingAverage": 4.5, "ratingCount": 3, "visibility": "public",
              "readingOptions": [{"type": "chat", "prices": [{"duration": 15, "total": 30}]}]}]
    index = engine.Index.build(cards, built_at=NOW)
    index.search(engine.Filters(query="ada", price_min=10, price_max=40), online=frozenset(), favorites=frozenset(),
                 viewer_role=None, now=NOW, offset=0, limit=5)
    assert index._memo and index.prices._memo
    data = packed.serialize(packed.Packed(index=index, built_at="x", ids=("a",), hidden_presence=frozenset()),
                            secret="s")
    again = packed.parse(data, secret="s")
    assert again.index._memo == {} and again.index.prices._memo == {}
    assert again.index.card("a") == index.card("a") and again.ids == ("a",)
    with pytest.raises(packed.PackedFormatError):
        packed.parse(data, secret="another")


# --- freshness ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("explore")
def test_card_events_mark_the_snapshot_stale_and_the_minute_job_rebuilds_once(clock):
    from chalicelib.services import events
    from chalicelib.services.explore import freshness, store

    reader("one")
    assert freshness.rebuild(now=NOW)["built"] is True  # the first build, as make run does after the seed
    assert freshness.rebuild_if_stale(now=NOW)["built"] is False  # nothing changed since

    reader("two")
    assert freshness._on_card_event in events.CONSUMERS["review.created"]
    with aws_calls() as calls:
        freshness._on_card_event({"eventId": "e1", "type": "review.created", "data": {"readerId": "two"}})
    assert [op for _service, op in calls] == ["UpdateItem"]
    assert freshness.state().stale_since is not None

    result = freshness.rebuild_if_stale(now=NOW + timedelta(minutes=1))
    assert result == {"built": True, "readers": 2}
    assert sorted(store.current().ids) == ["one", "two"]  # this container serves it at once
    marker = freshness.state()
    assert marker.stale_since is None and marker.building_until is None
    assert marker.last_built_at == "2026-12-01T12:01:00.000Z" and marker.last_count == 2
    assert freshness.rebuild_if_stale(now=NOW + timedelta(minutes=2))["built"] is False


@pytest.mark.parametrize("event_type", ["reader.card_changed", "review.created", "reading.completed",
                                        "reader_application.approved", "user.deleted", "badge.awarded"])
@pytest.mark.usefixtures("explore")
def test_every_card_event_marks_the_snapshot_stale(event_type):
    from chalicelib.services import events
    from chalicelib.services.explore import freshness

    assert freshness._on_card_event in events.CONSUMERS[event_type]  # what the domain_events job runs
    freshness._on_card_event({"eventId": "e1", "type": event_type, "data": {}})
    assert freshness.state().stale_reason == event_type


@pytest.mark.usefixtures("explore")
def test_a_run_while_another_builds_does_not_build(monkeypatch):
    from chalicelib.services.explore import freshness

    reader("one")
    freshness.mark_stale("test", now=NOW)
    assert freshness._claim(NOW, only_if_stale=True) is not None  # another run holds the lease
    assert freshness.rebuild_if_stale(now=NOW + timedelta(minutes=1))["built"] is False
    assert freshness.rebuild(now=NOW + timedelta(minutes=1))["built"] is False
    # A lease that outlived its build (the run died) expires.
    assert freshness.rebuild_if_stale(now=NOW + freshness.LEASE + timedelta(seconds=1))["built"] is True


@pytest.mark.usefixtures("explore")
def test_a_change_during_a_build_keeps_the_snapshot_stale(monkeypatch):
    from chalicelib.services.explore import freshness, store

    reader("one")
    freshness.mark_stale("first", now=NOW)
    real = store.rebuild

    def build_while_changing(**kwargs: Any) -> Any:
        loaded = real(**kwargs)
        freshness.mark_stale("during the build", now=NOW)
        return loaded

    monkeypatch.setattr(store, "rebuild", build_while_changing)
    assert freshness.rebuild_if_stale(now=NOW)["built"] is True
    marker = freshness.state()
    assert marker.stale_since is not None and marker.building_until is None
    monkeypatch.setattr(store, "rebuild", real)
    assert freshness.rebuild_if_stale(now=NOW)["built"] is True
    assert freshness.state().stale_since is None


@pytest.mark.usefixtures("explore")
def test_a_failed_build_releases_the_lease(monkeypatch):
    from chalicelib.services.explore import freshness, store

    freshness.mark_stale("test", now=NOW)

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("S3 is down")

    monkeypatch.setattr(store, "rebuild", broken)
    with pytest.raises(RuntimeError):
        freshness.rebuild_if_stale(now=NOW)
    marker = freshness.state()
    assert marker.building_until is None and marker.stale_since is not None


def test_the_schedules_are_registered_for_the_local_runner_and_the_cloud():
    from chalice.app import ScheduledEventConfig

    from app import app

    schedules = {source.name: source for source in app.event_sources if isinstance(source, ScheduledEventConfig)}
    assert str(schedules["explore_refresh"].schedule_expression) == "rate(1 minute)"
    assert str(schedules["explore_rebuild"].schedule_expression) == "rate(1 hour)"


# --- the overlay ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("explore")
def test_the_overlay_queries_the_presence_index_once_per_window(clock):
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services.explore import overlay

    reader("on", online=True)
    reader("off")
    with aws_calls() as calls:
        assert overlay.online_ids() == frozenset({"on"})
        clock[0] += overlay.TTL_S - 0.5
        assert overlay.online_ids() == frozenset({"on"})
    assert calls == [("dynamodb", "Query")]

    ReaderProfile(reader_id="off", version=0).update(
        actions=[ReaderProfile.online_flag.set("online"), ReaderProfile.last_seen_at.set("2026-12-01T12:00:00.000Z")],
        add_version_condition=False)
    clock[0] += 0.5
    assert overlay.online_ids() == frozenset({"on", "off"})
    assert overlay.visible(frozenset({"on", "off"}), frozenset({"off"})) == frozenset({"on"})
