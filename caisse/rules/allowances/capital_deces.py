"""Capital décès (L361-1 s. CSS): the flat amount at the date of death and who receives it.

Beneficiaries (L361-4): the *prioritaires* are the persons at the effective, total and permanent
charge of the deceased who claim priority within 1 month of the death — the spouse or PACS
partner, else the children, else the ascendants, sharing equally within the first rank present.
Without any, the *non prioritaires*: the spouse not separated or PACS partner, else the
descendants, else the ascendants. The request must be made within 2 years of the death.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from caisse.rules.c2s.ame import add_months
from caisse.rules.parameters import Parameters, load_parameters

LIENS = ("conjoint", "enfant", "ascendant")


@dataclass(frozen=True)
class Beneficiaire:
    """A person who may receive the capital décès."""

    id: str
    lien: str  # conjoint (spouse or PACS partner), enfant (descendant), ascendant
    a_charge: bool = False  # at the effective, total and permanent charge of the deceased
    separe: bool = False  # spouse separated (de corps or de fait)
    date_demande_priorite: dt.date | None = None


def capital_deces_montant(date_deces: dt.date, params: Parameters | None = None) -> int:
    """Amount in cents of the capital décès for a death on ``date_deces``."""
    p = params if params is not None else load_parameters()
    return int(p.value("capital_deces.montant", date_deces))


def beneficiaires_servis(
    date_deces: dt.date, beneficiaires: list[Beneficiaire], params: Parameters | None = None
) -> tuple[str, list[Beneficiaire]]:
    """``("prioritaires" | "non_prioritaires" | "aucun", the rank that receives the capital)``."""
    p = params if params is not None else load_parameters()
    deadline = add_months(date_deces, int(p.value("capital_deces.delai_priorite", date_deces)))
    priority_order = str(p.value("capital_deces.ordre_prioritaires", date_deces)).split(",")
    plain_order = str(p.value("capital_deces.ordre_non_prioritaires", date_deces)).split(",")
    claimed = [
        b
        for b in beneficiaires
        if b.a_charge and b.date_demande_priorite is not None and b.date_demande_priorite <= deadline
    ]
    for lien in priority_order:
        rank = [b for b in claimed if b.lien == lien]
        if rank:
            return "prioritaires", rank
    for lien in plain_order:
        rank = [b for b in beneficiaires if b.lien == lien and not (lien == "conjoint" and b.separe)]
        if rank:
            return "non_prioritaires", rank
    return "aucun", []


def repartition_capital_deces(
    date_deces: dt.date, beneficiaires: list[Beneficiaire], params: Parameters | None = None
) -> list[tuple[str, int]]:
    """Share of each person served, in cents, equal within the rank (leftover cents to the first)."""
    _, rank = beneficiaires_servis(date_deces, beneficiaires, params)
    if not rank:
        return []
    share, rest = divmod(capital_deces_montant(date_deces, params), len(rank))
    return [(b.id, share + (1 if i < rest else 0)) for i, b in enumerate(rank)]


def demande_dans_les_delais(
    date_deces: dt.date, date_demande: dt.date, params: Parameters | None = None
) -> bool:
    """The request is made within the legal period after the death (L332-1: 2 years)."""
    p = params if params is not None else load_parameters()
    return date_demande <= add_months(
        date_deces, 12 * int(p.value("capital_deces.delai_demande", date_deces))
    )
