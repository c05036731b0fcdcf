"""Badges: the insights job awards each active catalog badge (kind ``badge``: an attribute,
a tier, requirements ``readingsCompleted``, optional ``averageRating`` and ``timeframe``) a
reader's counters meet, and upgrades Bronze -> Silver -> Gold, never down, never twice.

Per attribute the reader holds one tier, in the metrics bucket ``badge#<attributeId>``
(``tier``, ``badgeId``, ``awardedAt``). An award is one transaction per reader: each
attribute's bucket, conditional on the tier it had (absent or lower), so a concurrent or
repeated run awards nothing more; the profile's ``badges`` (the card's list of badge ids:
the new one replaces the attribute's previous tier), conditional on the list read; and a
``badge.awarded`` event per award (the reader's notification; the explore snapshot marks
itself stale on it, services/explore/freshness.py).

Requirements are read against the counters of services/metrics/reader.py:
``completed:<attributeId>`` over the timeframe (default ``total``) and, for
``averageRating``, the reader's reviews over the same timeframe (ratings are per reader,
not per attribute).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import UnicodeAttribute

from chalicelib.models.base import iso, plain
from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
from chalicelib.models.metrics import MetricItem
from chalicelib.models.readers import ReaderProfile
from chalicelib.services import outbox
from chalicelib.services.metrics.periods import PERIODS
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

if TYPE_CHECKING:
    from chalicelib.services.metrics.insights import ReaderInsight

TIERS = ("Bronze", "Silver", "Gold")
AWARDED = "badge.awarded"


class BadgeHeld(MetricItem):
    """The ``badge#<attributeId>`` bucket of the metrics table: the tier a reader holds."""

    tier = UnicodeAttribute(null=True)
    badge_id = UnicodeAttribute(null=True, attr_name="badgeId")
    awarded_at = UnicodeAttribute(null=True, attr_name="awardedAt")


@dataclass(frozen=True)
class Badge:
    badge_id: str
    name: str
    attribute: str
    tier: str
    readings: int
    rating: float | None
    timeframe: str

    @property
    def rank(self) -> int:
        return TIERS.index(self.tier)


def active_badges() -> list[Badge]:
    """Every active catalog badge with a tier and requirements we know (one Query)."""
    found = []
    for item in CatalogItem.query(CATALOG_PARTITION, CatalogItem.sk.startswith("badge#"),
                                  filter_condition=CatalogItem.active == True):  # noqa: E712
        data = plain(item.data.as_dict())
        needs = data.get("requirements") or {}
        timeframe = needs.get("timeframe") or "total"
        if data.get("tier") not in TIERS or not data.get("attribute") or timeframe not in PERIODS:
            continue
        found.append(Badge(item.item_id, str(data.get("name") or item.item_id), str(data["attribute"]),
                           str(data["tier"]), int(needs.get("readingsCompleted") or 0),
                           float(needs["averageRating"]) if needs.get("averageRating") is not None else None,
                           timeframe))
    return found


def earned(badge: Badge, counters: dict[str, Any]) -> bool:
    """Whether ``counters`` (over the badge's timeframe) meet its requirements: at least the
    readings, and an average rating of at least the minimum (no reviews: not met)."""
    if counters.get(f"completed:{badge.attribute}", 0) < max(badge.readings, 1):
        return False
    if badge.rating is None:
        return True
    reviews = counters.get("reviews", 0)
    return bool(reviews) and round(counters.get("ratingSum", 0) / reviews, 4) >= badge.rating


def best(badges: list[Badge], insight: ReaderInsight) -> dict[str, Badge]:
    """Per attribute, the highest-tier badge the reader's counters meet."""
    chosen: dict[str, Badge] = {}
    for badge in sorted(badges, key=lambda b: (b.rank, b.readings)):
        if insight.total.get(f"completed:{badge.attribute}", 0) < badge.readings:
            continue  # not even all time: no need to read the period's buckets
        if earned(badge, insight.counters(badge.timeframe)):
            chosen[badge.attribute] = badge
    return chosen


def held(reader_id: str) -> dict[str, BadgeHeld]:
    """The tiers the reader holds, by attribute (one Query)."""
    pk = f"reader#{reader_id}"
    return {item.sk.removeprefix("badge#"): item
            for item in BadgeHeld.query(pk, BadgeHeld.sk.startswith("badge#"), consistent_read=True)}


def _rank(item: BadgeHeld | None) -> int:
    return TIERS.index(item.tier) if item is not None and item.tier in TIERS else -1


def evaluate(insight: ReaderInsight) -> int:
    """Award or upgrade what the reader earned; returns how many badges were awarded."""
    catalog: list[Badge] = insight.once("badges", active_badges)
    chosen = best(catalog, insight)
    if not chosen:
        return 0
    holding = held(insight.reader_id)
    awards = [badge for attribute, badge in sorted(chosen.items()) if badge.rank > _rank(holding.get(attribute))]
    if not awards:
        return 0
    ids_of = {b.attribute: {x.badge_id for x in catalog if x.attribute == b.attribute} for b in awards}
    return award(insight.reader_id, awards, holding, ids_of, at=iso(insight.now))


def award(reader_id: str, awards: list[Badge], holding: dict[str, BadgeHeld], ids_of: dict[str, set[str]], *,
          at: str) -> int:
    """One transaction: the tiers (conditional on the one read), the card's badge list, the
    events. 0 when another run awarded first (its tier is there now)."""

    def work(tx: Transaction) -> None:
        try:
            profile = ReaderProfile.get(reader_id, attributes_to_get=["readerId", "badges"], consistent_read=True)
        except ReaderProfile.DoesNotExist:
            profile = None
        before = list(plain(profile.badges) or []) if profile is not None else None
        replaced: set[str] = set()
        for badge in awards:
            previous = holding.get(badge.attribute)
            lower = list(TIERS[:badge.rank])
            condition = BadgeHeld.tier.does_not_exist()
            if lower:
                condition |= BadgeHeld.tier.is_in(*lower)
            tx.update(BadgeHeld(pk=f"reader#{reader_id}", sk=f"badge#{badge.attribute}"),
                      actions=[BadgeHeld.tier.set(badge.tier), BadgeHeld.badge_id.set(badge.badge_id),
                               BadgeHeld.awarded_at.set(at)], condition=condition, label="tier")
            replaced |= ids_of.get(badge.attribute, set()) | ({previous.badge_id} if previous and previous.badge_id
                                                              else set())
            outbox.emit(tx, AWARDED, readerId=reader_id, badgeId=badge.badge_id, badgeName=badge.name,
                        attribute=badge.attribute, tier=badge.tier,
                        previousBadgeId=previous.badge_id if previous else None)
        if before is not None:
            after = [b for b in before if b not in replaced] + [b.badge_id for b in awards]
            unchanged = (ReaderProfile.badges == before) if before else ReaderProfile.badges.does_not_exist() | (
                ReaderProfile.badges == [])
            tx.update(ReaderProfile(reader_id=reader_id, version=0), actions=[ReaderProfile.badges.set(after)],
                      condition=ReaderProfile.reader_id.exists() & unchanged, add_version_condition=False,
                      label="profile")

    try:
        atomically(work, retry_on=lambda failed: "profile" in failed and "tier" not in failed,
                   busy="The badges are busy; the next run tries again.")
    except ConditionsFailed as failed:
        if "tier" in failed:
            return 0  # awarded by another run meanwhile
        raise
    return len(awards)
