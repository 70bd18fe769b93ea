"""The persistent path of health costs (contract §7): receive, process daily, export.

- :func:`receive_flow` (``caisse recevoir``) stores a flow of feuilles, NDJSON or Parquet, read by
  the same readers as ``caisse liquider``. A bad record is stored with its reader's verdict, so
  that the daily run rejects it with the contract's code. A feuille id already received is a
  :class:`~caisse.claims.models.DuplicateReception`, never a second feuille; re-sending the same
  file stores nothing. One transaction: a killed reception leaves nothing behind.
- :func:`daily_run` (``caisse traiter``) liquidates the received feuilles in the contract's
  order (``date_reception``, ``id``) with the pure engine
  (:func:`caisse.rules.claims.engine.liquidate`), the référentiel rebuilt from the database and
  the counters carried in the database. It works in chunks; each chunk (décomptes, counters,
  debts, payments, run counts) is committed in ONE transaction, and the engine's result does not
  depend on where chunks start. A run killed at any point is resumed by the next call (same run,
  same payment date), which therefore ends in exactly the state of an uninterrupted run.
  Payments: one transfer per payee and payment date; the payee of an assuré's reimbursements is
  the account holder (:func:`assure_payees`: an ayant droit is paid to its ouvrant droit), the
  statements stay per person (each feuille keeps its ``nir`` and the transfer that paid it).
  Same amounts as ``caisse liquider`` on the same files (contract §7), with one limit inherent to
  paying every day: a feuille received after a run that paid a later one in the contract's order
  (an earlier ``date_reception``, or the same day and a smaller id) is liquidated after it, so
  the caps, debts and duplicate acts they share are consumed in the order of payment; the same
  id received in two flows keeps the copy received first. Feuille ids longer than 255 characters
  are refused (DONNEE_INVALIDE), which ``caisse liquider`` does not bound.
- :func:`export_decomptes` and :func:`export_payments` (``caisse exporter …``): the décomptes
  with each ``id`` of the JSON type received; no SEPA file when there is nothing to transfer.
- :func:`import_referentiel_extras` keeps the référentiel's ``nomenclature.ndjson`` and
  ``compteurs.ndjson``, which the registry import does not store; ``caisse importer`` must call
  it after :func:`caisse.beneficiaries.exchange.import_referentiel`.
- :func:`processing_delays` gives the processing-delay indicators (rules.md F.6) from the
  database, through the pure :func:`caisse.claims.delays.delay_table`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import heapq
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, F, Func, Q
from django.db.models.functions import Collate
from django.utils import timezone

from caisse.batch_io import UnreadableFile, iter_ndjson, write_ndjson
from caisse.beneficiaries.access import minor_on
from caisse.beneficiaries.exchange import beneficiary_queries, beneficiary_records, records_from_rows
from caisse.beneficiaries.models import Beneficiary, ParentLink
from caisse.claims import delays, sepa
from caisse.claims.models import (
    AnnualCounter,
    DailyCapConsumption,
    DailyRun,
    Debt,
    DuplicateReception,
    Feuille,
    FeuilleStatus,
    FeuilleType,
    FlowFormat,
    FlowReception,
    ImportedCounter,
    ImportedNomenclature,
    PayeeKind,
    Payment,
    RunStatus,
    SeenAct,
)
from caisse.core import audit
from caisse.core.models import AuditAction
from caisse.professionals.models import HealthProfessional
from caisse.rights.services import Prepared, PreparedRows, RawRows, run_together
from caisse.rules.claims import batch, frames, records
from caisse.rules.claims.counters import (
    ACTS_SCHEMA,
    ANNUAL_SCHEMA,
    DAILY_SCHEMA,
    DEBT_SCHEMA,
    IDS_SCHEMA,
    Counters,
)
from caisse.rules.claims.engine import (
    FEUILLE_COLUMNS,
    LIGNE_COLUMNS,
    has_integer_ids,
    liquidate,
    processing_keys,
)
from caisse.rules.claims.legal import SanteParameters, load
from caisse.rules.claims.nomenclature import (
    FAR_FUTURE,
    load_nomenclature,
    merge_nomenclatures,
    read_nomenclature,
)
from caisse.rules.claims.nomenclature import SCHEMA as NOMENCLATURE_SCHEMA
from caisse.rules.claims.referentiel import Referentiel, counter_amount, counter_year

CHUNK_FEUILLES = 20_000
"""Feuilles per chunk of the daily run (``CAISSE_TRAITER_LOT`` overrides it)."""
BULK = 1000
IN_SLICE = 500  # values per SQL ``IN`` list (SQLite limits the number of parameters)
MAX_ID = 255
MAX_REPORTED = 50  # rejected lines printed one by one, then counted

T = TypeVar("T")


def _say(command: str, message: str) -> None:
    print(f"{command} : {message}", file=sys.stderr, flush=True)


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def _slices(values: Sequence[T], size: int = IN_SLICE) -> Iterator[Sequence[T]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# ================================================================================================
# Reception
# ================================================================================================


@dataclass
class ReceptionReport:
    reception: FlowReception
    enregistrements: int = 0
    recues: int = 0
    doublons: int = 0
    invalides: int = 0

    def summary(self) -> str:
        r = self.reception
        if r.deja_recu:
            return (
                f"flux « {r.fichier} » déjà reçu : aucune feuille stockée "
                f"({_n(self.doublons)} doublon(s) ignoré(s))."
            )
        return (
            f"flux « {r.fichier} » reçu : {_n(self.enregistrements)} enregistrement(s), "
            f"{_n(self.recues)} feuille(s) enregistrée(s) dont {_n(self.invalides)} invalide(s) "
            f"(rejetées au traitement), {_n(self.doublons)} doublon(s)."
        )


def _fingerprint(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=32)
    if batch.is_parquet_flow(path):
        files = list(batch.parquet_flow(path))
    else:
        files = [path]
    for file in files:
        try:
            with open(file, "rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
        except FileNotFoundError:
            raise UnreadableFile(f"Fichier introuvable : {file}") from None
        except IsADirectoryError:
            raise UnreadableFile(f"« {file} » est un dossier, un fichier NDJSON est attendu.") from None
        except OSError as exc:
            raise UnreadableFile(f"Lecture impossible de {file} : {exc.strerror}") from None
        digest.update(b"\0")
    return digest.hexdigest()


def _conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The engine's columns and types (as the engine's own ``_conform``: missing -> null, bad -> null)."""
    return df.select(
        pl.col(name).cast(dtype, strict=False) if name in df.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _records_from_parquet(f: pl.DataFrame, lines: pl.DataFrame, integer_ids: bool = False) -> list[dict[str, Any] | None]:
    """Contract records rebuilt from the Parquet reader's frames (typed as the engine reads them);
    with ``integer_ids`` (an integer ``id`` column) each id is kept as an integer, so that the
    export gives it back as ``caisse liquider`` does."""
    f = _conform(f, FEUILLE_COLUMNS)
    lines = _conform(lines, LIGNE_COLUMNS)
    by_feuille: dict[int, list[dict[str, Any]]] = {}
    for row in lines.sort("_fpos", "_lpos").iter_rows(named=True):
        by_feuille.setdefault(row["_fpos"], []).append(
            {k: _iso(row[k]) for k in ("code", "date_soins", "quantite", "coefficient", "montant_facture_cts")}
        )
    out: list[dict[str, Any] | None] = []
    for row in f.iter_rows(named=True):
        rec = {k: _iso(v) for k, v in row.items() if not k.startswith("_")}
        rec["lignes"] = by_feuille.get(row["_pos"], [])
        if integer_ids and rec.get("id") is not None:
            rec["id"] = int(rec["id"])
        out.append(rec)
    return out


def _read_flow(path: Path) -> tuple[list[dict[str, Any] | None], pl.DataFrame, pl.DataFrame]:
    """(records, feuilles frame, lignes frame) with the batch readers' verdicts (``_invalide``)."""
    if batch.is_parquet_flow(path):
        f, lines = batch.read_parquet_feuilles(path)
        raw = _records_from_parquet(f, lines, batch.parquet_id_dtype(path) is not None)
    else:
        raw = list(iter_ndjson(path))
        f, lines = records.frames_from_records(raw)
    f = _conform(f, FEUILLE_COLUMNS)
    lines = _conform(lines, LIGNE_COLUMNS)
    return raw, f, lines


def _clean(value: Any) -> tuple[Any, bool]:
    """(value the database can store as JSON, whether something had to be removed)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, True
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", ""), True
    if isinstance(value, dict):
        items = [(k, *_clean(v)) for k, v in value.items()]
        return {k: v for k, v, _ in items}, any(c for *_, c in items)
    if isinstance(value, list):
        cleaned = [_clean(v) for v in value]
        return [v for v, _ in cleaned], any(c for _, c in cleaned)
    return value, False


def _storable(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    """The record as stored JSON and, when it had to be changed to be stored, the reason."""
    if record is None:
        return None, "Enregistrement illisible (un objet JSON est attendu)."
    clean, changed = _clean(record)
    if changed:
        return clean, "Valeur non représentable (NaN, infini ou caractère nul) : la feuille sera rejetée (DONNEE_INVALIDE)."
    return record, ""


def _existing_ids(ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _slices(ids):
        found.update(Feuille.objects.filter(identifiant__in=part).values_list("identifiant", "pk"))
    return found


RECEIVE_ATTEMPTS = 3


def receive_flow(path: str | Path, *, quiet: bool = False) -> ReceptionReport:
    """Receive a flow of feuilles (``caisse recevoir``); idempotent; summary in French on stderr.

    Two receptions at once of flows sharing ids (the same file sent twice by two processes): the
    one that commits second breaks a uniqueness constraint, its transaction leaves nothing behind,
    and it starts again, finding the other's feuilles (duplicates, or the same flow already
    received) instead of ending on a database error."""
    for attempt in range(1, RECEIVE_ATTEMPTS + 1):
        try:
            return _receive_flow(Path(path), quiet)
        except IntegrityError:
            if attempt == RECEIVE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _receive_flow(path: Path, quiet: bool) -> ReceptionReport:
    digest = _fingerprint(path)
    fmt = FlowFormat.PARQUET if batch.is_parquet_flow(path) else FlowFormat.NDJSON
    previous = FlowReception.objects.filter(empreinte=digest, deja_recu=False).order_by("pk").first()
    if previous is not None:
        with transaction.atomic():
            reception = FlowReception.objects.create(
                fichier=str(path)[:500], format=fmt, empreinte=digest, deja_recu=True,
                nb_enregistrements=previous.nb_enregistrements, nb_recues=0, nb_doublons=previous.nb_enregistrements,
            )
            report = ReceptionReport(reception, previous.nb_enregistrements, 0, previous.nb_enregistrements, 0)
            audit.record(by=None, action=AuditAction.BATCH, obj=reception, summary=f"Réception : {report.summary()}")
        if not quiet:
            _say("recevoir", report.summary())
        return report

    raw, f, lines = _read_flow(path)
    if not quiet and f.height >= 100_000:
        _say("recevoir", f"{_n(f.height)} enregistrements lus, {_n(lines.height)} lignes ; enregistrement en base…")
    bad_lines: dict[int, list[int]] = {}
    for fpos, lpos in lines.filter(pl.col("_invalide").fill_null(False)).select("_fpos", "_lpos").iter_rows():
        bad_lines.setdefault(fpos, []).append(lpos)
    # Within the flow, the occurrence kept for a repeated id is the first in the engine's order.
    order, nulls_last = processing_keys(has_integer_ids(f))
    keep = (
        f.filter(pl.col("id").is_not_null() & (pl.col("id").str.len_chars() <= MAX_ID) & ~pl.col("id").str.contains("\x00", literal=True))
        .sort(order, nulls_last=nulls_last)
        .select("_pos", "id")
        .unique("id", keep="first", maintain_order=True)
    )
    first_pos = dict(zip(keep.get_column("id").to_list(), keep.get_column("_pos").to_list(), strict=True))
    already = _existing_ids(list(first_pos))
    cols = f.select("_pos", "id", "type", "date_reception", "nir", "executant", "_invalide", "_id_entier").rows()

    with transaction.atomic():
        reception = FlowReception.objects.create(fichier=str(path)[:500], format=fmt, empreinte=digest)
        report = ReceptionReport(reception, enregistrements=len(cols))
        feuilles: list[Feuille] = []
        duplicates: list[tuple[int, str, dt.date | None, dict[str, Any] | None]] = []
        for pos, ident, kind, reception_date, nir, executant, invalid, integer_id in cols:
            record, reason = _storable(raw[pos])
            usable_id = ident if ident is not None and len(ident) <= MAX_ID and "\x00" not in ident else None
            if usable_id is not None and (usable_id in already or first_pos.get(usable_id) != pos):
                duplicates.append((pos, usable_id, reception_date, record))
                continue
            bad = bool(invalid) or bool(reason) or (ident is not None and usable_id is None)
            if bad and not reason:
                reason = "Donnée manquante ou invalide : la feuille sera rejetée (DONNEE_INVALIDE)."
            elif pos in bad_lines and not reason:
                ranks = ", ".join(str(i + 1) for i in bad_lines[pos][:10])
                reason = f"Ligne(s) {ranks} invalide(s) : rejetée(s) au traitement (DONNEE_INVALIDE)."
            feuilles.append(Feuille(
                identifiant=usable_id, identifiant_entier=integer_id if usable_id is not None else None,
                type=kind if kind in FeuilleType.values else "",
                date_reception=reception_date, nir=(nir or "").replace("\x00", "")[:32],
                executant=(executant or "").replace("\x00", "")[:64],
                enregistrement=record, invalide=bad, lignes_invalides=bad_lines.get(pos, []), erreur=reason[:300],
                reception=reception, position=pos,
            ))
            report.invalides += bad or pos in bad_lines
        Feuille.objects.bulk_create(feuilles, batch_size=BULK)
        if duplicates:
            originals = _existing_ids(sorted({d[1] for d in duplicates}))
            DuplicateReception.objects.bulk_create(
                [
                    DuplicateReception(reception=reception, position=pos, identifiant=ident, date_reception=d,
                                       feuille_id=originals[ident], enregistrement=record)
                    for pos, ident, d, record in duplicates
                ],
                batch_size=BULK,
            )
        report.recues, report.doublons = len(feuilles), len(duplicates)
        reception.nb_enregistrements = report.enregistrements
        reception.nb_recues, reception.nb_doublons, reception.nb_invalides = report.recues, report.doublons, report.invalides
        reception.save(update_fields=["nb_enregistrements", "nb_recues", "nb_doublons", "nb_invalides"])
        audit.record(by=None, action=AuditAction.BATCH, obj=reception, summary=f"Réception : {report.summary()}")
    if not quiet:
        _say("recevoir", report.summary())
    return report


# ================================================================================================
# Référentiel extras (nomenclature and compteurs of the référentiel folder)
# ================================================================================================


@dataclass
class ExtrasReport:
    codes: int = 0
    compteurs: int = 0
    rejets: list[str] = field(default_factory=list)


def import_referentiel_extras(folder: str | Path, *, quiet: bool = False) -> ExtrasReport:
    """Store the référentiel's ``nomenclature.ndjson`` and ``compteurs.ndjson`` (both optional).

    Nomenclature: the rows of every code the file defines replace the previously imported rows of
    that code (the file's dated history is authoritative, as in ``caisse liquider``). Compteurs:
    the amounts consumed before the persistent system; re-importing the same file changes nothing,
    a changed line adjusts the counters and the debt by the difference.
    """
    folder = Path(folder)
    report = ExtrasReport()
    nomen_path, counters_path = folder / "nomenclature.ndjson", folder / "compteurs.ndjson"
    with transaction.atomic():
        if nomen_path.exists():
            rows = read_nomenclature(nomen_path)
            left_out = sum(1 for _ in iter_ndjson(nomen_path)) - rows.height
            if left_out:
                report.rejets.append(f"nomenclature.ndjson : {left_out} ligne(s) écartée(s) (illisible, code, "
                                     "catégorie ou tarif manquant ou invalide).")
            rows = rows.unique(["code", "debut"], keep="last", maintain_order=True)
            codes = rows.get_column("code").unique().to_list()
            for part in _slices(codes):
                ImportedNomenclature.objects.filter(code__in=part).delete()
            ImportedNomenclature.objects.bulk_create(
                [
                    ImportedNomenclature(code=r["code"], libelle=r["libelle"][:300], categorie=r["categorie"],
                                         tarif_cts=r["tarif_cts"], debut=r["debut"],
                                         fin=None if r["fin"] == FAR_FUTURE else r["fin"])
                    for r in rows.iter_rows(named=True)
                ],
                batch_size=BULK,
            )
            report.codes = len(codes)
        if counters_path.exists():
            report.compteurs = _import_counters(counters_path, report)
    if not quiet:
        for rejet in report.rejets[:MAX_REPORTED]:
            _say("importer", rejet)
        if len(report.rejets) > MAX_REPORTED:
            _say("importer", f"… et {len(report.rejets) - MAX_REPORTED} autre(s) ligne(s) rejetée(s).")
        _say("importer", f"{report.codes} code(s) de nomenclature et {report.compteurs} compteur(s) importés"
             + (f" ; {len(report.rejets)} rejet(s)." if report.rejets else "."))
    return report


def _import_counters(path: Path, report: ExtrasReport) -> int:
    totals: dict[tuple[str, int], list[int]] = {}
    for line, c in enumerate(iter_ndjson(path), start=1):
        if c is None:
            report.rejets.append(f"compteurs.ndjson ligne {line} : ligne illisible (objet JSON attendu).")
            continue
        # The same reading as caisse liquider's (referentiel.counter_year / counter_amount).
        year = counter_year(c.get("annee"))
        if not isinstance(c.get("nir"), str) or year is None:
            report.rejets.append(f"compteurs.ndjson ligne {line} : « nir » ou « annee » manquant ou invalide.")
            continue
        read = [counter_amount(c.get(k)) for k in ("participation_forfaitaire_cts", "franchises_cts", "dette_cts")]
        if any(a is None for a in read):
            report.rejets.append(f"compteurs.ndjson ligne {line} : montant non entier ou négatif.")
            continue
        amounts = [int(a or 0) for a in read]
        acc = totals.setdefault((c["nir"][:32], year), [0, 0, 0])
        for i, a in enumerate(amounts):
            acc[i] += a
    previous = {(c.nir, c.annee): c for c in ImportedCounter.objects.filter(nir__in={k[0] for k in totals})}
    debt_delta: dict[str, int] = {}
    for (nir, annee), (pf, fr, dette) in totals.items():
        old = previous.get((nir, annee))
        d_pf = pf - (old.participation_forfaitaire_cts if old else 0)
        d_fr = fr - (old.franchises_cts if old else 0)
        debt_delta[nir] = debt_delta.get(nir, 0) + dette - (old.dette_cts if old else 0)
        if d_pf or d_fr:
            counter, _ = AnnualCounter.objects.get_or_create(nir=nir, annee=annee)
            counter.participation_forfaitaire_cts = max(0, counter.participation_forfaitaire_cts + d_pf)
            counter.franchises_cts = max(0, counter.franchises_cts + d_fr)
            counter.save()
        ImportedCounter.objects.update_or_create(
            nir=nir, annee=annee,
            defaults={"participation_forfaitaire_cts": pf, "franchises_cts": fr, "dette_cts": dette},
        )
    for nir, delta in debt_delta.items():
        if delta:
            debt, _ = Debt.objects.get_or_create(nir=nir)
            debt.dette_cts = max(0, debt.dette_cts + delta)
            debt.save()
    return len(totals)


def stored_nomenclature() -> pl.DataFrame:
    """The shipped nomenclature extended or overridden by the imported one (as ``load_nomenclature``)."""
    base = load_nomenclature()
    rows = list(ImportedNomenclature.objects.values_list("code", "libelle", "categorie", "tarif_cts", "debut", "fin"))
    if not rows:
        return base
    extra = pl.DataFrame(
        [(c, lib, cat, t, d, fin or FAR_FUTURE) for c, lib, cat, t, d, fin in rows],
        schema=NOMENCLATURE_SCHEMA, orient="row",
    )
    return merge_nomenclatures(base, extra)


# ================================================================================================
# Référentiel and counters from the database
# ================================================================================================


_PROFESSIONALS = PreparedRows(HealthProfessional, lambda ids: HealthProfessional.objects.filter(identifiant__in=ids)
                              .values_list("identifiant", "profession", "specialite", "secteur", "optam",
                                           "conventionne", "iban"), ids=["\x00ps"])


def _professional(row: Sequence[Any]) -> dict[str, Any]:
    ident, profession, specialite, secteur, optam, conventionne, iban = row
    return {"id": ident, "profession": profession, "specialite": specialite or None, "secteur": secteur,
            "optam": optam, "conventionne": conventionne, "iban": iban or None}


def professional_records(identifiants: Iterable[str]) -> list[dict[str, Any]]:
    """Contract §1 records of these professionals (query compiled once per process)."""
    out: list[dict[str, Any]] = []
    ids = sorted({i for i in identifiants if i})
    for part in _slices(ids):
        out.extend(_professional(row) for row in _PROFESSIONALS.run(ids=list(part)))
    return out


@dataclass
class ReferentielCache:
    """People and professionals already read during a run (each is read once per run)."""

    beneficiaires: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    professionnels: dict[str, dict[str, Any] | None] = field(default_factory=dict)


def referentiel_for(
    nirs: Iterable[str], executants: Iterable[str], nomenclature: pl.DataFrame | None = None,
    cache: ReferentielCache | None = None,
) -> Referentiel:
    """The référentiel of the people and professionals a chunk names, rebuilt from the database."""
    cache = cache if cache is not None else ReferentielCache()
    nirs, executants = sorted(set(nirs)), sorted(set(executants))
    missing = [n for n in nirs if n not in cache.beneficiaires]
    found = {r["nir"]: r for r in beneficiary_records(missing)}
    cache.beneficiaires.update({n: found.get(n) for n in missing})
    missing = [e for e in executants if e not in cache.professionnels]
    found = {r["id"]: r for r in professional_records(missing)}
    cache.professionnels.update({e: found.get(e) for e in missing})
    return Referentiel.from_records(
        [r for n in nirs if (r := cache.beneficiaires[n]) is not None],
        [r for e in executants if (r := cache.professionnels[e]) is not None],
        nomenclature if nomenclature is not None else stored_nomenclature(),
    )


def _counters_sql(n: int) -> str:
    """The four counters tables of ``n`` people in one query (one round trip), rows tagged 0-3."""
    marks = ", ".join(["%s"] * n)
    t = {m: m._meta.db_table for m in (AnnualCounter, Debt, DailyCapConsumption, SeenAct)}
    text, day, big = "CAST(NULL AS VARCHAR(64))", "CAST(NULL AS DATE)", "CAST(NULL AS BIGINT)"
    return (
        f"SELECT 0 AS t, nir, {text} AS s1, {text} AS s2, {day} AS d, CAST(annee AS BIGINT) AS i1, "
        f"participation_forfaitaire_cts AS i2, franchises_cts AS i3 FROM {t[AnnualCounter]} WHERE nir IN ({marks}) "
        f"UNION ALL SELECT 1, nir, {text}, {text}, {day}, dette_cts, {big}, {big} FROM {t[Debt]} WHERE nir IN ({marks}) "
        f"UNION ALL SELECT 2, nir, cle, kind, date_soins, cts, {big}, {big} FROM {t[DailyCapConsumption]} "
        f"WHERE nir IN ({marks}) "
        f"UNION ALL SELECT 3, nir, executant, code, date_soins, {big}, {big}, {big} FROM {t[SeenAct]} "
        f"WHERE nir IN ({marks}) "
        "ORDER BY 1, 2, 5, 6, 3, 4"
    )


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)  # SQLite gives text


def _counters_statement(nirs: Sequence[str]) -> tuple[str, list[Any]]:
    return _counters_sql(len(nirs)), list(nirs) * 4


_COUNTERS = RawRows(AnnualCounter, _counters_statement)


def _counters_from_rows(rows: Iterable[Sequence[Any]]) -> Counters:
    annual: list[tuple[Any, ...]] = []
    debt: list[tuple[Any, ...]] = []
    daily: list[tuple[Any, ...]] = []
    acts: list[tuple[Any, ...]] = []
    for tag, nir, s1, s2, d, i1, i2, i3 in rows:
        if tag == 0:
            annual.append((nir, i1, i2, i3))
        elif tag == 1:
            debt.append((nir, i1))
        elif tag == 2:
            daily.append((nir, s1, _day(d), s2, i1))
        else:
            acts.append((nir, s1, s2, _day(d)))
    return Counters(
        annual=frames.frame(annual, ANNUAL_SCHEMA, orient="row"), debt=frames.frame(debt, DEBT_SCHEMA, orient="row"),
        daily=frames.frame(daily, DAILY_SCHEMA, orient="row"), seen_ids=frames.empty(IDS_SCHEMA),
        seen_acts=frames.frame(acts, ACTS_SCHEMA, orient="row"),
    )


def load_counters(nirs: Iterable[str]) -> Counters:
    """The carried counters of these people (``seen_ids`` stays empty: ids are unique in the database).

    One query per slice of people for the four tables (the real-time API reads them for every
    micro-batch, the daily run for every chunk)."""
    rows: list[Sequence[Any]] = []
    for part in _slices(sorted({n for n in nirs if n})):
        with connection.cursor() as cursor:
            cursor.execute(*_counters_statement(part))
            rows.extend(cursor.fetchall())
    return _counters_from_rows(rows)


def _nomenclature_version_statement() -> tuple[str, list[Any]]:
    return f"SELECT COUNT(*), MAX(id) FROM {ImportedNomenclature._meta.db_table}", []


_NOMENCLATURE_VERSION = RawRows(ImportedNomenclature, _nomenclature_version_statement)


def nomenclature_version() -> tuple[int, Any]:
    """Changes when an import adds or replaces codes (so that a cached nomenclature is never stale)."""
    (n, last), = run_together([(_NOMENCLATURE_VERSION, {})])[0]
    return n, last


@dataclass
class BatchInputs:
    """What one real-time micro-batch reads from the database."""

    beneficiaires: list[dict[str, Any]]
    professionnels: list[dict[str, Any]]
    counters: Counters
    nomenclature_version: tuple[int, Any]

    def referentiel(self, nomenclature: pl.DataFrame) -> Referentiel:
        """The référentiel as :func:`referentiel_for` builds it (people and professionals in id order)."""
        return Referentiel.from_records(sorted(self.beneficiaires, key=lambda r: r["nir"]),
                                        sorted(self.professionnels, key=lambda r: r["id"]), nomenclature)


def batch_inputs(nirs: Iterable[str], executants: Iterable[str]) -> BatchInputs:
    """The people's records, the professionals', the counters and the nomenclature version, read
    by queries compiled once per process and sent together: one round trip on PostgreSQL, one
    snapshot (the real-time API's micro-batches; the same values as :func:`referentiel_for`,
    :func:`load_counters` and :func:`nomenclature_version`)."""
    people = sorted({n for n in nirs if n})
    ids = sorted({e for e in executants if e})
    if len(people) > IN_SLICE or len(ids) > IN_SLICE:  # beyond a micro-batch: slice by slice
        return BatchInputs(beneficiary_records(people), professional_records(ids), load_counters(people),
                           nomenclature_version())
    people_calls = beneficiary_queries(people)
    calls: list[tuple[Prepared, dict[str, Any]]] = [(_NOMENCLATURE_VERSION, {}), (_PROFESSIONALS, {"ids": ids}),
                                                     *people_calls]
    if people:  # ``IN ()`` is no SQL
        calls.append((_COUNTERS, {"nirs": people}))
    version, professionals, *rest = run_together(calls)
    (n, last), = version
    return BatchInputs(
        beneficiaires=records_from_rows(rest[:len(people_calls)]),
        professionnels=[_professional(row) for row in professionals],
        counters=_counters_from_rows(rest[len(people_calls)] if people else []),
        nomenclature_version=(n, last),
    )


def _changed(new: pl.DataFrame, old: pl.DataFrame) -> pl.DataFrame:
    return new.join(old, on=new.columns, how="anti", nulls_equal=True)


def _write_counters(old: Counters, new: Counters) -> None:
    annual = _changed(new.annual.cast(ANNUAL_SCHEMA), old.annual)  # type: ignore[arg-type]
    AnnualCounter.objects.bulk_create(
        [AnnualCounter(nir=n, annee=a, participation_forfaitaire_cts=pf, franchises_cts=fr)
         for n, a, pf, fr in annual.select(*ANNUAL_SCHEMA).rows()],
        batch_size=BULK, update_conflicts=True, unique_fields=["nir", "annee"],
        update_fields=["participation_forfaitaire_cts", "franchises_cts"],
    )
    # A debt back to zero is no row at all, so that the rows do not depend on where chunks start.
    debt = _changed(new.debt.cast(DEBT_SCHEMA), old.debt)  # type: ignore[arg-type]
    cleared = debt.filter(pl.col("dette_cts") == 0).get_column("nir").to_list()
    for part in _slices(cleared):
        Debt.objects.filter(nir__in=part).delete()
    Debt.objects.bulk_create(
        [Debt(nir=n, dette_cts=d) for n, d in debt.filter(pl.col("dette_cts") != 0).select(*DEBT_SCHEMA).rows()],
        batch_size=BULK, update_conflicts=True, unique_fields=["nir"], update_fields=["dette_cts"],
    )
    # The engine appends each batch's consumption to the carried rows (one row per batch and key):
    # the stored row of a key is their sum, the day's consumption so far.
    keys = [c for c in DAILY_SCHEMA if c != "cts"]
    daily = _changed(
        new.daily.cast(DAILY_SCHEMA).group_by(keys).agg(pl.col("cts").sum()),  # type: ignore[arg-type]
        old.daily.cast(DAILY_SCHEMA).group_by(keys).agg(pl.col("cts").sum()),  # type: ignore[arg-type]
    )
    DailyCapConsumption.objects.bulk_create(
        [DailyCapConsumption(nir=n, cle=c, date_soins=d, kind=k, cts=v) for n, c, d, k, v in daily.select(*DAILY_SCHEMA).rows()],
        batch_size=BULK, update_conflicts=True, unique_fields=["nir", "cle", "date_soins", "kind"], update_fields=["cts"],
    )
    acts = _changed(new.seen_acts.cast(ACTS_SCHEMA).unique(), old.seen_acts)  # type: ignore[arg-type]
    SeenAct.objects.bulk_create(
        [SeenAct(nir=n, executant=e, code=c, date_soins=d) for n, e, c, d in acts.select(*ACTS_SCHEMA).rows()],
        batch_size=BULK, ignore_conflicts=True,
    )


# ================================================================================================
# Daily run
# ================================================================================================


class RunConflict(RuntimeError):
    """Another process changed the feuilles of the chunk being committed."""


def _chunk_size() -> int:
    raw = os.environ.get("CAISSE_TRAITER_LOT")
    try:
        return max(1, int(raw)) if raw else CHUNK_FEUILLES
    except ValueError:
        return CHUNK_FEUILLES


def _pending(limit: dt.date | None) -> Any:
    qs = Feuille.objects.filter(statut=FeuilleStatus.RECUE)
    if limit is not None:
        qs = qs.filter(Q(date_reception__lte=limit) | Q(date_reception__isnull=True))
    return qs


def _contract_order(prefix: str = "") -> list[Any]:
    """ORDER BY of the contract (date_reception, id) as the engine orders a flow
    (:func:`~caisse.rules.claims.engine.processing_keys`): the ids received as integers first, as
    numbers, then the others compared byte by byte on every database."""
    ident: Any = F(f"{prefix}identifiant")
    if connection.vendor == "postgresql":
        ident = Collate(f"{prefix}identifiant", "C")
    return [F(f"{prefix}date_reception").asc(nulls_last=True), F(f"{prefix}identifiant_entier").asc(nulls_last=True),
            ident.asc(nulls_first=True), f"{prefix}pk"]


@dataclass
class _Chunk:
    pks: list[int]
    frames: tuple[pl.DataFrame, pl.DataFrame]
    nirs: list[str]
    executants: list[str]


def _next_chunk(limit: dt.date | None, size: int) -> _Chunk | None:
    rows = list(
        _pending(limit).order_by(*_contract_order()).values_list("pk", "enregistrement", "invalide", "lignes_invalides")[:size]
    )
    if not rows:
        return None
    f, lines = records.frames_from_records([r[1] for r in rows])
    f = f.with_columns(pl.col("_invalide") | pl.Series("_stored", [bool(r[2]) for r in rows], dtype=pl.Boolean))
    bad = [(pos, lpos) for pos, r in enumerate(rows) for lpos in (r[3] or [])]
    if bad:
        flagged = pl.DataFrame(bad, schema={"_fpos": pl.Int64, "_lpos": pl.Int64}, orient="row").with_columns(
            pl.lit(True).alias("_stored"))
        lines = lines.join(flagged, on=["_fpos", "_lpos"], how="left").with_columns(
            (pl.col("_invalide") | pl.col("_stored").fill_null(False)).alias("_invalide")).drop("_stored")
    nirs = f.get_column("nir").drop_nulls().unique().to_list()
    executants = f.get_column("executant").drop_nulls().unique().to_list()
    return _Chunk([r[0] for r in rows], (f, lines), nirs, executants)


def assure_payees(nirs: Iterable[str], day: dt.date) -> dict[str, str]:
    """The NIR of the account holder paid, on payment date ``day``, for each person's reimbursements
    (the people not in the result are paid themselves).

    An ayant droit (a child attached to a parent by a :class:`~caisse.beneficiaries.models.ParentLink`
    running on ``day``, under 18 that day, the parent alive) is paid to the assuré ouvrant droit: its
    reimbursements go into the parent's transfer, one transfer per account holder and payment date.
    With two parents (double rattachement), the one whose IBAN is the child's, else one with a
    valid IBAN, else the earlier link. A child with a valid IBAN of its own that is none of its
    parents' (an ayant droit autonome with an account) is paid on that account, as before.
    """
    people = sorted({n for n in nirs if n})
    links: dict[str, list[tuple[Any, ...]]] = {}
    checked: dict[str, str | None] = {}

    def valid(iban: str) -> str | None:  # each IBAN checked once
        if iban not in checked:
            checked[iban] = sepa.valid_iban(iban)
        return checked[iban]

    for part in _slices(people):
        rows = (
            ParentLink.objects.filter(child__nir__in=part, debut__lte=day)
            .filter(Q(fin__isnull=True) | Q(fin__gte=day))
            .filter(Q(parent__date_deces__isnull=True) | Q(parent__date_deces__gt=day))
            .values_list("child__nir", "child__date_naissance", "child__iban", "parent__nir", "parent__iban", "debut", "pk")
        )
        for child, birth, child_iban, parent, parent_iban, debut, pk in rows:
            if minor_on(birth, day):  # an adult is insured in their own right (access.AGE_MAJORITE)
                links.setdefault(child, []).append((child_iban, parent, valid(parent_iban), debut, pk))
    payees: dict[str, str] = {}
    for child, parents in links.items():
        own = valid(parents[0][0])
        if own is not None and all(iban != own for _, _, iban, _, _ in parents):
            continue  # paid on its own account
        best = min(parents, key=lambda p: (own is None or p[2] != own, p[2] is None, p[3], p[4]))
        payees[child] = best[1]
    return payees


def _payee_names(kind: str, idents: list[str]) -> dict[str, tuple[str, str, str]]:
    out: dict[str, tuple[str, str, str]] = {}
    for part in _slices(idents):
        if kind == PayeeKind.PS:
            for ident, nom, prenom, iban, bic in HealthProfessional.objects.filter(identifiant__in=part).values_list(
                "identifiant", "nom", "prenom", "iban", "bic"
            ):
                out[ident] = (f"{prenom} {nom}".strip() or f"Professionnel {ident}", iban, bic)
        else:
            for nir, nom, usage, prenom, iban, bic in Beneficiary.objects.filter(nir__in=part).values_list(
                "nir", "nom", "nom_usage", "prenom", "iban", "bic"
            ):
                out[nir] = (f"{prenom} {usage or nom}".strip() or f"Assuré {nir}", iban, bic)
    return out


def _write_payments(run: DailyRun, dues: dict[tuple[str, str], list[tuple[int, int]]]) -> dict[int, int]:
    """Add this chunk's amounts to the payments of the run's date; returns feuille pk -> payment pk."""
    day = run.date_traitement
    paid_by: dict[int, int] = {}
    for kind in (PayeeKind.PS, PayeeKind.ASSURE):
        idents = sorted(i for k, i in dues if k == kind)
        if not idents:
            continue
        existing: dict[str, Payment] = {}
        for part in _slices(idents):
            for p in Payment.objects.filter(type_beneficiaire=kind, date_paiement=day, identifiant_beneficiaire__in=part):
                existing[p.identifiant_beneficiaire] = p
        names = _payee_names(kind, [i for i in idents if i not in existing])
        valid = {iban: sepa.valid_iban(iban) is not None for _, iban, _ in names.values()}  # each IBAN once
        to_update, to_create = [], []
        for ident in idents:
            items = dues[(kind, ident)]
            amount, count = sum(a for _, a in items), len(items)
            if ident in existing:
                p = existing[ident]
                p.montant_cts += amount
                p.nb_feuilles += count
                to_update.append(p)
            else:
                nom, iban, bic = names.get(ident, (ident, "", ""))
                to_create.append(Payment(
                    type_beneficiaire=kind, identifiant_beneficiaire=ident, nom=nom[:200], iban=iban,
                    iban_valide=valid.get(iban, False), bic=bic, date_paiement=day, montant_cts=amount, nb_feuilles=count, run=run,
                ))
        _executemany(
            f"UPDATE {connection.ops.quote_name(Payment._meta.db_table)} SET montant_cts = %s, nb_feuilles = %s WHERE id = %s",
            [(p.montant_cts, p.nb_feuilles, p.pk) for p in to_update],
        )
        Payment.objects.bulk_create(to_create, batch_size=BULK)
        if to_create and to_create[0].pk is None:  # backends that do not return ids
            created = {i for i in idents if i not in existing}
            for part in _slices(sorted(created)):
                for p in Payment.objects.filter(type_beneficiaire=kind, date_paiement=day, identifiant_beneficiaire__in=part):
                    existing[p.identifiant_beneficiaire] = p
        for p in to_create:
            if p.pk is not None:
                existing[p.identifiant_beneficiaire] = p
        for ident in idents:
            for feuille_pk, _ in dues[(kind, ident)]:
                paid_by[feuille_pk] = existing[ident].pk
    return paid_by


def _executemany(sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Many single-row UPDATEs in one round of the driver (Django's bulk_update builds huge CASEs)."""
    if connection.vendor == "postgresql":
        sql = sql.replace("%(json)s", "CAST(%s AS jsonb)")
    else:
        sql = sql.replace("%(json)s", "%s")
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[i : i + 5000])


