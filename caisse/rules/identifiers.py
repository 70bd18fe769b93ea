"""Identifiers of people, professionals, establishments and employers.

Each ``check_*`` function returns the normalised identifier or raises :class:`InvalidIdentifier`
with a French message that says what is wrong. The key computations come from well-kept
libraries: python-stdnum (NIR with 2A/2B, SIRET, Luhn) and schwifty (IBAN, BIC).
"""

from __future__ import annotations

import datetime as dt
import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siret as stdnum_siret


class InvalidIdentifier(ValueError):
    """The identifier is malformed or its key is wrong (message in French)."""


_NIR_PATTERN = re.compile(r"^[1-478]\d{2}(0[1-9]|1[0-2]|[2-3]\d|4[0-2]|[5-9]\d)(\d{2}|2[AB])\d{6}\d{2}$")


def compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def check_nir(value: str) -> str:
    """A NIR or NIA: 13 characters and a 2-digit key, ``97 − (N mod 97)``, 2A→19, 2B→18."""
    nir = compact(value)
    if len(nir) != 15:
        raise InvalidIdentifier(f"Le NIR doit comporter 15 caractères (13 + clé), reçu {len(nir)}.")
    if not _NIR_PATTERN.match(nir):
        raise InvalidIdentifier("Le NIR est mal formé (sexe, mois ou département de naissance).")
    try:
        stdnum_nir.validate(nir)
    except StdnumError:
        raise InvalidIdentifier("La clé du NIR ne correspond pas aux 13 premiers caractères.") from None
    return nir


def is_valid_nir(value: str) -> bool:
    try:
        check_nir(value)
    except InvalidIdentifier:
        return False
    return True


def nir_key(first13: str) -> str:
    """The control key of the 13 first characters of a NIR."""
    number = int(first13.upper().replace("2A", "19").replace("2B", "18"))
    return f"{97 - number % 97:02d}"


def nir_matches_identity(nir: str, date_naissance: dt.date, sexe: str) -> bool:
    """The NIR's sex and year of birth agree with the civil status (months 20+ are special)."""
    sex_digit = nir[0]
    if sexe == "M" and sex_digit not in "137":
        return False
    if sexe == "F" and sex_digit not in "248":
        return False
    if nir[1:3] != f"{date_naissance.year % 100:02d}":
        return False
    month = int(nir[3:5])
    return month > 12 or month == date_naissance.month


def is_provisional_nir(nir: str) -> bool:
    """NIA (numéro identifiant d'attente) start with 7 or 8."""
    return nir[:1] in {"7", "8"}


def check_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise InvalidIdentifier(f"IBAN invalide : {_schwifty_reason(exc)}.") from None


def check_bic(value: str) -> str:
    try:
        return str(BIC(value).compact)
    except SchwiftyException:
        raise InvalidIdentifier("BIC invalide : 8 ou 11 caractères (banque, pays, localité, agence).") from None


def _schwifty_reason(exc: Exception) -> str:
    name = type(exc).__name__
    return {
        "InvalidChecksumDigits": "la clé de contrôle ne correspond pas",
        "InvalidLength": "longueur incorrecte pour ce pays",
        "InvalidCountryCode": "code pays inconnu",
        "InvalidStructure": "structure incorrecte pour ce pays",
        "InvalidBankCode": "code banque inconnu",
    }.get(name, "numéro incorrect")


def check_siret(value: str) -> str:
    siret = compact(value)
    if not siret.isdigit() or len(siret) != 14:
        raise InvalidIdentifier("Le SIRET doit comporter 14 chiffres.")
    try:
        return str(stdnum_siret.validate(siret))
    except StdnumError:
        raise InvalidIdentifier("La clé du SIRET est incorrecte (contrôle de Luhn).") from None


def check_rpps(value: str) -> str:
    rpps = compact(value)
    if not rpps.isdigit() or len(rpps) != 11:
        raise InvalidIdentifier("Le numéro RPPS doit comporter 11 chiffres.")
    if not luhn.is_valid(rpps):
        raise InvalidIdentifier("La clé du numéro RPPS est incorrecte (contrôle de Luhn).")
    return rpps


def check_finess(value: str) -> str:
    finess = compact(value)
    if len(finess) != 9 or not re.match(r"^(\d{2}|2[AB])\d{7}$", finess):
        raise InvalidIdentifier("Le numéro FINESS comporte 9 caractères (département puis 7 chiffres).")
    return finess
