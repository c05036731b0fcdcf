"""Reading a reading and the lists: one GetItem, or one Query per page on a sparse GSI."""

from __future__ import annotations

from chalicelib.errors import Forbidden, NotFound
from chalicelib.models.readings import Reading
from chalicelib.pagination import PageResult, query_page
from chalicelib.services.readings import common


def visible(reading_id: str, user_id: str, role: str) -> Reading:
    """The reading if the caller is one of its parties or an admin; 404 otherwise (another
    client's reading is not even acknowledged)."""
    reading = common.get(reading_id)
    if common.party_role(reading, user_id) is None and role != "admin":
        raise NotFound("reading")
    return reading


def list_for(user_id: str, role: str, as_: str, tab: str, *, limit: int, cursor: str | None) -> PageResult[Reading]:
    """The caller's readings on one side (client or reader) and tab, newest first."""
    if as_ == "reader" and role != "reader":
        raise Forbidden("Only readers have readings as a reader.", code="not_a_reader")
    key = f"{user_id}#{tab}"
    index = Reading.by_reader_tab if as_ == "reader" else Reading.by_client_tab
    return query_page(lambda size, start: index.query(key, scan_index_forward=False, limit=size,
                                                      last_evaluated_key=start),
                      limit=limit, cursor=cursor, scope=f"GET /readings:{as_}:{tab}:{user_id}")