def _write_feuilles(run: DailyRun, pks: list[int], outs: list[dict[str, Any]], paid_by: dict[int, int]) -> None:
    changed = sum(Feuille.objects.filter(pk__in=part, statut=FeuilleStatus.RECUE).count() for part in _slices(pks))
    if changed != len(pks):
        raise RunConflict("Des feuilles du lot ont été traitées par un autre processus : lot annulé.")
    rows = []
    for pk, out in zip(pks, outs, strict=True):
        liquidee = out["statut"] == "liquidee"
        rows.append((
            FeuilleStatus.LIQUIDEE.value if liquidee else FeuilleStatus.REJETEE.value, json.dumps(out), run.pk,
            run.date_traitement if liquidee else None, paid_by.get(pk), pk,
        ))
    table = connection.ops.quote_name(Feuille._meta.db_table)
    _executemany(
        f"UPDATE {table} SET statut = %s, decompte = %(json)s, run_id = %s, date_paiement = %s, paiement_id = %s "
        "WHERE id = %s AND statut = 'recue'",
        rows,
    )


def _commit_chunk(run: DailyRun, chunk: _Chunk, outs: list[dict[str, Any]], old: Counters, new: Counters) -> None:
    """Everything one chunk changes, in one transaction."""
    f = chunk.frames[0]
    if len(outs) != len(chunk.pks) or any(o["id"] != i for o, i in zip(outs, f.get_column("id"), strict=True)):
        raise RunConflict("Le moteur n'a pas rendu un décompte par feuille dans l'ordre du lot : lot annulé.")
    dues: dict[tuple[str, str], list[tuple[int, int]]] = {}
    to_assures: dict[str, list[tuple[int, int]]] = {}
    for pk, out, nir, executant in zip(chunk.pks, outs, f.get_column("nir"), f.get_column("executant"), strict=True):
        if out["statut"] != "liquidee":
            continue
        if out["paiement_ps_cts"] > 0:
            dues.setdefault((PayeeKind.PS, executant), []).append((pk, out["paiement_ps_cts"]))
        if out["paiement_assure_cts"] > 0:
            to_assures.setdefault(nir, []).append((pk, out["paiement_assure_cts"]))
    # An ayant droit's reimbursements are paid to its ouvrant droit: one transfer per account holder.
    holders = assure_payees(to_assures, run.date_traitement)
    for nir, items in to_assures.items():
        dues.setdefault((PayeeKind.ASSURE, holders.get(nir, nir)), []).extend(items)
    liquidees = sum(out["statut"] == "liquidee" for out in outs)
    with transaction.atomic():
        paid_by = _write_payments(run, dues)
        _write_feuilles(run, chunk.pks, outs, paid_by)
        _write_counters(old, new)
        DailyRun.objects.filter(pk=run.pk).update(
            nb_feuilles=F("nb_feuilles") + len(outs), nb_liquidees=F("nb_liquidees") + liquidees,
            nb_rejetees=F("nb_rejetees") + len(outs) - liquidees, nb_lots=F("nb_lots") + 1,
        )


