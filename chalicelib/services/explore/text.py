"""Text matching for the explore query ``q``: case- and accent-insensitive tokens, prefix
matching and typo tolerance.

A query token matches a reader token when
* it is a prefix of it (query tokens of 2 characters or more; a 1-character token must be
  the whole reader token), or
* it is within edit distance 1 of it (query tokens of 4 to 7 characters) or 2 (8 characters
  or more). The distance is optimal string alignment: insertions, deletions, substitutions
  and swaps of neighbours count one edit each. Reader tokens over ``MAX_TYPO_TOKEN``
  characters are matched by prefix only.

Typo candidates come from a deletion neighbourhood (SymSpell): every reader token is stored
under the strings made by deleting up to 1 character (tokens of 3+ characters) or 2
characters (6+), and a query looks up its own deletions, so it never scans the vocabulary;
each candidate is then checked with the real distance.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator

from chalicelib.services.explore import bits

MIN_PREFIX = 2
MAX_TYPO_TOKEN = 32
_WORD = re.compile(r"[^\W_]+")
_TOKEN_BITS = 22
_TOKEN_MASK = (1 << _TOKEN_BITS) - 1


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def fold(text: str) -> str:
    """Lower case without accents: "Éloïse" -> "eloise"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def tokens(text: str | None) -> list[str]:
    return _WORD.findall(fold(text)) if text else []


def allowed_typos(token: str) -> int:
    return 2 if len(token) >= 8 else 1 if len(token) >= 4 else 0


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a
    substring)."""
    if a == b:
        return 0
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[len(b)]


def deletions(word: str, depth: int) -> set[str]:
    """The strings made by deleting 1..depth characters of ``word`` (not ``word`` itself)."""
    layer = {word[:i] + word[i + 1:] for i in range(len(word))}
    if depth < 2:
        return layer
    found = set(layer)
    for _ in range(depth - 1):
        layer = {variant[:i] + variant[i + 1:] for variant in layer for i in range(len(variant))}
        found |= layer
    return found


class TextIndex:
    """Postings of every token of the readers' texts. Reader ``i`` is the i-th document."""

    def __init__(self, documents: Iterable[Iterable[str | None]]) -> None:
        ids: dict[str, int] = {}
        postings: list[list[int]] = []
        count = 0
        for reader, texts in enumerate(documents):
            count = reader + 1
            for token in {token for text in texts for token in tokens(text)}:
                token_id = ids.setdefault(token, len(ids))
                if token_id == len(postings):
                    postings.append([])
                postings[token_id].append(reader)
        self.size = count
        self._words = list(ids)
        self._ids = ids
        self._postings = [array("i", readers) for readers in postings]
        self._sorted = sorted(ids)
        # The neighbourhood as one sorted array of crc32(deletion) << 22 | token id: 8 bytes an
        # entry instead of a string and a dict slot (a crc collision only adds a candidate).
        crc = zlib.crc32  # _crc inlined: this runs for every deletion of every word
        entries = [crc(variant.encode()) << _TOKEN_BITS | token_id for word, token_id in ids.items()
                   if 3 <= len(word) <= MAX_TYPO_TOKEN and token_id < 1 << _TOKEN_BITS
                   for variant in deletions(word, 2 if len(word) >= 6 else 1)]
        entries.sort()
        self._neighbours = array("q", entries)

    def _prefixed(self, token: str) -> Iterator[str]:
        if len(token) < MIN_PREFIX:
            if token in self._ids:
                yield token
            return
        position = bisect_left(self._sorted, token)
        while position < len(self._sorted) and self._sorted[position].startswith(token):
            yield self._sorted[position]
            position += 1

    def _typos(self, token: str) -> list[str]:
        depth = allowed_typos(token)
        if not depth:
            return []
        candidates: set[int] = set()
        for variant in (token, *deletions(token, depth)):
            if variant in self._ids:
                candidates.add(self._ids[variant])
            key = _crc(variant) << _TOKEN_BITS
            position = bisect_left(self._neighbours, key)
            while position < len(self._neighbours) and self._neighbours[position] >> _TOKEN_BITS == key >> _TOKEN_BITS:
                candidates.add(self._neighbours[position] & _TOKEN_MASK)
                position += 1
        words = (self._words[token_id] for token_id in candidates)
        return [word for word in words if word != token and distance(token, word) <= depth]

    def search(self, query: str) -> tuple[int | None, list[str]]:
        """(the readers matching every query token, or None for a query without tokens;
        the corrections of the query tokens that matched by typo only, most common first)."""
        wanted = list(dict.fromkeys(tokens(query)))
        if not wanted:
            return None, []
        result = -1  # every reader
        suggestions: list[str] = []
        for token in wanted:
            prefixed = list(self._prefixed(token))
            typos = self._typos(token)
            if typos and not prefixed:
                ranked = sorted(typos, key=lambda word: (distance(token, word), -len(self._postings[self._ids[word]]),
                                                         word))
                suggestions += [word for word in ranked[:3] if word not in suggestions]
            readers: set[int] = set()
            for word in {*prefixed, *typos}:
                readers.update(self._postings[self._ids[word]])
            result &= bits.from_indexes(readers, self.size)
        return result, suggestions
