"""French explanations: one sentence per rule applied, with its parameter value and legal reference.

The engine leaves on every line the facts each rule used (nomenclature row, rate origin,
exemptions, caps reached...). A line's explanation names the rules and the *parameter values*
they used (tariff and its date of effect, rate, flat charges, caps); the amounts the rules
computed for the line are in the line's own columns (``base_remboursement_cts``,
``depassement_cts``, ``part_c2s_cts``...), so the text does not repeat them.

That choice makes explanations cheap at scale: a flow of millions of lines has only a few
thousand distinct explanations. Each line gets an exact integer *signature* of everything its
text depends on (three Int64 words); the sentences are written once per distinct signature and
the result is a ``Categorical`` column (dictionary-encoded in Parquet). A line whose facts do
not fit the signature's bit budget (an unusual quantity or coefficient) gets a signature of its
own, so the text is always exact.

The décompte's own sentences (rejection, debt recovered, who is paid) depend on a handful of
flags and are looked up the same way. In NDJSON records (:func:`records.records_from_frames`)
the décompte's ``explication`` starts with its lines' sentences, as the contract shows it.
"""

from __future__ import annotations

import functools
from typing import TypeVar

import polars as pl

from caisse.rules.claims.controls import FEUILLE_CODES, LINE_CODES, MESSAGES
from caisse.rules.claims.frames import drop, is_small
from caisse.rules.claims.nomenclature import CATEGORY_LABELS

REJECT_IDS = {code: i + 1 for i, code in enumerate(dict.fromkeys((*LINE_CODES, *FEUILLE_CODES)))}

# Facts a line's text depends on, packed as bits of the second signature word.
LINE_FLAGS = (
    "_depasse",
    "_sous_tarif",
    "_ame_exclu",
    "_exo_atmp",
    "_exo_maternite",
    "_exo_ald",
    "_exo_invalidite",
    "_exo_nouveau_ne",
    "_ame",
    "_hors_parcours",
    "_exonere",
    "_fal",
    "_hosp_31",
    "_pf_plafond_jour_atteint",
    "_pf_plafond_an_atteint",
    "_fr_plafond_jour_atteint",
    "_fr_plafond_an_atteint",
    "_phrase_exoneration",
    "tiers_payant",
    "_c2s_paye",
    "_acces_direct_sans_mt",
)
# (column, bits) packed after the flags in word 2, then in word 3.
WORD2 = (("participation_forfaitaire_cts", 13), ("franchise_cts", 13), ("forfait_actes_lourds_cts", 13))  # + the flags
assert sum(bits for _, bits in WORD2) + len(LINE_FLAGS) <= 63, "the flags no longer fit the second signature word"
WORD3 = (("forfait_journalier_cts", 20), ("_dette_ligne", 14), ("_pf_plafond_an", 14), ("_fr_plafond_an", 14))