def _process(run: DailyRun, size: int, params: SanteParameters, quiet: bool) -> None:
    nomenclature = stored_nomenclature()
    cache = ReferentielCache()
    total = _pending(run.jusqu_au).count()
    done = 0
    started = time.perf_counter()
    while (chunk := _next_chunk(run.jusqu_au, size)) is not None:
        ref = referentiel_for(chunk.nirs, chunk.executants, nomenclature, cache)
        old = load_counters(chunk.nirs)
        # Care is "in the future" when dated after its feuille's reception, as in `caisse liquider`
        # (contract §7: the same amounts on the same files), not after the run's own date: a flow
        # dated ahead of the machine's clock is liquidated as `caisse liquider` would.
        decomptes, out_lines, new = liquidate(ref, *chunk.frames, old, None, params)
        outs = records.records_from_frames(decomptes, out_lines)
        _commit_chunk(run, chunk, outs, old, new)
        done += len(outs)
        if not quiet and total > size:
            rate = done / max(time.perf_counter() - started, 1e-9)
            _say("traiter", f"{_n(done)} / {_n(total)} feuilles ({rate:,.0f} feuilles/s)".replace(",", " "))


LOCK_KEY = 0x43414953  # "CAIS": PostgreSQL advisory lock of the daily run


@contextlib.contextmanager
def run_lock() -> Iterator[bool]:
    """Hold the daily-run lock for this process, if no other process holds it (yields False then).

    PostgreSQL: a session advisory lock; SQLite: an exclusive ``flock`` on a file next to the
    database. Both are released by the system when the process dies, so a killed run never
    blocks the next one. An in-memory SQLite database (the tests) needs no lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            got = bool(cursor.fetchone()[0])
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or not name or connection.is_in_memory_db():
        yield True
        return
    with open(f"{name}.traiter.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def daily_run(
    limit: dt.date | None = None, *, today: dt.date | None = None, chunk_size: int | None = None, quiet: bool = False
) -> DailyRun | None:
    """The daily run (``caisse traiter``): see the module docstring. Returns the last run, if any.

    An interrupted run is resumed first, with its own date and limit; then, if feuilles are
    still waiting under ``limit``, a new run dated ``today`` processes them. When another
    process is running it, nothing is done (message on stderr) and ``None`` is returned.
    """
    with run_lock() as locked:
        if not locked:
            _say("traiter", "un traitement quotidien est déjà en cours dans un autre processus : rien à faire.")
            return None
        return _daily_run(limit, today, chunk_size, quiet)


def _daily_run(limit: dt.date | None, today: dt.date | None, chunk_size: int | None, quiet: bool) -> DailyRun | None:
    size = chunk_size or _chunk_size()
    params = load()
    today = today or timezone.localdate()
    last: DailyRun | None = None
    interrupted = DailyRun.objects.filter(statut=RunStatus.EN_COURS).first()
    if interrupted is not None:
        DailyRun.objects.filter(pk=interrupted.pk).update(nb_reprises=F("nb_reprises") + 1)
        if not quiet:
            _say("traiter", f"reprise du traitement interrompu du {interrupted.date_traitement:%d/%m/%Y}.")
        last = _finish(interrupted, size, params, quiet)
    if _pending(limit).exists():
        run = DailyRun.objects.create(date_traitement=today, jusqu_au=limit, debut=timezone.now())
        last = _finish(run, size, params, quiet)
    elif interrupted is None and not quiet:
        _say("traiter", "aucune feuille à traiter.")
    return last


def _finish(run: DailyRun, size: int, params: SanteParameters, quiet: bool) -> DailyRun:
    _process(run, size, params, quiet)
    with transaction.atomic():
        DailyRun.objects.filter(pk=run.pk).update(statut=RunStatus.TERMINE, fin=timezone.now())
        run.refresh_from_db()
        audit.record(by=None, action=AuditAction.BATCH, obj=run, summary=(
            f"Traitement quotidien du {run.date_traitement:%d/%m/%Y} : {run.nb_feuilles} feuilles, "
            f"{run.nb_liquidees} liquidées, {run.nb_rejetees} rejetées ({run.nb_lots} lots, {run.nb_reprises} reprise(s))"))
    if not quiet:
        payments = Payment.objects.filter(date_paiement=run.date_traitement)
        _say("traiter", (
            f"traitement du {run.date_traitement:%d/%m/%Y} terminé : {_n(run.nb_feuilles)} feuille(s), "
            f"{_n(run.nb_liquidees)} liquidée(s), {_n(run.nb_rejetees)} rejetée(s) ; "
            f"{_n(payments.count())} paiement(s) à cette date."
        ))
    return run


# ================================================================================================
# Exports
# ================================================================================================

_DOUBLON_EXPLICATION = "Feuille rejetée (DOUBLON) : doublon d'une feuille ou d'un acte déjà traité."


def _duplicate_decompte(ident: str) -> dict[str, Any]:
    """The décompte ``caisse liquider`` gives a repeated id (the contract's DOUBLON rejection; the
    id's JSON type is restored by :func:`_input_id`)."""
    return {
        "id": ident, "statut": "rejetee", "rejets": ["DOUBLON"], "montant_rembourse_cts": 0, "paiement_ps_cts": 0,
        "paiement_assure_cts": 0, "part_c2s_cts": 0, "dette_creee_cts": 0, "dette_recuperee_cts": 0,
        "forfait_journalier_cts": 0, "lignes": [], "explication": _DOUBLON_EXPLICATION,
    }


class _IdIsNumber(Func):
    """Whether a stored record's ``id`` is a JSON number (SQL NULL without a record or an ``id``).

    Django's key lookup cannot tell ``7`` from ``"7"`` on SQLite, hence each database's own
    function (the project runs on SQLite and PostgreSQL)."""

    output_field = BooleanField()
    template = "NULL"  # another database: ids given back as text

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="JSON_TYPE(%(expressions)s, '$.id') IN ('integer', 'real')",
                           **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="jsonb_typeof(%(expressions)s -> 'id') = 'number'", **extra)


