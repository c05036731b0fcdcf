"""A small sentiment scorer for moderation rules (the product's ModerationRule
``conditions.sentiment``): is a piece of English text ``negative``, ``positive`` or ``neutral``?

Deterministic, dependency-free and cheap (a dictionary lookup per word): a lexicon of words
with a valence from -3 (very negative) to +3 (very positive), adjusted by what stands before
each word in its clause:

* **negation** ("not good", "isn't helpful", "never disappointed", "no good"): a negator up to
  three words before a word turns its valence around and weakens it (x -0.74), within the
  clause (a comma, a full stop, "but" ... ends the negation);
* **intensifiers** ("very good", "really terrible") make the next word count 1.5 times,
  **downtoners** ("slightly rude", "a bit vague") half;
* **contrast**: after "but" / "however" the clause counts 1.5 times, before it half ("the
  reader was kind but the reading was useless" is negative);
* a few two-word phrases ("rip off", "spot on", "waste of") count as one word; a plural or
  third-person "s" is tried off when the word itself is not known.

The sum of the valences becomes a score in [-1, 1] (``sum / sqrt(sum^2 + 15)``, as VADER
normalises); ``score >= 0.2`` is positive, ``<= -0.2`` negative, anything between (or no
known word) neutral. ``Sentiment.confidence`` (0-1) is how clearly the text is what its
label says: the score's size for positive and negative, for neutral how far the score stays
from both thresholds.

Known limits, on purpose: English only (other languages are neutral); no sarcasm, irony or
idioms beyond the listed phrases; no stemming beyond the trailing "s"; case, emphasis ("!!!",
CAPITALS) and emoji are ignored; a negation reaches only three words; the lexicon is general
plus the marketplace's words (accurate, scam, refund...), so a rule on a niche vocabulary is
better written with keywords. No I/O.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

NEGATIVE, POSITIVE, NEUTRAL = "negative", "positive", "neutral"
LABELS = (NEGATIVE, POSITIVE, NEUTRAL)
THRESHOLD = 0.2  # |score| at or above which a text is positive or negative
_ALPHA = 15.0  # normalisation: sum / sqrt(sum^2 + alpha)
_NEGATION_SCALE = -0.74
_NEGATION_REACH = 3  # words
_BOOST, _DAMP = 1.5, 0.5
_BEFORE_CONTRAST, _AFTER_CONTRAST = 0.5, 1.5


def _words(spec: str, valence: float) -> dict[str, float]:
    """``spec``: words separated by spaces; a phrase's words joined by "_"."""
    return dict.fromkeys((word.replace("_", " ") for word in spec.split()), valence)


# Valence by word (a phrase's words joined with a space). Inflections that are not a trailing
# "s" are listed.
LEXICON: dict[str, float] = {
    **_words(
        "amazing awesome excellent exceptional extraordinary fantastic incredible life-changing lifechanging "
        "magnificent marvelous marvellous outstanding perfect phenomenal superb wonderful brilliant best "
        "love loved loving adore adored",
        3.0,
    ),
    **_words(
        "accurate beautiful blessed caring compassionate delighted delightful enjoyed enjoyable gifted glad "
        "good great happy healing helpful honest impressive insightful inspiring inspired joy kind lovely "
        "nice pleased positive powerful recommend recommended reassuring reliable satisfied spot-on "
        "thankful thoughtful trustworthy uplifting valuable warm wise favourite favorite comforting "
        "encouraging genuine grateful gratitude thanks thank peaceful calm hopeful talented friendly "
        "spot_on patient supportive empathetic professional respectful refreshing",
        2.0,
    ),
    **_words(
        "better decent fair fine interesting liked okay ok pleasant polite useful worth worthwhile "
        "correct true fun cool easy quick prompt helped hope relief relieved clear",
        1.0,
    ),
    **_words(
        "abusive appalling atrocious awful disgraceful disgusting dreadful evil fraud fraudulent horrible "
        "horrendous nightmare pathetic scam scammer scammed terrible worst hate hated hateful vile rip-off "
        "ripoff rip_off liar lying thief stole stolen criminal",
        -3.0,
    ),
    **_words(
        "angry annoyed annoying bad cheat cheated cheating creepy cruel dishonest disappointed "
        "disappointing disrespectful fake false garbage harmful hostile inaccurate incompetent insulting "
        "manipulative misleading nasty offensive poor rude sad scary shame shameful threatening "
        "toxic ugly unhelpful unprofessional upset useless waste wasted waste_of wrong worthless rubbish "
        "refund ignored hurt hurtful lies lied arrogant bogus conned sham stupid idiot dumb "
        "miserable unhappy regret regretted avoid",
        -2.0,
    ),
    **_words(
        "boring confusing confused difficult dull generic late meh mediocre overpriced slow strange "
        "unclear vague weird wrongly expensive awkward cold doubt doubtful lost rushed short-changed "
        "complaint complain complained problem problems issue issues unsure worried worry",
        -1.0,
    ),
    # Hedges, not kindness: "kind of vague" is a softened "vague".
    **_words("kind_of sort_of", 0.0),
}