def eur(cts: pl.Expr) -> pl.Expr:
    """An amount in cents written the French way: ``1 234`` cents -> ``12,34 €``."""
    return pl.format(
        "{},{} €",
        (cts // 100).cast(pl.String),
        (cts % 100).cast(pl.String).str.zfill(2),
    )


def _when(cond: pl.Expr, text: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(text).otherwise(pl.lit(None, dtype=pl.String()))


def _pack(fields: list[tuple[pl.Expr, int]]) -> tuple[pl.Expr, pl.Expr]:
    """(word, all fields fit): non-negative integer fields packed low bits first."""
    terms = []
    fits = []
    shift = 0
    for value, bits in fields:
        terms.append(value * (1 << shift) if shift else value)
        fits.append(value < (1 << bits))
        shift += bits
    assert shift <= 63
    return pl.sum_horizontal(terms), pl.all_horizontal(fits)


def _bits(flags: tuple[str, ...]) -> pl.Expr:
    """The flags as bits of one integer (a null flag counts as false)."""
    assert len(flags) <= 32
    return pl.sum_horizontal(
        pl.col(f).cast(pl.UInt32) * pl.lit(1 << i, dtype=pl.UInt32) if i else pl.col(f).cast(pl.UInt32)
        for i, f in enumerate(flags)
    ).cast(pl.Int64)


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


TARIF_AUTORITE = "_tarif_autorite_cts"
TARIF_AUTORITE_UNITE = "_tarif_autorite_unite_cts"
TARIF_AUTORITE_PART = "_tarif_autorite_part"
"""The tarif d'autorité of a line and the parameter it comes from (per consultation, or share of
the tariff): columns only when some executant is not conventionné (see the engine)."""


def line_signature(lines: Frame, words: bool = True, authority: bool = False) -> Frame:
    """The three signature words ``_sig1``.. ``_sig3`` of each line (see the module docstring),
    and the flags they read. A rejected line's text depends only on its rejection code. Column
    expressions only: the engine chains this step lazily with the payments. ``words=False``
    gives the flags only: a small batch's texts are written line by line (:func:`explain_lines`).
    With ``authority`` (a ``_tarif_autorite_cts`` column), a line paid on the tarif d'autorité
    gets a signature of its own (such lines are rare)."""
    lines = lines.with_columns(
        (pl.col("depassement_cts") > 0).alias("_depasse"),
        (
            pl.col("_exempt_participations")
            & (pl.col("_pf_brut") == 0)
            & (pl.col("_fr_brut") == 0)
            & (pl.col("_fr_kind").is_not_null() | pl.col("_pf_categorie"))
        ).alias("_phrase_exoneration"),
        (pl.col("_c2s") & (pl.col("part_c2s_cts") > 0)).alias("_c2s_paye"),
    )
    if not words:
        return lines
    ok = pl.col("_ok")
    coef100 = (pl.col("coefficient") * 100).round(0)
    w1, fit1 = _pack(
        [
            (pl.col("_nomen_row") + 1, 20),
            (pl.col("quantite"), 9),
            (coef100.cast(pl.Int64), 20),
            (pl.col("taux"), 8),
        ]
    )
    w2, fit2 = _pack([(pl.col(c), b) for c, b in WORD2])
    w3, fit3 = _pack([(pl.col(c).fill_null(0), b) for c, b in WORD3])
    fits = fit1 & fit2 & fit3 & (coef100 == pl.col("coefficient") * 100)
    if authority:
        fits = fits & pl.col(TARIF_AUTORITE).is_null()
    own = -(pl.int_range(pl.len(), dtype=pl.Int64) + 1)  # a signature of its own
    rejet = pl.col("_rejet_l").replace_strict(REJECT_IDS, default=0, return_dtype=pl.Int64).fill_null(0)
    return lines.with_columns(
        pl.when(~ok).then(rejet).when(fits).then(w1).otherwise(own).alias("_sig1"),
        pl.when(ok & fits).then(w2 * (1 << len(LINE_FLAGS)) + _bits(LINE_FLAGS)).otherwise(0).alias("_sig2"),
        pl.when(ok & fits).then(w3).otherwise(0).alias("_sig3"),
    )


def _line_texts(rep: pl.DataFrame) -> pl.Series:
    """The explanation of each representative line (one per distinct signature)."""
    return rep.select(_line_text_expression(TARIF_AUTORITE in rep.columns)).to_series()


@functools.cache
def _line_text_expression(authority: bool = False) -> pl.Expr:
    """The sentences of a line, as one expression built once (it reads only the line's columns);
    with ``authority``, the base of a line paid on the tarif d'autorité says so."""
    ok = pl.col("_ok")
    taux = pl.col("taux").cast(pl.String)
    rejected = pl.format(
        "Ligne rejetée ({}) : {}.",
        pl.col("_rejet_l"),
        pl.col("_rejet_l").replace_strict(MESSAGES, default=pl.lit("rejet")),
    )
    quantity = pl.col("quantite").cast(pl.String)
    coefficient = pl.col("coefficient").cast(pl.String).str.replace(r"\.0$", "")
    under = pl.when(pl.col("_sous_tarif")).then(pl.lit(", limitée au montant facturé")).otherwise(pl.lit(""))
    base = pl.format(
        "Base de remboursement : {} au tarif de {} en vigueur depuis le {}, quantité {}, coefficient {}{} (CSS art. L162-1-7).",
        pl.col("code"), eur(pl.col("tarif_cts")), pl.col("_tarif_debut").dt.to_string("%d/%m/%Y"), quantity, coefficient, under,
    )
    if authority:
        base = (
            pl.when(pl.col(TARIF_AUTORITE).is_null())
            .then(base)
            .when(pl.col(TARIF_AUTORITE_UNITE).is_not_null())
            .then(pl.format(
                "Professionnel non conventionné : base de remboursement au tarif d'autorité, {} pour {}, quantité {},"
                " coefficient {}{}, au lieu du tarif conventionnel de {} (CSS art. L162-5-10).",
                eur(pl.col(TARIF_AUTORITE_UNITE)), pl.col("code"), quantity, coefficient, under, eur(pl.col("tarif_cts")),
            ))
            .otherwise(pl.format(
                "Professionnel non conventionné : base de remboursement au tarif d'autorité, {} % du tarif conventionnel"
                " de {} pour {}, quantité {}, coefficient {}{} (CSS art. L162-5-10).",
                pl.col(TARIF_AUTORITE_PART).cast(pl.String), eur(pl.col("tarif_cts")), pl.col("code"), quantity,
                coefficient, under,
            ))
        )
    pieces = [
        _when(ok, base),
        _when(
            ok & pl.col("_depasse"),
            pl.lit("Dépassement (montant facturé au-delà du tarif) non remboursable (CSS art. L162-1-7)."),
        ),
        _when(
            ok & pl.col("_ame_exclu"),
            pl.lit("Catégorie exclue de l'aide médicale de l'État : taux 0 % (CASF art. L251-2)."),
        ),
        _when(ok & pl.col("_exo_atmp"), pl.lit("Soins au titre d'un accident du travail ou d'une maladie professionnelle : prise en charge à 100 % (CSS art. L431-1).")),
        _when(ok & pl.col("_exo_maternite"), pl.lit("Exonération maternité (du 1er jour du 6e mois au 12e jour après l'accouchement) : prise en charge à 100 % (CSS art. L160-14).")),
        _when(ok & pl.col("_exo_ald"), pl.lit("Soins en rapport avec l'affection de longue durée : exonération du ticket modérateur, 100 % (CSS art. L160-14 3°).")),
        _when(ok & pl.col("_exo_invalidite"), pl.lit("Titulaire d'une pension d'invalidité : exonération du ticket modérateur, 100 % (CSS art. L160-14 10°).")),
        _when(ok & pl.col("_exo_nouveau_ne"), pl.lit("Nouveau-né hospitalisé dans les 30 jours suivant la naissance : prise en charge à 100 % (CSS art. L160-14).")),
        _when(ok & pl.col("_ame") & ~pl.col("_ame_exclu"), pl.lit("Aide médicale de l'État : prise en charge à 100 % du tarif (CASF art. L251-2).")),
        _when(
            # On an act of a heavy session the forfait replaces the ticket modérateur (below).
            ok & pl.col("_hors_parcours") & ~pl.col("_exonere") & ~pl.col("_fal"),
            pl.when(pl.col("_acces_direct_sans_mt"))
            .then(pl.format(
                "Accès direct spécifique sans médecin traitant déclaré : hors parcours de soins coordonnés, taux de {} %"
                " (CSS art. L162-5-3).", taux,
            ))
            .otherwise(pl.format("Hors parcours de soins coordonnés : taux de {} % (CSS art. L162-5-3).", taux)),
        ),
        _when(
            ok & ~pl.col("_exonere") & ~pl.col("_hors_parcours") & ~pl.col("_ame_exclu") & ~pl.col("_fal"),
            pl.format(
                "Taux de remboursement de {} % pour {} (CSS art. R160-5).", taux,
                pl.col("categorie").cast(pl.String).replace_strict(
                    CATEGORY_LABELS, default=pl.concat_str(pl.lit("la catégorie "), pl.col("categorie").cast(pl.String)),
                    return_dtype=pl.String,
                ),
            ),
        ),
        _when(
            ok & pl.col("_fal") & (pl.col("forfait_actes_lourds_cts") > 0),
            pl.format(
                "Acte lourd (tarif ou coefficient au-dessus du seuil) : forfait de {} à la place du ticket modérateur (CSS art. R160-16).",
                eur(pl.col("forfait_actes_lourds_cts")),
            ),
        ),
        _when(
            ok & pl.col("_fal") & (pl.col("forfait_actes_lourds_cts") == 0),
            pl.lit("Acte d'une séance d'actes lourds : le forfait de la séance, porté par un autre acte, remplace le ticket"
                   " modérateur, aucun n'est dû sur celui-ci (CSS art. R160-16)."),
        ),
        _when(ok & pl.col("_hosp_31"), pl.lit("Hospitalisation : frais de séjour pris en charge à 100 % à partir du 31e jour (CSS art. L160-14 9°).")),
        _when(
            ok & (pl.col("forfait_journalier_cts") > 0),
            pl.format("Forfait journalier hospitalier de {} à la charge du patient (CSS art. L174-4).", eur(pl.col("forfait_journalier_cts"))),
        ),
        _when(
            ok & (pl.col("participation_forfaitaire_cts") > 0),
            pl.format("Participation forfaitaire de {} (CSS art. L160-13 II).", eur(pl.col("participation_forfaitaire_cts"))),
        ),
        _when(ok & pl.col("_pf_plafond_jour_atteint"), pl.lit("Participation forfaitaire limitée par le plafond journalier par professionnel (CSS art. D160-6).")),
        _when(
            ok & pl.col("_pf_plafond_an_atteint"),
            pl.format("Participation forfaitaire limitée par le plafond annuel de {} (CSS art. D160-6).", eur(pl.col("_pf_plafond_an"))),
        ),
        _when(
            ok & (pl.col("franchise_cts") > 0),
            pl.format("Franchise médicale de {} (CSS art. L160-13 III).", eur(pl.col("franchise_cts"))),
        ),
        _when(ok & pl.col("_fr_plafond_jour_atteint"), pl.lit("Franchise limitée par le plafond journalier (CSS art. D160-9).")),
        _when(
            ok & pl.col("_fr_plafond_an_atteint"),
            pl.format("Franchise limitée par le plafond annuel de {} (CSS art. D160-9).", eur(pl.col("_fr_plafond_an"))),
        ),
        _when(
            ok & pl.col("_phrase_exoneration"),
            pl.lit("Exonération de la participation forfaitaire et des franchises (mineur, C2S, AME, maternité ou AT/MP ; CSS art. L160-13 IV)."),
        ),
        _when(
            ok & pl.col("tiers_payant") & (pl.col("_dette_ligne") > 0),
            pl.format("Tiers payant : {} de participations mis à la charge de l'assuré, récupérables sur ses remboursements (CSS art. L160-13).", eur(pl.col("_dette_ligne"))),
        ),
        _when(
            ok & pl.col("_c2s_paye"),
            pl.lit("Complémentaire santé solidaire : le ticket modérateur est pris en charge (part C2S, CSS art. L861-3)."),
        ),
        _when(~ok & pl.col("_rejet_l").is_not_null(), rejected),
    ]
    return pl.concat_str(pieces, separator=" ", ignore_nulls=True).alias("explication")


MEMO_MAX = 100_000
"""Texts kept for the real-time path (a few hundred bytes each)."""


def _as_signed(facts: pl.DataFrame) -> pl.DataFrame:
    """The facts a text reads, as the signature packs them: a null flag is false, a null amount of
    the third word is 0 (else one signature could give two texts, the representative line
    deciding). Applied to the rows whose texts are written only, not to the whole flow."""
    return facts.with_columns(pl.col(LINE_FLAGS).fill_null(False), *(pl.col(c).fill_null(0) for c, _ in WORD3))


def explain_lines(lines: pl.DataFrame, memo: dict[tuple[object, ...], str]) -> pl.DataFrame:
    """Adds ``explication`` (Categorical) to each line, from its signature
    (:func:`line_signature`, computed before).

    A small batch (a real-time call) has no signature: each line's text is taken from ``memo``
    (the texts already written for the same nomenclature and parameters, which the engine keeps
    per nomenclature and parameter tree, keyed by the values of every column a text reads), or
    written directly and kept there."""
    keys = ["_sig1", "_sig2", "_sig3"]
    needed = [
        "_ok", "_rejet_l", "code", "tarif_cts", "_tarif_debut", "quantite", "coefficient", "taux", "categorie",
        *LINE_FLAGS, *(c for c, _ in WORD2), *(c for c, _ in WORD3),
        *([TARIF_AUTORITE, TARIF_AUTORITE_UNITE, TARIF_AUTORITE_PART] if TARIF_AUTORITE in lines.columns else []),
    ]
    if is_small(lines.height):
        facts_frame = _as_signed(lines[needed])
        facts: list[tuple[object, ...]] = facts_frame.rows()
        texts: list[str | None] = [memo.get(fact) for fact in facts]
        missing = [i for i, text in enumerate(texts) if text is None]
        if missing:
            for i, text in zip(missing, _line_texts(facts_frame[missing]).to_list(), strict=True):
                texts[i] = text
                if text is not None and len(memo) < MEMO_MAX:
                    memo[facts[i]] = text
        return drop(lines, *keys).hstack([pl.Series("explication", texts, dtype=pl.Categorical)])
    rep = _as_signed(lines.select(*keys, *needed).unique(subset=keys, keep="any"))
    table = rep.select(keys).with_columns(_line_texts(rep).cast(pl.Categorical).alias("explication"))
    column = lines.select(keys).join(table, on=keys, how="left", maintain_order="left").get_column("explication")
    return drop(lines, *keys).with_columns(column)


def _feuille_text(rejet: str | None, liquidee: bool, creee: bool, recuperee: bool, tiers_payant: bool,
                  verse: bool = True) -> str:
    pieces = []
    if rejet is not None:
        pieces.append(f"Feuille rejetée ({rejet}) : {MESSAGES.get(rejet, 'rejet')}.")
    elif not liquidee:
        pieces.append("Feuille rejetée : aucune ligne liquidable.")
    if creee and tiers_payant:
        pieces.append(
            "En tiers payant, la participation forfaitaire et les franchises ne sont pas déduites : elles deviennent "
            "une dette de l'assuré, récupérée sur ses prochains remboursements (CSS art. L160-13)."
        )
    elif creee:
        pieces.append(
            "Participations et franchises non déduites (remboursement d'une ligne trop faible) : elles deviennent une "
            "dette de l'assuré, récupérée sur ses prochains remboursements (CSS art. L160-13)."
        )
    if recuperee:
        pieces.append("Une dette de participations antérieure est récupérée sur ce remboursement (CSS art. L160-13).")
    if liquidee and tiers_payant:
        pieces.append("Tiers payant : le professionnel de santé est payé directement.")
    elif liquidee and verse:
        pieces.append("Remboursement versé à l'assuré.")
    elif liquidee and recuperee:
        pieces.append("Rien n'est versé à l'assuré : tout le remboursement est retenu au titre de cette dette.")
    elif liquidee:
        pieces.append("Aucun montant à verser à l'assuré.")
    return " ".join(pieces)


_FEUILLE_CODES = [None, *REJECT_IDS]
_FEUILLE_TEXTS = pl.Series(
    "explication",
    [
        _feuille_text(code, bool(liq), bool(created), bool(rec), bool(tp), bool(paid))
        for code in _FEUILLE_CODES
        for liq in (0, 1)
        for paid in (0, 1)
        for created in (0, 1)
        for rec in (0, 1)
        for tp in (0, 1)
    ],
    dtype=pl.Categorical,
)


def explain_feuilles(decomptes: pl.DataFrame) -> pl.DataFrame:
    """Adds the décompte's own sentences as ``explication`` (Categorical): rejection, debt
    created and debt recovered, who is paid (or that nothing is paid to the assuré). The amounts
    are in the décompte's columns. A small batch's few décomptes are indexed here, value by value
    (no plan)."""
    if is_small(decomptes.height):
        rejets, liquidees, creees, recuperees, tiers, verses = (
            decomptes.get_column(c).to_list()
            for c in ("_rejet_f", "_liquidee", "dette_creee_cts", "dette_recuperee_cts", "tiers_payant",
                      "paiement_assure_cts")
        )
        rows = [
            (0 if r is None else REJECT_IDS[r]) * 32 + bool(liq) * 16 + (v is not None and v > 0) * 8
            + (cre is not None and cre > 0) * 4 + (rec is not None and rec > 0) * 2 + bool(tp)
            for r, liq, cre, rec, tp, v in zip(rejets, liquidees, creees, recuperees, tiers, verses, strict=True)
        ]
        return decomptes.hstack([_FEUILLE_TEXTS.gather(rows)])
    code = pl.col("_rejet_f").replace_strict(REJECT_IDS, return_dtype=pl.Int64)  # every code is known: an unknown one raises
    code = pl.when(pl.col("_rejet_f").is_null()).then(0).otherwise(code)
    index = (
        code * 32
        + pl.col("_liquidee").fill_null(False).cast(pl.Int64) * 16
        + (pl.col("paiement_assure_cts") > 0).fill_null(False).cast(pl.Int64) * 8
        + (pl.col("dette_creee_cts") > 0).fill_null(False).cast(pl.Int64) * 4
        + (pl.col("dette_recuperee_cts") > 0).fill_null(False).cast(pl.Int64) * 2
        + pl.col("tiers_payant").fill_null(False).cast(pl.Int64)
    )
    return decomptes.with_columns(pl.lit(_FEUILLE_TEXTS).gather(index).alias("explication"))


def compose(feuille_text: str | None, lines: list[tuple[int, str | None, str | None]]) -> str:
    """The décompte's explanation as the contract shows it: its lines' sentences (``(rank, code,
    text)``), then its own."""
    parts = [f"Ligne {rank + 1} ({code or '?'}) : {text}" for rank, code, text in lines if text]
    if feuille_text:
        parts.append(feuille_text)
    return " ".join(parts)