_INTEGER_TEXT = re.compile(r"-?[0-9]+")


def _input_id(decompte: dict[str, Any], number: bool | None) -> dict[str, Any]:
    """The décompte's ``id`` with the JSON type of the received one, as ``caisse liquider`` writes
    it (contract §2): the engine works on text ids, so an integer id ``7`` was stored as ``"7"``.
    Only an integer gives a text id when its JSON type is a number (a decimal id is invalid)."""
    ident = decompte.get("id")
    if number and isinstance(ident, str) and _INTEGER_TEXT.fullmatch(ident):
        decompte["id"] = int(ident)
    return decompte


def _integer_id(ident: str | None, number: bool | None) -> int | None:
    """The value of an id received as a JSON integer (as ``Feuille.identifiant_entier`` holds it)."""
    if number and ident is not None and _INTEGER_TEXT.fullmatch(ident):
        return records.integer_id(int(ident))
    return None


def _integer_rank(value: int | None) -> tuple[int, int]:
    """Sort key of the contract's order within a day: integer ids first, as numbers (as SQL's
    ``identifiant_entier`` NULLS LAST), then the others by their text."""
    return (0, value) if value is not None else (1, 0)


_FEUILLE_KEYS = (*records.FEUILLE_FIELDS, "lignes", "explication")