def _set(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


_NEGATORS = _set(
    "not no never neither nor none nobody nothing nowhere without hardly barely scarcely cannot cant "
    "dont doesnt didnt isnt wasnt arent werent wont wouldnt couldnt shouldnt hasnt havent hadnt aint"
)
_INTENSIFIERS = _set(
    "very really so extremely incredibly absolutely totally truly super highly completely utterly most "
    "deeply hugely exceptionally particularly especially remarkably"
)
_DOWNTONERS = _set("slightly somewhat fairly rather kinda sorta bit little mildly")
_HEDGES = (["kind", "of"], ["sort", "of"])
_CONTRASTS = frozenset(("but", "however"))
_BOUNDARY = "|"  # a comma, colon or bracket: negation and intensifiers do not reach across it
_SENTENCES = re.compile(r"[.;!?\n]+")
_PIECE = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[,:()\[\]]")


@dataclass(frozen=True)
class Sentiment:
    label: str  # negative | positive | neutral
    score: float  # -1 (very negative) .. +1 (very positive)

    @property
    def confidence(self) -> float:
        """0-1: how clearly the text is ``label``."""
        return confidence(self.label, self.score)


def confidence(label: str, score: float) -> float:
    if label == NEUTRAL:
        return round(max(0.0, 1 - abs(score) / THRESHOLD), 3)
    return round(abs(score), 3)


def label_of(score: float) -> str:
    if score >= THRESHOLD:
        return POSITIVE
    if score <= -THRESHOLD:
        return NEGATIVE
    return NEUTRAL


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.casefold().replace("\u2019", "'").replace("\u2018", "'")


def _tokens(sentence: str) -> list[str]:
    """Words and clause boundaries; "n't" contractions spelled as their negator ("isn't" -> "isnt")."""
    found = []
    for piece in _PIECE.findall(sentence):
        if not piece[0].isalnum():
            found.append(_BOUNDARY)
        else:
            found.append(piece.replace("'", "") if piece.endswith("n't") else piece)
    return found


def _valence(word: str) -> float | None:
    if word in LEXICON:
        return LEXICON[word]
    if word.endswith("s") and len(word) > 3 and word[:-1] in LEXICON:
        return LEXICON[word[:-1]]
    return None


def _context(words: list[str], index: int) -> list[str]:
    """The words before ``index`` in its clause, at most the negation's reach."""
    before = words[max(0, index - _NEGATION_REACH) : index]
    for cut in range(len(before) - 1, -1, -1):
        if before[cut] == _BOUNDARY or before[cut] in _CONTRASTS:
            return before[cut + 1 :]
    return before


def _sum(words: list[str]) -> float:
    """The valences of a run of words, each adjusted by the words before it."""
    total = 0.0
    index = 0
    while index < len(words):
        pair = f"{words[index]} {words[index + 1]}" if index + 1 < len(words) else ""
        if pair in LEXICON:
            value, span = LEXICON[pair], 2
        else:
            found = _valence(words[index])
            if found is None:
                index += 1
                continue
            value, span = found, 1
        before = _context(words, index)
        if before and before[-1] in _INTENSIFIERS:
            value *= _BOOST
        elif before and (before[-1] in _DOWNTONERS or before[-2:] in _HEDGES):
            value *= _DAMP
        if any(word in _NEGATORS for word in before):
            value *= _NEGATION_SCALE
        total += value
        index += span
    return total


def _text_sum(text: str) -> float:
    """Sentence by sentence; around a sentence's last contrast word, what follows it counts more."""
    total = 0.0
    for sentence in _SENTENCES.split(text):
        words = _tokens(sentence)
        cut = max((i for i, word in enumerate(words) if word in _CONTRASTS), default=None)
        if cut is None:
            total += _sum(words)
        else:
            total += _BEFORE_CONTRAST * _sum(words[:cut]) + _AFTER_CONTRAST * _sum(words[cut + 1 :])
    return total


@lru_cache(maxsize=512)
def analyse(text: str) -> Sentiment:
    """The label and the score (-1..1) of ``text`` (see the module)."""
    total = _text_sum(_fold(text))
    score = 0.0 if total == 0 else round(total / math.sqrt(total * total + _ALPHA), 3)
    return Sentiment(label_of(score), score)
