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

No NIR leaves for the bank (CNIL, décret NIR; ADR 0012): a member's (assuré's) transfer carries a
keyed digest of its payee and date as ``EndToEndId`` (:func:`end_to_end_id`), a plain French label
as remittance text (:func:`remittance`) and the member's name, never the NIR, as creditor name
(:func:`creditor_name`). A professional's identifier (RPPS, FINESS) is no patient's data and stays.
The key is ``CAISSE_SEPA_CLE`` (environment or Django settings), else the Django ``SECRET_KEY``
(the installation's own key when none is given: the same for the server and the commands).

The document depends on the payments (and the caisse's configuration) only (contract §7: a daily
run killed and run again ends in the state of an uninterrupted run, so exporting it gives the same
file, byte for byte): each transfer's ``EndToEndId`` is made of its payee and payment date, never
a database id; the message id (``MsgId``) and each block's id (``PmtInfId``) are digests of what
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

    return {
        "name": _setting("CAISSE_SEPA_NOM", DEFAULT_NAME),
        "IBAN": identifiers.compact(_setting("CAISSE_SEPA_IBAN", DEFAULT_IBAN)),
        "BIC": _setting("CAISSE_SEPA_BIC", DEFAULT_BIC),
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
MAX_REMITTANCE = 140  # Max140Text: Ustrd
_PLAIN_ID = re.compile(r"[A-Za-z0-9]+")


def _setting(name: str, default: str = "") -> str:
    return str(os.environ.get(name) or getattr(settings, name, "") or default)


def _reference_key() -> bytes:
    """The key of the members' references: ``CAISSE_SEPA_CLE``, else the Django ``SECRET_KEY``
    (stable for a deployment, hence the same file on every export; unknown to the banks, who
    cannot find a NIR back by trying them all)."""
    secret = _setting("CAISSE_SEPA_CLE") or str(settings.SECRET_KEY)
    return hashlib.blake2b(secret.encode("utf-8"), digest_size=32, person=b"caisse.sepa.ref").digest()


def _short(parts: Sequence[object], size: int, key: bytes = b"") -> str:
    data = "\x1f".join(str(part) for part in parts).encode("utf-8")
    return hashlib.blake2b(data, key=key, digest_size=16).hexdigest()[:size]


def end_to_end_id(p: Payment) -> str:
    """The transfer's ``EndToEndId``: ``CAISSE``, the payment date, ``P`` (professional) or ``A``
    (assuré), then

    - for a professional, its identifier, or ``-`` and a digest of it when it is not plain letters
      and digits or too long;
    - for an assuré, ``-`` and a keyed digest (:func:`_reference_key`) of the payee kind, NIR and
      payment date: the NIR never travels to the bank.

    Always 35 characters or fewer, letters, digits and ``-``. One payment per payee and date, hence
    unique (19 hexadecimal digits for a digest: 76 bits); the same whatever the database ids (a run
    killed and resumed numbers its rows differently on PostgreSQL)."""
    head = f"CAISSE{p.date_paiement:%Y%m%d}{'P' if p.type_beneficiaire == PayeeKind.PS else 'A'}"
    ident = str(p.identifiant_beneficiaire)
    size = MAX_ID - len(head) - 1
    if p.type_beneficiaire != PayeeKind.PS:
        key = _reference_key()
        return head + "-" + _short([PayeeKind.ASSURE, identifiers.compact(ident), f"{p.date_paiement:%Y-%m-%d}"], size, key)
    if _PLAIN_ID.fullmatch(ident) and len(head) + len(ident) <= MAX_ID:
        return head + ident
    return head + "-" + _short([ident], size)


def _feuilles(n: int) -> str:
    return f"{n} feuille{'s' if n > 1 else ''} de soins"


def remittance(p: Payment) -> str:
    """The transfer's remittance text (``Ustrd``, 140 characters at most), which the payee's bank
    shows on its statement. For an assuré, the date and the number of feuilles, no identifier:
    ``Remboursement de soins du 03/01/2025 - 3 feuilles de soins``. For a professional, its
    identifier too: ``Tiers payant du 03/01/2025 - professionnel 10000000001 - 2 feuilles de soins``."""
    if p.type_beneficiaire == PayeeKind.PS:
        text = (f"Tiers payant du {p.date_paiement:%d/%m/%Y} - professionnel {p.identifiant_beneficiaire} - "
                f"{_feuilles(p.nb_feuilles)}")
    else:
        text = f"Remboursement de soins du {p.date_paiement:%d/%m/%Y} - {_feuilles(p.nb_feuilles)}"
    return text[:MAX_REMITTANCE]


ASSURE_NAME = "Assure social"
_NOT_A_NAME = re.compile(r"[\W_]*(assur[ée]e?)?[\W_]*", re.IGNORECASE)


def creditor_name(p: Payment) -> str:
    """The creditor's name (``Cdtr/Nm``): the payment's, never an assuré's NIR. The payments
    name an assuré without a name on file ``Assuré <NIR>``, or by the NIR itself: such a name
    becomes ``Assure social``."""
    ident = str(p.identifiant_beneficiaire)
    if p.type_beneficiaire == PayeeKind.PS:
        return p.nom or ident
    nir = re.sub(r"\s", "", ident)
    name = str(p.nom or "")
    if not nir or nir[:13] in re.sub(r"\s", "", name) or _NOT_A_NAME.fullmatch(name):
        return ASSURE_NAME
    return name


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
    seen: set[str] = set()
    for p in payments:
        iban = valid_iban(p.iban)
        if iban is None:
            skipped.append(p)
            continue
        payment: dict[str, Any] = {
            "name": creditor_name(p),
            "IBAN": iban,
            "amount": int(p.montant_cts),
            "execution_date": p.date_paiement,
            "description": remittance(p),
            "endtoend_id": end_to_end_id(p),
        }
        if payment["endtoend_id"] in seen:  # 76 bits: never expected, but never two transfers alike
            raise ValueError(f"Deux virements ont la même référence {payment['endtoend_id']} : aucun fichier SEPA n'est produit.")
        seen.add(payment["endtoend_id"])
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