def _canonical(decompte: dict[str, Any]) -> dict[str, Any]:
    """The §2 field order (PostgreSQL's jsonb does not keep the keys' order)."""
    out = {k: decompte[k] for k in _FEUILLE_KEYS if k in decompte}
    out.update((k, v) for k, v in decompte.items() if k not in out)
    out["lignes"] = [
        {**{k: line[k] for k in records.LINE_FIELDS if k in line}, **{k: v for k, v in line.items() if k not in records.LINE_FIELDS}}
        for line in decompte.get("lignes") or []
    ]
    return out


def iter_decomptes() -> Iterator[dict[str, Any]]:
    """Every processed feuille's décompte, and every duplicate reception as a DOUBLON rejection,
    in the order of reception (date_reception, id); an ``id`` received as a JSON integer is given
    back as one (the stored record keeps the received JSON), as ``caisse liquider`` does."""
    processed = (
        Feuille.objects.exclude(statut=FeuilleStatus.RECUE)
        .order_by(*_contract_order())
        .values_list("date_reception", "identifiant_entier", "identifiant", "pk", "decompte", _IdIsNumber("enregistrement"))
        .iterator(chunk_size=2000)
    )
    keyed = (
        ((d or FAR_FUTURE, _integer_rank(e), i or "", 0, pk), _input_id(_canonical(dec), n))
        for d, e, i, pk, dec, n in processed
    )
    rows = list(DuplicateReception.objects.values_list(
        "date_reception", "identifiant", "reception_id", "position", _IdIsNumber("enregistrement"), "enregistrement"))
    decomptes = duplicate_decomptes([(i, rec) for _, i, _, _, _, rec in rows])
    dups = sorted(
        ((d or FAR_FUTURE, _integer_rank(_integer_id(i, n)), i, 1, r * 10**9 + p), _input_id(dec, n))
        for (d, i, r, p, n, _), dec in zip(rows, decomptes, strict=True)
    )
    for _, decompte in heapq.merge(keyed, dups, key=lambda item: item[0]):
        yield decompte


