"""The sentiment scorer moderation rules use (``conditions.sentiment``): a hand-written table of
sentences and the label each one gets, negation, intensifiers and contrast, and its limits."""

from __future__ import annotations

import pytest

from chalicelib.domain.sentiment import NEGATIVE, NEUTRAL, POSITIVE, THRESHOLD, analyse

TABLE = [
    # plain praise and complaints
    ("Wonderful reading!", POSITIVE),
    ("Absolutely amazing reading, thank you!", POSITIVE),
    ("She was very accurate and insightful.", POSITIVE),
    ("Full of love and light.", POSITIVE),
    ("Terrible, a scam.", NEGATIVE),
    ("I want a refund, this was a waste of money.", NEGATIVE),
    ("Rude and unprofessional.", NEGATIVE),
    ("This reader is a fraud and a liar, avoid.", NEGATIVE),
    ("Meh.", NEGATIVE),
    # negation turns a word around, within its clause
    ("not good", NEGATIVE),
    ("Isn't helpful at all.", NEGATIVE),
    ("Nothing good came out of it.", NEGATIVE),
    ("Not bad at all.", POSITIVE),
    ("Never disappointed by her readings.", POSITIVE),
    ("It wasn\u2019t terrible.", POSITIVE),  # a typographic apostrophe works too
    ("No complaints, really helpful.", POSITIVE),
    # contrast: what follows "but" weighs more
    ("The reader was kind, but the reading was useless.", NEGATIVE),
    ("The call started late but she was wonderful.", POSITIVE),
    # hedges soften
    ("kind of vague", NEUTRAL),
    # nothing to go on
    ("I asked about my career and the next six months.", NEUTRAL),
    ("What does it mean?", NEUTRAL),
    ("Three cards, a candle and a cup of tea.", NEUTRAL),
    ("", NEUTRAL),
    ("Tr\u00e8s bien, merci", NEUTRAL),  # English only: other languages are neutral
]


@pytest.mark.parametrize(("text", "label"), TABLE)
def test_each_sentence_gets_its_label(text: str, label: str) -> None:
    found = analyse(text)

    assert found.label == label, found
    assert -1 <= found.score <= 1
    assert 0 <= found.confidence <= 1


def test_the_score_is_signed_and_the_label_follows_the_thresholds() -> None:
    assert analyse("Terrible, a scam.").score == pytest.approx(-0.84, abs=0.001)
    assert analyse("Wonderful reading!").score == pytest.approx(0.612, abs=0.001)
    assert analyse("Great.").score >= THRESHOLD
    assert analyse("What does it mean?").score == 0


def test_intensifiers_strengthen_and_downtoners_soften() -> None:
    plain, very, slightly = (analyse(text).score for text in ("rude", "very rude", "slightly rude"))

    assert very < plain < slightly < 0


def test_a_negation_does_not_reach_past_its_clause() -> None:
    assert analyse("Not once did she rush me, great reading").label == POSITIVE
    assert analyse("not, good").label == POSITIVE  # the comma ends the negation


def test_the_same_text_always_scores_the_same() -> None:
    text = "Honest, kind and accurate; not rushed at all."

    assert {analyse(text) for _ in range(3)} == {analyse(text)}
    assert analyse(text).label == POSITIVE


def test_the_confidence_of_neutral_text_is_highest_without_any_sentiment_word() -> None:
    assert analyse("I asked about my career.").confidence == 1
    assert 0 < analyse("kind of vague").confidence < 1
