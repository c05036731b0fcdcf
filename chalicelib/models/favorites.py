"""A client's favorite readers, and what the client did with each reader (for recommendations).

``Favorite``: one item per (user, reader), ``createdAt`` when favorited. The ``newestFirst``
local index (same partition, sort by ``createdAt``, keys only) lists a user's favorites
newest first, strongly consistent: a reader just favorited is on the next ``GET``.

``Interaction``: the interactions table holds, per client, one item per reader the client
viewed, favorited, booked, completed a reading with or rated (``sk`` = the reader id), one
item per topic the client asked about (``sk`` = ``#topic#<topicId>``) and one summary item
(``sk`` = ``#summary``: how many favorites the client has, the cap's counter). Every count is
an ``ADD``, so concurrent writers never lose an increment and no write reads first. The
whole partition is one Query: all a recommendation needs about a client.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

SUMMARY_SK = "#summary"
TOPIC_PREFIX = "#topic#"


class FavoritesNewestFirst(LocalSecondaryIndex["Favorite"]):
    class Meta:
        index_name = "newestFirst"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class Favorite(Model):
    class Meta:
        table_name = table_name("favorites")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    reader_id = UnicodeAttribute(range_key=True, attr_name="readerId")
    created_at = UnicodeAttribute(attr_name="createdAt")

    newest_first = FavoritesNewestFirst()


class Interaction(Model):
    """Per client: reader items, topic items and the summary (see the module docstring).
    Reader items: views, favorites (times favorited), bookings, completions, the ratings the
    client gave (count, sum, latest) and whether the reader is a favorite now. Topic items:
    ``asked`` and the topic's name. Summary: ``favoriteCount``."""

    class Meta:
        table_name = table_name("interactions")
        region = region()

    client_id = UnicodeAttribute(hash_key=True, attr_name="clientId")
    sk = UnicodeAttribute(range_key=True)
    views = NumberAttribute(null=True)
    favorites = NumberAttribute(null=True)
    bookings = NumberAttribute(null=True)
    completions = NumberAttribute(null=True)
    rating_count = NumberAttribute(null=True, attr_name="ratingCount")
    rating_sum = NumberAttribute(null=True, attr_name="ratingSum")
    last_rating = NumberAttribute(null=True, attr_name="lastRating")
    is_favorite = BooleanAttribute(null=True, attr_name="isFavorite")
    asked = NumberAttribute(null=True)  # topic items
    name = UnicodeAttribute(null=True)  # topic items: the topic's name when last asked
    favorite_count = NumberAttribute(null=True, attr_name="favoriteCount")  # the summary item
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")