def duplicate_decomptes(received: Sequence[tuple[str, dict[str, Any] | None]]) -> list[dict[str, Any]]:
    """The décomptes ``caisse liquider`` gives these repeated ids (``(id, record received)``).

    The engine's first failing control names the rejection (contract §2 order): a repeat is a
    ``DOUBLON``, unless the record itself is unusable (no line, no date of reception, a required
    field missing or malformed…), which is a ``DONNEE_INVALIDE`` first. The records go through the
    engine with their ids already seen, so the verdict is the engine's own; a repeat stored without
    its record is a ``DOUBLON``."""
    with_record = [(pos, rec) for pos, (_, rec) in enumerate(received) if isinstance(rec, dict)]
    out = [_duplicate_decompte(ident) for ident, _ in received]
    if with_record:
        seen = Counters(seen_ids=pl.DataFrame({"id": sorted({i for i, _ in received})}, schema=IDS_SCHEMA))
        ref = Referentiel.from_records([], [], pl.DataFrame(schema=NOMENCLATURE_SCHEMA))
        f, lines = records.frames_from_records([rec for _, rec in with_record])
        decomptes, out_lines, _ = liquidate(ref, f, lines, seen, None, load(), carry=False)
        for (pos, _), decompte in zip(with_record, records.records_from_frames(decomptes, out_lines), strict=True):
            if decompte.get("rejets") in (["DOUBLON"], ["DONNEE_INVALIDE"]):
                out[pos] = decompte
    return out


