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

The document depends on the payments only (contract §7: a daily run killed and run again ends in
the state of an uninterrupted run, so exporting it gives the same file, byte for byte): each
transfer's ``EndToEndId`` names its payee and payment date (:func:`end_to_end_id`), never a
database id; the message id (``MsgId``) and each block's id (``PmtInfId``) are digests of what
they carry, and the creation time (``CreDtTm``) is the latest payment date at midnight, where
sepaxml would write the clock and random ids. Exporting the same payments twice thus gives the
same message, which a bank recognises as a repeated submission instead of paying twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from sepaxml import SepaTransfer
from sepaxml.validation import try_valid_xml

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


SCHEMA = "pain.001.001.03"
MAX_ID = 35  # Max35Text: MsgId, PmtInfId, EndToEndId
_PLAIN_ID = re.compile(r"[A-Za-z0-9]+")


def end_to_end_id(p: Payment) -> str:
    """The transfer's ``EndToEndId``: ``CAISSE``, the payment date, ``P`` (professional) or ``A``
    (assuré), then the payee's id, or ``-`` and a digest of it when it is not plain letters and
    digits or too long. One payment per payee and date, hence unique; the same whatever the
    database ids (a run killed and resumed numbers its rows differently on PostgreSQL)."""
    head = f"CAISSE{p.date_paiement:%Y%m%d}{'P' if p.type_beneficiaire == PayeeKind.PS else 'A'}"
    ident = str(p.identifiant_beneficiaire)
    if _PLAIN_ID.fullmatch(ident) and len(head) + len(ident) <= MAX_ID:
        return head + ident
    return head + "-" + hashlib.blake2b(ident.encode("utf-8"), digest_size=16).hexdigest()[: MAX_ID - len(head) - 1]


def _digest(parts: Sequence[object]) -> str:
    return hashlib.blake2b("\x1f".join(str(part) for part in parts).encode("utf-8"), digest_size=20).hexdigest()


def _stable_header(xml: bytes, lines: Sequence[tuple[Any, ...]], config: dict[str, Any]) -> bytes:
    """``MsgId``, ``PmtInfId`` and ``CreDtTm`` from the transfers themselves (see the module):
    ``lines``, one per transfer, start with its payment date."""
    message = "CAISSE" + _digest([config["name"], config["IBAN"], config["BIC"], *lines])[: MAX_ID - 6]
    blocks = {
        day.isoformat(): f"CAISSE{day:%Y%m%d}-" + _digest([message, *(x for x in lines if x[0] == day)])[: MAX_ID - 15]
        for day in {x[0] for x in lines}
    }
    created = dt.datetime.combine(max(x[0] for x in lines), dt.time()).strftime("%Y-%m-%dT%H:%M:%S")
    xml = re.sub(rb"<MsgId>[^<]*</MsgId>", f"<MsgId>{message}</MsgId>".encode(), xml, count=1)
    xml = re.sub(rb"<CreDtTm>[^<]*</CreDtTm>", f"<CreDtTm>{created}</CreDtTm>".encode(), xml, count=1)

    def block_id(match: re.Match[bytes]) -> bytes:  # each block (one per payment date) gets its own
        day = match.group(2).decode()
        return f"<PmtInfId>{blocks[day]}</PmtInfId>".encode() + match.group(1) + f"<ReqdExctnDt>{day}</ReqdExctnDt>".encode()

    return re.sub(rb"<PmtInfId>[^<]*</PmtInfId>(.*?)<ReqdExctnDt>([0-9-]+)</ReqdExctnDt>", block_id, xml, flags=re.DOTALL)


def credit_transfer(payments: Sequence[Payment]) -> tuple[bytes, list[Payment]]:
    """(the pain.001 document, the payments left out for want of a valid IBAN).

    The same payments give the same document, byte for byte (see the module). Raises
    :class:`NothingToTransfer` when no payment can be carried (no payment, or none with a valid
    IBAN): a pain.001 without a transfer is not valid against its schema."""
    config: dict[str, Any] = {**debtor(), "batch": True, "currency": "EUR"}
    transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
    skipped: list[Payment] = []
    carried: list[tuple[Any, ...]] = []  # what each transfer says, before sepaxml rewrites it
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
            "endtoend_id": end_to_end_id(p),
        }
        if p.bic:
            payment["BIC"] = p.bic
        carried.append((p.date_paiement, *(payment.get(k, "") for k in ("endtoend_id", "amount", "IBAN", "BIC", "name",
                                                                        "description"))))
        transfer.add_payment(payment)
    if len(skipped) == len(payments):
        raise NothingToTransfer(skipped)
    xml = _stable_header(transfer.export(validate=False), carried, config)
    try_valid_xml(xml, SCHEMA)
    return xml, skipped
