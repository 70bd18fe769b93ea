"""SEPA credit transfers (pain.001.001.03) of the payments, with the ``sepaxml`` library.

One transfer per payment (that is per payee and payment date), grouped by sepaxml into one
payment information block per execution date. Amounts are integer cents, handed over as such
(sepaxml writes ``cents / 100`` exactly, no float).

The debtor is the caisse, configured by the environment (or the Django settings of the same
names): ``CAISSE_SEPA_NOM``, ``CAISSE_SEPA_IBAN``, ``CAISSE_SEPA_BIC``; the defaults are a
demonstration account at the Banque de France. A payment whose payee has no valid IBAN is left
out of the file and reported.

A pain.001 document carries at least one payment information block, hence at least one transfer
(the XSD's ``PmtInf`` is ``minOccurs="1"``): with nothing to transfer (no payment, or none with a
valid IBAN) no document is made at all, :class:`NothingToTransfer` says why in French, and the
callers write no file (``caisse exporter paiements``) or offer none (the back-office page).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from sepaxml import SepaTransfer

from caisse.claims.models import PayeeKind, Payment
from caisse.rules import identifiers

DEFAULT_NAME = "CPAM DE DEMONSTRATION"
DEFAULT_IBAN = "FR7630001000000000000000127"
DEFAULT_BIC = "BDFEFRPPCCT"


def debtor() -> dict[str, str]:
    """The caisse's account (name, IBAN, BIC)."""

    def get(name: str, default: str) -> str:
        return str(os.environ.get(name) or getattr(settings, name, "") or default)

    return {
        "name": get("CAISSE_SEPA_NOM", DEFAULT_NAME),
        "IBAN": identifiers.compact(get("CAISSE_SEPA_IBAN", DEFAULT_IBAN)),
        "BIC": get("CAISSE_SEPA_BIC", DEFAULT_BIC),
    }


def valid_iban(value: str) -> str | None:
    if not value:
        return None
    try:
        return identifiers.check_iban(value)
    except identifiers.InvalidIdentifier:
        return None


class NothingToTransfer(ValueError):
    """No transfer to put in a pain.001 document (which would be schema-invalid without one).

    ``skipped``: the payments left out for want of a valid IBAN (empty when there was no payment)."""

    def __init__(self, skipped: Sequence[Payment]) -> None:
        self.skipped = list(skipped)
        reason = (f"{len(self.skipped)} paiement(s), aucun avec un IBAN valide" if self.skipped
                  else "aucun paiement")
        super().__init__(f"Aucun virement à exporter ({reason}) : aucun fichier SEPA n'est produit.")


def credit_transfer(payments: Sequence[Payment]) -> tuple[bytes, list[Payment]]:
    """(the pain.001 document, the payments left out for want of a valid IBAN).

    Raises :class:`NothingToTransfer` when no payment can be carried (no payment, or none with
    a valid IBAN): a pain.001 without a transfer is not valid against its schema."""
    config: dict[str, Any] = {**debtor(), "batch": True, "currency": "EUR"}
    transfer = SepaTransfer(config, schema="pain.001.001.03", clean=True)
    skipped: list[Payment] = []
    for p in payments:
        iban = valid_iban(p.iban)
        if iban is None:
            skipped.append(p)
            continue
        who = "professionnel" if p.type_beneficiaire == PayeeKind.PS else "assure"
        payment: dict[str, Any] = {
            "name": p.nom or p.identifiant_beneficiaire,
            "IBAN": iban,
            "amount": int(p.montant_cts),
            "execution_date": p.date_paiement,
            "description": f"Remboursement frais de sante {who} {p.identifiant_beneficiaire} "
            f"{p.nb_feuilles} feuille(s) du {p.date_paiement:%d/%m/%Y}",
            "endtoend_id": f"CAISSE{p.date_paiement:%Y%m%d}P{p.pk}"[:35],
        }
        if p.bic:
            payment["BIC"] = p.bic
        transfer.add_payment(payment)
    if len(skipped) == len(payments):
        raise NothingToTransfer(skipped)
    return transfer.export(validate=True), skipped
