"""Capture of paper feuilles de soins (FSP) by a liquidateur: the back-office "saisie".

A captured feuille is stored exactly as :func:`caisse.claims.services.receive_flow` stores one
record of a flow: a :class:`~caisse.claims.models.FlowReception` (one per captured feuille, its
``fichier`` starting with :data:`SAISIE_PREFIX`), and a received
:class:`~caisse.claims.models.Feuille` whose ``enregistrement`` is the contract §2 input record,
with the batch reader's verdict. The next daily run (``caisse traiter``) liquidates it.

Ids are ``FSP-<AAAAMMJJ>-<n>`` (day of capture, rank of the day); a concurrent capture that takes
the same id makes this one retry with the next rank (the id is unique in the database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from caisse.claims.models import Feuille, FeuilleStatus, FeuilleType, FlowFormat, FlowReception
from caisse.core import audit
from caisse.core.models import AuditAction
from caisse.rules.claims import records

SAISIE_PREFIX = "saisie papier"
MAX_LINES = 6
_ATTEMPTS = 20


@dataclass(frozen=True)
class PaperLine:
    code: str
    date_soins: dt.date
    quantite: int
    coefficient: float
    montant_facture_cts: int


@dataclass(frozen=True)
class PaperFeuille:
    nir: str
    executant: str
    prescripteur: str | None
    tiers_payant: bool
    risque: str
    parcours: str
    en_rapport_ald: bool
    date_reception: dt.date
    lignes: tuple[PaperLine, ...]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def contract_record(ident: str, feuille: PaperFeuille) -> dict[str, Any]:
    """The contract §2 input record of a captured feuille (no carte Vitale on paper)."""
    return {
        "id": ident,
        "type": FeuilleType.FSP.value,
        "date_reception": feuille.date_reception.isoformat(),
        "nir": feuille.nir,
        "executant": feuille.executant,
        "prescripteur": feuille.prescripteur or None,
        "tiers_payant": feuille.tiers_payant,
        "risque": feuille.risque,
        "parcours": feuille.parcours,
        "en_rapport_ald": feuille.en_rapport_ald,
        "carte_vitale": None,
        "lignes": [
            {
                "code": line.code,
                "date_soins": line.date_soins.isoformat(),
                "quantite": line.quantite,
                "coefficient": _number(line.coefficient),
                "montant_facture_cts": line.montant_facture_cts,
            }
            for line in feuille.lignes
        ],
    }


def _next_rank(day: dt.date) -> int:
    prefix = f"FSP-{day:%Y%m%d}-"
    ranks = [0]
    for ident in Feuille.objects.filter(identifiant__startswith=prefix).values_list("identifiant", flat=True):
        suffix = (ident or "")[len(prefix):]
        if suffix.isdigit():
            ranks.append(int(suffix))
    return max(ranks) + 1


def capture_feuille(feuille: PaperFeuille, *, by: Any, today: dt.date | None = None) -> Feuille:
    """Store a paper feuille as received (type FSP) and record it in the audit trail."""
    today = today or timezone.localdate()
    rank = _next_rank(today)
    for _ in range(_ATTEMPTS):
        ident = f"FSP-{today:%Y%m%d}-{rank}"
        try:
            with transaction.atomic():
                return _store(ident, feuille, by)
        except IntegrityError:
            if not Feuille.objects.filter(identifiant=ident).exists():
                raise
            rank = max(rank + 1, _next_rank(today))
    raise IntegrityError("Impossible d'attribuer un identifiant unique à la feuille saisie.")


def _store(ident: str, feuille: PaperFeuille, by: Any) -> Feuille:
    record = contract_record(ident, feuille)
    payload = json.dumps(record, sort_keys=True, ensure_ascii=False).encode()
    # The same verdict the flow reader gives this record (the form already refuses bad input).
    f, lines = records.frames_from_records([record])
    invalid = bool(f.get_column("_invalide").fill_null(False)[0])
    bad_lines = [int(i) for i in lines.filter(lines.get_column("_invalide").fill_null(False)).get_column("_lpos")]
    reason = ""
    if invalid:
        reason = "Donnée manquante ou invalide : la feuille sera rejetée (DONNEE_INVALIDE)."
    elif bad_lines:
        ranks = ", ".join(str(i + 1) for i in bad_lines)
        reason = f"Ligne(s) {ranks} invalide(s) : rejetée(s) au traitement (DONNEE_INVALIDE)."
    user = getattr(by, "get_username", lambda: "")()
    reception = FlowReception.objects.create(
        fichier=f"{SAISIE_PREFIX} {ident} ({user})"[:500], format=FlowFormat.NDJSON,
        empreinte=hashlib.blake2b(payload, digest_size=32).hexdigest(),
        nb_enregistrements=1, nb_recues=1, nb_doublons=0, nb_invalides=int(invalid or bool(bad_lines)),
    )
    stored = Feuille.objects.create(
        identifiant=ident, type=FeuilleType.FSP, date_reception=feuille.date_reception, nir=feuille.nir,
        executant=feuille.executant, enregistrement=record, invalide=invalid, lignes_invalides=bad_lines,
        erreur=reason[:300], reception=reception, position=0,
    )
    audit.record(by=by, action=AuditAction.CREATE, obj=stored,
                 summary=f"Saisie de la feuille de soins papier {ident} ({len(feuille.lignes)} ligne(s))")
    return stored


def captured_pending() -> QuerySet[Feuille]:
    """Paper feuilles captured here and not processed yet, oldest first."""
    return (
        Feuille.objects.filter(type=FeuilleType.FSP, statut=FeuilleStatus.RECUE,
                               reception__fichier__startswith=SAISIE_PREFIX)
        .select_related("reception")
        .order_by("date_reception", "identifiant")
    )
