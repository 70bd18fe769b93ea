"""Small French typography helpers of the IJ screens and documents.

``de("Aïcha")`` gives ``"d'Aïcha"``, ``de("Léa")`` gives ``"de Léa"``, ``de("août 2024")`` gives
``"d'août 2024"``: the preposition elides before a vowel (accented ones included) or a mute h.
An h is taken as mute unless the word is one of the usual h aspirés; a y before a consonant is a
vowel (« d'Yves ») and a semi-consonant before a vowel (« de Yasmine »).
"""

from __future__ import annotations

import unicodedata

VOWELS = frozenset("aeiou")
LIGATURES = {"œ": "oe", "æ": "ae"}

# Words (and names) whose h is aspirated: no elision (« de Hollande », but « d'Hugo », « d'Hélène »).
# The list covers the common nouns and a few names; any other h is taken as mute.
H_ASPIRE = frozenset({
    "hache", "haie", "haine", "hall", "halte", "hamac", "hameau", "hanche", "handicap", "hangar", "hanneton",
    "hardi", "hareng", "haricot", "harpe", "hasard", "hate", "haut", "haute", "hauteur", "havre", "heros",
    "hetre", "hibou", "hierarchie", "hollande", "homard", "hongrie", "honte", "hors", "housse", "hublot",
    "huit", "huitieme", "hurle", "hutte",
    "hallyday", "hardy", "harley", "harry", "heinz", "hitchcock", "hoche", "howard", "hulot",
})


def _plain(word: str) -> str:
    """Lower case, without accents, ligatures spelt out: ``Œdipe`` → ``oedipe``, ``Élise`` → ``elise``."""
    text = "".join(LIGATURES.get(c, c) for c in word.strip().casefold())
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def elides(word: str) -> bool:
    """Does « de » elide to « d' » before this word (or group of words)?"""
    plain = _plain(word)
    if not plain:
        return False
    first, rest = plain[0], plain[1:]
    if first in VOWELS:
        return True
    if first == "y":
        return bool(rest) and rest[0] not in VOWELS
    if first == "h":
        head = "".join(c for c in plain.split()[0] if c.isalpha())
        return bool(rest) and rest[0] in VOWELS | {"y"} and head not in H_ASPIRE
    return False


def de(word: str) -> str:
    """« de » followed by ``word``, elided where French elides it: ``d'Aïcha``, ``de Léa``."""
    word = word.strip()
    return f"d'{word}" if elides(word) else f"de {word}"
