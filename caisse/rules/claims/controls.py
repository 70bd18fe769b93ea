"""Controls of a feuille and of its lines, with the contract's rejection codes.

Feuille-level codes (the whole feuille is rejected, its lines are not liquidated and the output
shows no line): ``DONNEE_INVALIDE`` (a required field missing or malformed, or no line),
``DOUBLON`` (the same feuille id was already processed), ``NIR_INVALIDE`` (format or control key,
2A/2B included), ``BENEFICIAIRE_INCONNU``, ``PS_INCONNU`` (the executant), ``CARTE_EN_OPPOSITION``
(the carte Vitale read was put in opposition on or before the date of care).

Line-level codes (the line is rejected with zero amounts; the feuille is rejected when all its
lines are): ``DONNEE_INVALIDE``, ``CODE_INCONNU`` (no tariff on the date of care),
``DATE_FUTURE`` (care after the reception; or after the date a caller gives as today), ``PRESCRIPTION``
(received more than two years after the first day of the quarter following the care, CSS L332-1;
after the act itself for AT/MP care, L431-2), ``DECES`` (care after the death),
``DROITS_FERMES`` (no open right, PUMa or AME, on the date of care), ``DOUBLON`` (the same act,
same day, same professional, same person was already liquidated in another feuille). A feuille
whose every line is a duplicate act is a duplicate feuille: it is rejected as a whole.

Only the first failing control (in the order above) is reported, so that a code always names
the cause to fix first.
"""

from __future__ import annotations

import polars as pl

NIR_PATTERN = r"^[1-478][0-9]{4}([0-9]{2}|2[AB])[0-9]{8}$"

# What a line may carry before it is a DONNEE_INVALIDE: far beyond any real claim, and small
# enough that tariff × quantité × coefficient and the sums of a whole flow stay exact in Int64.
MAX_QUANTITE = 1_000_000
MAX_COEFFICIENT = 1_000_000.0
MAX_MONTANT_CTS = 100_000_000_000  # one billion euros

FEUILLE_CODES = (
    "DONNEE_INVALIDE",
    "DOUBLON",
    "NIR_INVALIDE",
    "BENEFICIAIRE_INCONNU",
    "PS_INCONNU",
    "CARTE_EN_OPPOSITION",
)
LINE_CODES = ("DONNEE_INVALIDE", "CODE_INCONNU", "DATE_FUTURE", "PRESCRIPTION", "DECES", "DROITS_FERMES", "DOUBLON")

MESSAGES = {
    "DONNEE_INVALIDE": "donnée manquante ou invalide",
    "DOUBLON": "doublon d'une feuille ou d'un acte déjà traité",
    "NIR_INVALIDE": "NIR invalide (format ou clé de contrôle)",
    "BENEFICIAIRE_INCONNU": "bénéficiaire inconnu du référentiel",
    "PS_INCONNU": "professionnel de santé exécutant inconnu",
    "CARTE_EN_OPPOSITION": "carte Vitale en opposition à la date des soins",
    "CODE_INCONNU": "code d'acte inconnu de la nomenclature à la date des soins",
    "DATE_FUTURE": "date de soins postérieure à la date de réception",
    "PRESCRIPTION": "soins reçus plus de deux ans après le premier jour du trimestre suivant leur date, ou après l'acte pour un AT/MP (prescription, CSS art. L332-1 et L431-2)",
    "DECES": "soins postérieurs au décès du bénéficiaire",
    "DROITS_FERMES": "aucun droit ouvert à la date des soins",
}

RISQUES = ("maladie", "maternite", "atmp")
PARCOURS = (
    "medecin_traitant",
    "oriente",
    "hors_parcours",
    "urgence",
    "acces_direct_specifique",
    "remplacant",
    "hors_residence",
)


def nir_valid(nir: pl.Expr) -> pl.Expr:
    """Format and key of a NIR/NIA: key = 97 - (N mod 97), N with 2A -> 19 and 2B -> 18."""
    head = nir.str.slice(0, 13).str.replace("2A", "19", literal=True).str.replace("2B", "18", literal=True)
    number = head.cast(pl.Int64, strict=False)
    key = nir.str.slice(13, 2).cast(pl.Int64, strict=False)
    return (
        nir.str.contains(NIR_PATTERN).fill_null(False)
        & (pl.lit(97, pl.Int64) - number % 97 == key).fill_null(False)
    )


def first_code(conditions: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """The code of the first true condition, or null."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String())
    for code, cond in reversed(conditions):
        expr = pl.when(cond).then(pl.lit(code)).otherwise(expr)
    return expr