def export_decomptes(out: str, *, quiet: bool = False) -> int:
    """``caisse exporter decomptes``: the décomptes in the §2 output format (NDJSON)."""
    count = write_ndjson(out, iter_decomptes())
    if not quiet:
        _say("exporter", f"{_n(count)} décompte(s) exporté(s).")
    return count


def unblock_payments() -> int:
    """The payments held for want of a valid IBAN take their payee's account as it is now (the
    référentiel corrected since, a member's space updated): they go out with the next export.
    Returns how many were unblocked."""
    unblocked = 0
    for kind in (PayeeKind.PS, PayeeKind.ASSURE):
        blocked = list(Payment.objects.filter(type_beneficiaire=kind, iban_valide=False))
        if not blocked:
            continue
        names = _payee_names(kind, sorted({p.identifiant_beneficiaire for p in blocked}))
        changed = []
        for p in blocked:
            _, iban, bic = names.get(p.identifiant_beneficiaire, ("", "", ""))
            if iban and sepa.valid_iban(iban) is not None:
                p.iban, p.bic, p.iban_valide = iban, bic, True
                changed.append(p)
        Payment.objects.bulk_update(changed, ["iban", "bic", "iban_valide"], batch_size=BULK)
        unblocked += len(changed)
    return unblocked


def export_payments(out: str, *, quiet: bool = False) -> int:
    """``caisse exporter paiements``: a SEPA credit-transfer file (pain.001.001.03). The payments
    held for want of an IBAN are first given their payee's current one (:func:`unblock_payments`).

    With nothing to transfer (no payment yet, or none with a valid IBAN) no file is written (a
    pain.001 without a transfer is schema-invalid; ``--out -`` writes nothing) and
    :class:`~caisse.claims.sepa.NothingToTransfer` is raised, its French message for the user."""
    unblocked = unblock_payments()
    if unblocked and not quiet:
        _say("exporter", f"{_n(unblocked)} paiement(s) bloqué(s) faute d'IBAN repris avec l'IBAN connu aujourd'hui.")
    payments = list(Payment.objects.order_by("date_paiement", "type_beneficiaire", "identifiant_beneficiaire", "pk"))
    try:
        xml, skipped = sepa.credit_transfer(payments)
    except sepa.NothingToTransfer as exc:
        if not quiet:
            _report_skipped(exc.skipped)
        raise
    if out == "-":
        sys.stdout.buffer.write(xml)
        sys.stdout.flush()
    else:
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(xml)
    if not quiet:
        _report_skipped(skipped)
        total = sum(p.montant_cts for p in payments) - sum(p.montant_cts for p in skipped)
        euros = f"{total / 100:,.2f}".replace(",", " ").replace(".", ",")
        _say("exporter", f"{_n(len(payments) - len(skipped))} virement(s) exporté(s), {euros} €"
             + (f" ; {_n(len(skipped))} sans IBAN." if skipped else "."))
    return len(payments) - len(skipped)


