"""``GET /admin/metrics``: platform figures for a day, a week or a month and the one before."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator

from chalicelib.schemas.common import ApiModel, QueryModel

EARLIEST = dt.date(2000, 1, 1)
# Today somewhere: the furthest-ahead timezone (UTC+14) reaches a date first. An admin's
# browser may send its own local date, which can be a day ahead of UTC; nothing later exists.
AHEAD_OF_UTC = dt.timedelta(hours=14)


def latest_date(now: dt.datetime | None = None) -> dt.date:
    """The latest date a report may ask for: today in UTC+14."""
    return ((now or dt.datetime.now(dt.UTC)) + AHEAD_OF_UTC).date()


class MetricsQuery(QueryModel):
    """``?period=day|week|month&date=YYYY-MM-DD``."""

    period: Literal["day", "week", "month"] = Field(
        default="day", description="UTC day, ISO week (starting Monday) or calendar month")
    day: dt.date | None = Field(default=None, alias="date",
                                description="a date in the period wanted (UTC); default today. From "
                                            f"{EARLIEST} to today (a date ahead of today's in every timezone "
                                            "is a 400)")

    @field_validator("day")
    @classmethod
    def _plausible(cls, value: dt.date | None) -> dt.date | None:
        if value is None:
            return value
        if value < EARLIEST:
            raise ValueError(f"The date must be {EARLIEST} or later.")
        if value > latest_date():
            raise ValueError(f"The date {value} is in the future: choose today or an earlier day.")
        return value


class DayFiguresOut(ApiModel):
    """One UTC day of the period (every day is listed, zeros included)."""

    date: dt.date
    active_users: int = Field(description="distinct users who did something that day")
    sign_ups: int
    readings_requested: int
    readings_completed: int
    credits_purchased: int
    money_in: dict[str, int] = Field(description="paid, in minor units (cents) by lower-case ISO currency")
    platform_fees: int = Field(description="platform fees of the readings completed, in credits")
    disputes: int


class PeriodFiguresOut(ApiModel):
    """A period's figures. Rates are null where their denominator is zero: present and null,
    never left out (as in ``GET /reader/metrics``)."""

    start: dt.date = Field(description="first day (UTC)")
    end: dt.date = Field(description="last day (UTC), inclusive")
    active_users: int = Field(description="distinct users who did something in the period (requested, accepted, "
                                          "completed, cancelled, disputed or reviewed a reading, posted a status, "
                                          "paid, signed up)")
    sign_ups: int
    readings_requested: int
    readings_completed: int = Field(description="readings completed with the reader paid")
    buyers: int = Field(description="distinct users who paid in the period (credit packages or a subscription)")
    purchases: int = Field(description="payments: credit packages bought and subscription invoices paid")
    credits_purchased: int = Field(description="credits those payments granted")
    money_in: dict[str, int] = Field(description="paid, in minor units (cents) by lower-case ISO currency")
    platform_fees: int = Field(description="platform fees of the readings completed, in credits")
    refunds: int = Field(description="readings refunded to their client")
    refunded_credits: int
    reversed_credits: int = Field(description="purchased credits taken back (payment refunds, chargebacks)")
    disputes: int = Field(description="disputes filed")
    conversion_rate: float | None = Field(description="buyers / active users of the period; null with none active")
    dispute_rate: float | None = Field(description="disputes filed / readings completed in the period; null with "
                                                   "none completed")
    daily: list[DayFiguresOut]


class MetricsOut(ApiModel):
    """The period containing ``date`` and the previous one, for comparison."""

    period: Literal["day", "week", "month"]
    date: dt.date
    current: PeriodFiguresOut
    previous: PeriodFiguresOut

    def wire(self) -> dict[str, Any]:
        """Nulls kept: a rate with nothing to divide by is null, not absent."""
        return self.model_dump(mode="json", by_alias=True)
