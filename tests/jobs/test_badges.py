"""Badges awarded by the reader_insights job: at exactly their threshold, once; upgraded
Bronze -> Silver -> Gold, never down; shown on the card and announced to the reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.readings import make_reader, outbox_events

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("default_catalog")


def _count(event_id: str, reader_id: str = "rdr", at: datetime = NOW, **counts: int) -> None:
    """Counters as the reader-metrics consumers write them (and the insights mark)."""
    from chalicelib.services.metrics import reader

    assert reader.record(event_id, reader_id, {k.replace("__", ":"): v for k, v in counts.items()}, at,
                         timezone="Europe/Lisbon", now=at)


def _run(times: int = 1) -> list[dict[str, int]]:
    """The job's runs, all on the same tick."""
    from chalicelib.services.metrics import insights

    return [insights.run(now=NOW) for _ in range(times)]


def _held(reader_id: str = "rdr") -> dict[str, str | None]:
    from chalicelib.services.metrics import badges

    return {attribute: item.tier for attribute, item in badges.held(reader_id).items()}


def _card_badges(reader_id: str = "rdr") -> list[str]:
    from chalicelib.services import reader_cards

    return reader_cards.public_card(reader_id)["badges"]


def test_a_badge_is_awarded_at_exactly_its_threshold_once_whatever_the_runs(aws):
    make_reader("rdr")
    _count("e1", completed=9, completed__tarot=9)
    assert _run()[0]["badges"] == 0 and _held() == {}
    assert _run()[0]["readers"] == 0  # the mark was cleared: the next run has nothing to look at

    _count("e2", completed=1, completed__tarot=1)  # the 10th completed tarot reading: Bronze's threshold
    runs = _run(3)
    assert [r["badges"] for r in runs] == [1, 0, 0] and [r["readers"] for r in runs] == [1, 0, 0]
    assert _held() == {"tarot": "Bronze"}
    assert _card_badges() == ["tarot-bronze"]
    assert outbox_events("badge.awarded") == [{
        "readerId": "rdr", "badgeId": "tarot-bronze", "badgeName": "Tarot Bronze", "attribute": "tarot",
        "tier": "Bronze", "previousBadgeId": None}]

    _count("e3", views=1)  # more activity, nothing new earned: evaluated, nothing awarded again
    assert [r["badges"] for r in _run(3)] == [0, 0, 0]
    assert len(outbox_events("badge.awarded")) == 1


def test_a_badge_upgrades_through_the_tiers_replacing_the_lower_one_on_the_card_and_never_goes_down(aws, drain):
    make_reader("rdr")
    _count("e1", completed=50, completed__tarot=50, completed__empath=12, reviews=10, ratingSum=44)  # 4.4
    assert _run()[0]["badges"] == 2
    assert _held() == {"tarot": "Bronze", "empath": "Bronze"}

    _count("e2", reviews=2, ratingSum=10)  # 54 / 12 = 4.5 exactly: Silver's minimum
    assert _run()[0]["badges"] == 1
    assert _held() == {"tarot": "Silver", "empath": "Bronze"}
    assert sorted(_card_badges()) == ["empath-bronze", "tarot-silver"]

    _count("e3", reviews=10, ratingSum=10)  # the average falls to 2.91: the tier stays
    assert _run()[0]["badges"] == 0 and _held()["tarot"] == "Silver"

    assert [(e["badgeId"], e["previousBadgeId"]) for e in outbox_events("badge.awarded")
            if e["attribute"] == "tarot"] == [("tarot-bronze", None), ("tarot-silver", "tarot-bronze")]

    notes = [m for m in drain() if m["type"] == "badge.awarded"]
    assert len(notes) == 3


def test_gold_counts_only_the_last_six_months_and_may_skip_silver(aws):
    make_reader("rdr")
    # Seven months ago: 100 readings and poor reviews, outside Gold's timeframe.
    _count("e1", at=NOW - timedelta(days=210), completed__tarot=100, reviews=10, ratingSum=10)
    _count("e2", completed__tarot=199, reviews=10, ratingSum=47)  # 4.7 exactly over the last 6 months
    assert _run()[0]["badges"] == 1
    assert _held() == {"tarot": "Bronze"}  # all time 57 / 20 = 2.85: no Silver; 199 recent: no Gold yet

    _count("e3", completed__tarot=1)  # the 200th within 6 months
    assert _run()[0]["badges"] == 1
    assert _held() == {"tarot": "Gold"} and _card_badges() == ["tarot-gold"]
    assert [e["badgeId"] for e in outbox_events("badge.awarded")] == ["tarot-bronze", "tarot-gold"]


def test_a_reader_counted_again_during_the_evaluation_stays_marked_for_the_next_run(aws):
    from chalicelib.services.metrics import insights, store

    make_reader("rdr")
    _count("e1", completed__tarot=3)
    seen = store.get("reader#rdr", "total")["attentionAt"]
    _count("e2", completed__tarot=1)  # arrives after the job read the counters
    assert insights.clear("rdr", seen) is False
    assert insights.marked() == ["rdr"]
    assert _run()[0]["cleared"] == 1 and insights.marked() == []


def test_a_retired_badge_is_not_awarded(aws):
    from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem

    CatalogItem.get(CATALOG_PARTITION, "badge#tarot-bronze").update(actions=[CatalogItem.active.set(False)])
    make_reader("rdr")
    _count("e1", completed__tarot=10)
    assert _run()[0]["badges"] == 0 and _held() == {}