def _report_skipped(skipped: Sequence[Payment]) -> None:
    for p in skipped[:20]:
        _say("exporter", f"paiement de {p.montant_cts / 100:.2f} € à {p.identifiant_beneficiaire} non exporté : IBAN absent ou invalide.")


def finished_runs() -> Any:
    """The finished daily runs, newest first (the payments page pages through them)."""
    return DailyRun.objects.filter(statut=RunStatus.TERMINE).order_by("-date_traitement", "-pk")


def payment_runs(runs: Sequence[DailyRun] | None = None, limit: int = 104) -> list[dict[str, Any]]:
    """Finished daily runs (``runs``, else the latest ``limit``, newest first) with what they paid:
    transfers and amounts to professionals and to assurés, the transfers that no SEPA file can
    carry (no valid IBAN) and those it carries (``virements``: no file when there is none)."""
    from django.db.models import Count, Q, Sum

    runs = list(runs) if runs is not None else list(finished_runs()[:limit])
    totals = {
        row["run"]: row
        for row in Payment.objects.filter(run__in=runs).values("run").annotate(
            nb_ps=Count("pk", filter=Q(type_beneficiaire=PayeeKind.PS)),
            montant_ps=Sum("montant_cts", filter=Q(type_beneficiaire=PayeeKind.PS)),
            nb_assures=Count("pk", filter=Q(type_beneficiaire=PayeeKind.ASSURE)),
            montant_assures=Sum("montant_cts", filter=Q(type_beneficiaire=PayeeKind.ASSURE)),
            sans_iban=Count("pk", filter=Q(iban_valide=False)),
        )
    }
    rows: list[dict[str, Any]] = []
    for run in runs:
        t = totals.get(run.pk, {})
        nb_ps, nb_assures, sans_iban = t.get("nb_ps") or 0, t.get("nb_assures") or 0, t.get("sans_iban") or 0
        rows.append({
            "run": run,
            "nb_ps": nb_ps, "montant_ps_cts": t.get("montant_ps") or 0,
            "nb_assures": nb_assures, "montant_assures_cts": t.get("montant_assures") or 0,
            "sans_iban": sans_iban,
            # The transfers a SEPA file carries: the run's file is offered only when there is one.
            "virements": nb_ps + nb_assures - sans_iban,
        })
    return rows


# ================================================================================================
# Processing delays (rules.md F.6)
# ================================================================================================


def processing_delays(debut: dt.date | None = None, fin: dt.date | None = None) -> list[dict[str, Any]]:
    """Per month of payment and flow type: mean and D9 of (payment date − reception date), against
    the dated targets (parameters ``sante.delais.*``). Items: liquidated feuilles."""
    qs = Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE, date_paiement__isnull=False, date_reception__isnull=False)
    if debut is not None:
        qs = qs.filter(date_paiement__gte=debut)
    if fin is not None:
        qs = qs.filter(date_paiement__lte=fin)
    rows = qs.values_list("type", "date_reception", "date_paiement")
    return delays.delay_table(rows)


def late_payment_penalties(
    debut: dt.date | None = None, fin: dt.date | None = None, executant: str | None = None
) -> pl.DataFrame:
    """The electronic feuilles paid to professionals (tiers payant) in the period (to one
    professional with ``executant``), with the penalty each owes for a late payment (CSS art.
    D161-13-4, :func:`delays.late_payment_penalties`); the part obligatoire is the décompte's AMO
    reimbursement."""
    from django.db.models.fields.json import KT

    qs = Feuille.objects.filter(
        statut=FeuilleStatus.LIQUIDEE, type=FeuilleType.FSE, date_paiement__isnull=False, date_reception__isnull=False,
        decompte__destinataire="ps",
    )
    if debut is not None:
        qs = qs.filter(date_paiement__gte=debut)
    if fin is not None:
        qs = qs.filter(date_paiement__lte=fin)
    if executant is not None:
        qs = qs.filter(executant=executant)
    rows = qs.values_list("executant", "date_reception", "date_paiement", KT("decompte__montant_rembourse_cts"))
    items = pl.DataFrame(
        [(e, r, p, int(a) if a not in (None, "") else 0) for e, r, p, a in rows.iterator(chunk_size=5000)],
        schema=delays.PENALTY_ITEMS, orient="row",
    )
    return delays.late_payment_penalties(items)
