"""The référentiel exchange format (contract §1) to and from the database.

``import_referentiel`` loads or updates the registry from a folder of NDJSON files; it is
idempotent (a record unchanged since the last import is skipped, thanks to a fingerprint) and
a bad record never stops it: it is reported on stderr in French and skipped. Each person created
or changed gets one audit line ("traitement automatique").

``beneficiary_record`` is the reverse: the person's file as a contract record, which the claims
engine reads in the persistent path, so that the database and ``caisse liquider`` agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction

from caisse.batch_io import UnreadableFile, iter_ndjson
from caisse.beneficiaries.models import Beneficiary, ParentLink
from caisse.core.models import AuditAction, AuditEvent
from caisse.professionals.models import Employer, Establishment, HealthProfessional
from caisse.rights.models import (
    ALDKind,
    ALDPeriod,
    AMEAttribution,
    AMEStatus,
    C2SAttribution,
    C2SStatus,
    CardStatus,
    CarteVitale,
    ClosingReason,
    InvalidityPeriod,
    MaternityPeriod,
    MedecinTraitantDeclaration,
    OpeningReason,
    OppositionReason,
    ProtocolStatus,
    RightsPeriod,
)
from caisse.rights.services import Prepared, PreparedRows, run_together
from caisse.rules import identifiers
from caisse.rules.claims.referentiel import conventionne_of, secteur_of
from caisse.rules.parameters import load_parameters

BATCH_SIZE = 2000
IMPORT_LABEL = "import du référentiel"
# C2S and AME are always dated in the database; an open-ended period of the référentiel is kept
# open with this end date, and exported back as null.
OPEN_END = dt.date(9999, 12, 31)


class BadRecord(ValueError):
    pass


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    professionals: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Référentiel importé : {self.created} bénéficiaires créés, {self.updated} mis à jour, "
            f"{self.unchanged} inchangés, {self.professionals} professionnels ; {len(self.errors)} rejet(s)."
        )


def _date(raw: Any, what: str) -> dt.date | None:
    if raw in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise BadRecord(f"{what} : date « {raw} » invalide (AAAA-MM-JJ attendu).") from None


def _required_date(raw: Any, what: str) -> dt.date:
    value = _date(raw, what)
    if value is None:
        raise BadRecord(f"{what} : date manquante.")
    return value


def _periods(
    record: dict[str, Any], key: str, skipped: list[str], start: str = "debut", end: str = "fin", *,
    merge: bool = True,
) -> list[tuple[dt.date, dt.date | None, dict[str, Any]]]:
    """The record's periods, sorted. Overlaps, which the database refuses, are resolved as
    ``caisse liquider`` reads them: coverage on a day is "some period covers it", so overlapping
    periods merge (``merge``), or, when they carry different data (another médecin traitant, C2S
    with or without participation), the earlier one ends the day before the later one starts.

    A period ``caisse liquider`` cannot use either (not an object, a start missing or not a date,
    an end not a date, an end before the start) is left out and named in ``skipped``."""
    periods: list[tuple[dt.date, dt.date | None, dict[str, Any]]] = []
    for item in record.get(key) or []:
        try:
            if not isinstance(item, dict):
                raise BadRecord(f"{key} : chaque période doit être un objet.")
            debut = _required_date(item.get(start), f"{key}.{start}")
            fin = _date(item.get(end), f"{key}.{end}")
            if fin is not None and fin < debut:
                raise BadRecord(f"{key} : la fin ({fin}) précède le début ({debut}).")
        except BadRecord as exc:
            skipped.append(f"{exc} Période non importée.")
            continue
        periods.append((debut, fin, item))
    periods.sort(key=lambda p: p[0])
    resolved: list[tuple[dt.date, dt.date | None, dict[str, Any]]] = []
    for debut, fin, item in periods:
        if resolved:
            d0, f0, i0 = resolved[-1]
            if f0 is None or f0 >= debut:
                if merge:
                    resolved[-1] = (d0, None if f0 is None or fin is None else max(f0, fin), i0)
                    continue
                if debut - dt.timedelta(days=1) < d0:
                    resolved.pop()
                else:
                    resolved[-1] = (d0, debut - dt.timedelta(days=1), i0)
        resolved.append((debut, fin, item))
    return resolved


def fingerprint(record: dict[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(record, sort_keys=True).encode(), digest_size=16).hexdigest()


# --- Import ---------------------------------------------------------------------------------


def _import_professionals(folder: Path, report: ImportReport) -> None:
    path = folder / "professionnels.ndjson"
    if not path.exists():
        return
    rows = []
    seen: set[str] = set()
    for line, record in enumerate(iter_ndjson(path), start=1):
        try:
            if record is None:
                raise BadRecord("ligne illisible (objet JSON attendu).")
            ident = str(record.get("id") or "").strip()
            if not ident:
                raise BadRecord("identifiant « id » manquant.")
            if ident in seen:  # the first line is kept, as caisse liquider reads the file
                raise BadRecord(f"professionnel « {ident} » en double dans le fichier : la première ligne est gardée.")
            seen.add(ident)
            # Read as caisse liquider reads them (an unknown secteur: 1, as the model's default).
            secteur = secteur_of(record.get("secteur")) or 1
            conventionne = conventionne_of(record.get("conventionne"))
            rows.append(HealthProfessional(
                identifiant=ident, profession=str(record.get("profession") or ""),
                specialite=str(record.get("specialite") or ""), secteur=secteur if conventionne else 3,
                optam=bool(record.get("optam")) and secteur == 2, conventionne=conventionne,
                # A structure (laboratory, hospital, transporter, supplier) is named by its raison sociale.
                nom=str(record.get("nom") or record.get("raison_sociale") or ""), prenom=str(record.get("prenom") or ""),
                iban=_valid_iban(record.get("iban")), bic=str(record.get("bic") or ""),
            ))
        except (BadRecord, ValueError) as exc:
            report.errors.append(f"professionnels.ndjson ligne {line} : {exc}")
    for i in range(0, len(rows), BATCH_SIZE):
        HealthProfessional.objects.bulk_create(
            rows[i:i + BATCH_SIZE], update_conflicts=True, unique_fields=["identifiant"],
            update_fields=["profession", "specialite", "secteur", "optam", "conventionne", "iban", "bic"],
        )
    report.professionals = len(rows)


def _import_simple(folder: Path, name: str, model: Any, key: str, mapping: dict[str, str], report: ImportReport) -> None:
    path = folder / name
    if not path.exists():
        return
    rows = []
    seen: set[str] = set()
    for line, record in enumerate(iter_ndjson(path), start=1):
        if record is None or not record.get(key):
            report.errors.append(f"{name} ligne {line} : enregistrement illisible ou sans « {key} ».")
            continue
        if str(record.get(key)) in seen:
            report.errors.append(f"{name} ligne {line} : « {record.get(key)} » en double dans le fichier, ligne ignorée.")
            continue
        seen.add(str(record.get(key)))
        rows.append(model(**{field_name: str(record.get(src) or "") for field_name, src in mapping.items()}))
    for i in range(0, len(rows), BATCH_SIZE):
        unique = next(f for f, s in mapping.items() if s == key)
        model.objects.bulk_create(rows[i:i + BATCH_SIZE], update_conflicts=True, unique_fields=[unique],
                                  update_fields=[f for f in mapping if f != unique])


def _valid_iban(raw: Any) -> str:
    if not raw:
        return ""
    try:
        return identifiers.check_iban(str(raw))
    except identifiers.InvalidIdentifier:
        return ""


def _optional_date(record: dict[str, Any], key: str, skipped: list[str]) -> dt.date | None:
    """An optional date: one that is not a date is ignored (as caisse liquider does) and reported."""
    try:
        return _date(record.get(key), key)
    except BadRecord as exc:
        skipped.append(f"{exc} Valeur ignorée.")
        return None


def _person_fields(record: dict[str, Any], skipped: list[str]) -> dict[str, Any]:
    """The person's own fields. The NIR and the birth date are required; a sex other than « M » /
    « F » is read from the NIR (1, 3, 7: M; 2, 4, 8: F) and a death date that is not a date is
    ignored, each reported in ``skipped`` (caisse liquider does not read the sex and ignores such a
    date)."""
    nir = identifiers.compact(str(record.get("nir") or ""))
    try:
        identifiers.check_nir(nir)
    except identifiers.InvalidIdentifier as exc:
        raise BadRecord(str(exc)) from None
    naissance = _required_date(record.get("date_naissance"), "date_naissance")
    sexe = record.get("sexe")
    if sexe not in ("M", "F"):
        from_nir = "M" if nir[:1] in "137" else "F" if nir[:1] in "248" else None
        if from_nir is None:
            raise BadRecord("sexe : « M » ou « F » attendu.")
        skipped.append(f"sexe : « M » ou « F » attendu, « {from_nir} » lu dans le NIR.")
        sexe = from_nir
    return {
        "nir": nir, "nir_provisoire": identifiers.is_provisional_nir(nir), "sexe": sexe,
        "date_naissance": naissance, "date_deces": _optional_date(record, "deces", skipped),
        "nom": str(record.get("nom") or ""), "prenom": str(record.get("prenom") or ""),
        "nom_usage": str(record.get("nom_usage") or ""),
        "adresse": str(record.get("adresse") or ""), "code_postal": str(record.get("code_postal") or "")[:5],
        "commune": str(record.get("commune") or ""), "iban": _valid_iban(record.get("iban")),
        "bic": str(record.get("bic") or ""), "titre_sejour_fin": _optional_date(record, "titre_sejour_fin", skipped),
        **({"derniere_mise_a_jour": d} if (d := _optional_date(record, "derniere_mise_a_jour", skipped)) else {}),
    }


def _derived_rows(
    person: Beneficiary, record: dict[str, Any], professionals: dict[str, int], today: dt.date, skipped: list[str],
) -> dict[str, list[Any]]:
    """The person's rights, periods, declarations and cards. An item ``caisse liquider`` would not
    use either (a médecin traitant absent from the professionals, a card without a number) is left
    out and named in ``skipped``; the person's other rows are imported (the same amounts as
    ``caisse liquider``, contract §7)."""
    rows: dict[str, list[Any]] = {k: [] for k in ("rights", "ald", "c2s", "ame", "mat", "inv", "mt", "cards")}
    for debut, fin, _ in _periods(record, "droits", skipped):
        reason = "" if fin is None else (ClosingReason.DECES if person.date_deces and fin >= person.date_deces
                                         else ClosingReason.MUTATION)
        rows["rights"].append(RightsPeriod(beneficiary=person, debut=debut, fin=fin,
                                           motif_ouverture=OpeningReason.RESIDENCE, motif_fermeture=reason))
    for debut, fin, item in _periods(record, "ald", skipped):
        rows["ald"].append(ALDPeriod(
            beneficiary=person, kind=ALDKind.LISTE, affection=str(item.get("affection") or "Non précisée (import)"),
            date_protocole=debut, statut_protocole=ProtocolStatus.VALIDE, valide_le=debut, debut=debut, fin=fin))
    for debut, fin, item in _periods(record, "c2s", skipped, merge=False):
        fin = fin or OPEN_END
        rows["c2s"].append(C2SAttribution(
            beneficiary=person, debut=debut, fin=fin, participation=bool(item.get("participation")),
            participation_mensuelle_cts=int(item.get("participation_mensuelle_cts") or 0)
            if item.get("participation") else 0,
            statut=C2SStatus.FERMEE if fin < today else C2SStatus.OUVERTE))
    open_c2s = [r for r in rows["c2s"] if r.statut != C2SStatus.FERMEE]
    for extra in open_c2s[:-1]:
        extra.statut = C2SStatus.FERMEE
    for debut, fin, _ in _periods(record, "ame", skipped):
        rows["ame"].append(AMEAttribution(beneficiary=person, date_demande=debut, debut=debut,
                                          fin=fin or OPEN_END, statut=AMEStatus.ACCORDEE))
    for item in record.get("maternite") or []:
        try:
            if not isinstance(item, dict):
                raise BadRecord("maternite : chaque grossesse doit être un objet.")
            sixth = _required_date(item.get("debut_6e_mois"), "maternite.debut_6e_mois")
            birth = _date(item.get("date_accouchement"), "maternite.date_accouchement")
        except BadRecord as exc:
            skipped.append(f"{exc} Grossesse non importée.")
            continue
        # A pregnancy going on (no delivery date) ends at its presumed term, as caisse liquider takes it.
        presumed = birth or sixth + relativedelta(
            months=int(load_parameters().value("droits.maternite.mois_du_6e_mois_au_terme", sixth)))
        rows["mat"].append(MaternityPeriod(
            beneficiary=person, date_debut_grossesse=sixth - relativedelta(months=5), debut_6e_mois=sixth,
            date_accouchement_prevue=presumed, date_accouchement=birth if birth and birth <= today else None))
    for debut, fin, item in _periods(record, "invalidite", skipped):
        rows["inv"].append(InvalidityPeriod(beneficiary=person, categorie=int(item.get("categorie") or 2),
                                            debut=debut, fin=fin))
    for debut, fin, item in _periods(record, "medecin_traitant", skipped, merge=False):
        ps = professionals.get(str(item.get("ps")))
        if ps is None:
            skipped.append(f"medecin_traitant : professionnel « {item.get('ps')} » inconnu, déclaration non importée.")
            continue
        rows["mt"].append(MedecinTraitantDeclaration(beneficiary=person, medecin_id=ps, debut=debut, fin=fin))
    current_seen = False
    for item in record.get("cartes_vitale") or []:
        numero = str(item.get("numero") or "") if isinstance(item, dict) else ""
        if not numero:
            skipped.append("cartes_vitale : numéro manquant, carte non importée.")
            continue
        try:
            opposition = _date(item.get("opposition"), "cartes_vitale.opposition")
        except BadRecord as exc:
            skipped.append(f"{exc} Carte non importée.")
            continue
        if opposition is not None:
            card = CarteVitale(beneficiary=person, numero=numero, statut=CardStatus.EN_OPPOSITION,
                               date_commande=opposition, date_opposition=opposition,
                               motif_opposition=str(item.get("motif_opposition") or OppositionReason.PERTE))
        else:
            card = CarteVitale(beneficiary=person, numero=numero,
                               statut=CardStatus.REMPLACEE if current_seen else CardStatus.ACTIVE,
                               date_commande=person.date_naissance, date_remise=person.date_naissance)
            current_seen = True
        rows["cards"].append(card)
    return rows


_DERIVED_MODELS = {
    "rights": RightsPeriod, "ald": ALDPeriod, "c2s": C2SAttribution, "ame": AMEAttribution,
    "mat": MaternityPeriod, "inv": InvalidityPeriod, "mt": MedecinTraitantDeclaration, "cards": CarteVitale,
}


def _flush(batch: list[tuple[dict[str, Any], dict[str, Any], str]], professionals: dict[str, int],
           report: ImportReport, today: dt.date) -> None:
    nirs = [fields["nir"] for fields, _, _ in batch]
    existing = {b.nir: b for b in Beneficiary.objects.filter(nir__in=nirs)}
    with transaction.atomic():
        to_create, to_update, audit = [], [], []
        for fields, _record, digest in batch:
            person = existing.get(fields["nir"])
            if person is not None and person.import_hash == digest:
                report.unchanged += 1
                continue
            if person is None:
                person = Beneficiary(**{"derniere_mise_a_jour": today, **fields}, import_hash=digest)
                to_create.append(person)
            else:
                for name, value in fields.items():
                    setattr(person, name, value)
                person.import_hash = digest
                to_update.append(person)
        Beneficiary.objects.bulk_create(to_create)
        if to_create and to_create[0].pk is None:  # backends that do not return ids
            ids = dict(Beneficiary.objects.filter(nir__in=[p.nir for p in to_create]).values_list("nir", "pk"))
            for p in to_create:
                p.pk = ids[p.nir]
        if to_update:
            fields_seen = sorted({name for f, _, _ in batch for name in f})
            Beneficiary.objects.bulk_update(to_update, [*fields_seen, "import_hash"])
            for model in _DERIVED_MODELS.values():
                model.objects.filter(beneficiary__in=to_update).delete()
        records = {fields["nir"]: record for fields, record, _ in batch}
        created_nirs = {p.nir for p in to_create}
        derived: dict[str, list[Any]] = {k: [] for k in _DERIVED_MODELS}
        for person in [*to_create, *to_update]:
            skipped: list[str] = []
            for key, rows in _derived_rows(person, records[person.nir], professionals, today, skipped).items():
                derived[key].extend(rows)
            report.errors.extend(f"NIR {person.nir} : {text}" for text in skipped)
            created = person.nir in created_nirs
            audit.append(AuditEvent(
                actor=None, actor_label=IMPORT_LABEL, action=AuditAction.BATCH, beneficiary=person,
                object_type="bénéficiaire", object_id=str(person.pk),
                summary="Création par import du référentiel" if created else "Mise à jour par import du référentiel",
            ))
        for key, model in _DERIVED_MODELS.items():
            model.objects.bulk_create(derived[key], batch_size=BATCH_SIZE)
        AuditEvent.objects.bulk_create(audit, batch_size=BATCH_SIZE)
        report.created += len(to_create)
        report.updated += len(to_update)


def _parent_links(parents: Iterable[tuple[str, list[str], dt.date]]) -> None:
    pairs = list(parents)
    if not pairs:
        return
    nirs = {n for child, ps, _ in pairs for n in [child, *ps]}
    ids = dict(Beneficiary.objects.filter(nir__in=nirs).values_list("nir", "pk"))
    links = [
        ParentLink(child_id=ids[child], parent_id=ids[p], debut=birth)
        for child, ps, birth in pairs for p in ps[:2] if child in ids and p in ids and p != child
    ]
    ParentLink.objects.bulk_create(links, batch_size=BATCH_SIZE, ignore_conflicts=True)


def import_referentiel(folder: Path, *, today: dt.date | None = None, quiet: bool = False) -> ImportReport:
    folder = Path(folder)
    if not folder.is_dir():
        raise UnreadableFile(f"« {folder} » n'est pas un dossier de référentiel.")
    path = folder / "beneficiaires.ndjson"
    if not path.exists():
        raise UnreadableFile(f"Fichier introuvable : {path}")
    today = today or dt.date.today()
    report = ImportReport()
    _import_professionals(folder, report)
    _import_simple(folder, "etablissements.ndjson", Establishment, "finess",
                   {"finess": "finess", "raison_sociale": "raison_sociale", "categorie": "categorie"}, report)
    _import_simple(folder, "employeurs.ndjson", Employer, "siret",
                   {"siret": "siret", "raison_sociale": "raison_sociale", "adresse": "adresse"}, report)
    professionals = dict(HealthProfessional.objects.values_list("identifiant", "pk"))
    batch: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    parents: list[tuple[str, list[str], dt.date]] = []
    seen: set[str] = set()
    for line, record in enumerate(iter_ndjson(path), start=1):
        try:
            if record is None:
                raise BadRecord("ligne illisible (objet JSON attendu).")
            notes: list[str] = []
            fields = _person_fields(record, notes)
        except BadRecord as exc:
            report.errors.append(f"beneficiaires.ndjson ligne {line} : {exc}")
            continue
        report.errors.extend(f"beneficiaires.ndjson ligne {line} : {note}" for note in notes)
        if fields["nir"] in seen:
            report.errors.append(f"beneficiaires.ndjson ligne {line} : NIR {fields['nir']} en double dans le fichier.")
            continue
        seen.add(fields["nir"])
        batch.append((fields, record, fingerprint(record)))
        if record.get("parents"):
            parents.append((fields["nir"], [str(p) for p in record["parents"]], fields["date_naissance"]))
        if len(batch) >= BATCH_SIZE:
            _flush(batch, professionals, report, today)
            batch = []
    if batch:
        _flush(batch, professionals, report, today)
    _parent_links(parents)
    if not quiet:
        for error in report.errors[:50]:
            print(error, file=sys.stderr)
        if len(report.errors) > 50:
            print(f"… et {len(report.errors) - 50} autres rejets.", file=sys.stderr)
        print(report.summary(), file=sys.stderr)
    return report


# --- Export (database → contract record) ------------------------------------------------------------


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d and d != OPEN_END else None


_NIRS = ["\x00nir"]  # sentinel of the NIR list (no real NIR has it)


def _by_person(model: Any, build: Any) -> PreparedRows:
    """Rows of ``model`` for the people of a NIR list, the person's id first."""
    return PreparedRows(model, lambda nirs: build(model.objects.filter(beneficiary__nir__in=nirs)), nirs=_NIRS)


def _span(r: list[Any]) -> dict[str, Any]:
    return {"debut": _iso(r[1]), "fin": _iso(r[2])}


# The people, then each list of the record: (key, query, row → item). Compiled once per process, run
# together (one round trip on PostgreSQL): the real-time API reads them for every micro-batch.
_PEOPLE = PreparedRows(Beneficiary, lambda nirs: Beneficiary.objects.filter(nir__in=nirs).values_list(
    "pk", "nir", "date_naissance", "sexe", "date_deces", "iban"), nirs=_NIRS)
_LISTS: list[tuple[str, PreparedRows, Any]] = [
    ("droits", _by_person(RightsPeriod, lambda qs: qs.order_by("debut", "pk").values_list(
        "beneficiary_id", "debut", "fin")), _span),
    ("ald", _by_person(ALDPeriod, lambda qs: qs.filter(statut_protocole=ProtocolStatus.VALIDE)
                       .exclude(kind=ALDKind.NON_EXONERANTE).order_by("debut", "pk")
                       .values_list("beneficiary_id", "debut", "fin")), _span),
    ("c2s", _by_person(C2SAttribution, lambda qs: qs.exclude(statut=C2SStatus.SUSPENDUE).order_by("debut", "pk")
                       .values_list("beneficiary_id", "debut", "fin", "participation")),
     lambda r: {"debut": _iso(r[1]), "fin": _iso(r[2]), "participation": r[3]}),
    ("ame", _by_person(AMEAttribution, lambda qs: qs.filter(statut=AMEStatus.ACCORDEE).order_by("debut", "pk")
                       .values_list("beneficiary_id", "debut", "fin")), _span),
    ("maternite", _by_person(MaternityPeriod, lambda qs: qs.order_by("debut_6e_mois", "pk").values_list(
        "beneficiary_id", "debut_6e_mois", "date_accouchement", "date_accouchement_prevue")),
     lambda r: {"debut_6e_mois": _iso(r[1]), "date_accouchement": _iso(r[2] or r[3])}),
    ("invalidite", _by_person(InvalidityPeriod, lambda qs: qs.order_by("debut", "pk").values_list(
        "beneficiary_id", "debut", "fin")), _span),
    ("medecin_traitant", _by_person(MedecinTraitantDeclaration, lambda qs: qs.order_by("debut", "pk").values_list(
        "beneficiary_id", "medecin__identifiant", "debut", "fin")),
     lambda r: {"ps": r[1], "debut": _iso(r[2]), "fin": _iso(r[3])}),
    ("cartes_vitale", _by_person(CarteVitale, lambda qs: qs.order_by("pk").values_list(
        "beneficiary_id", "numero", "date_opposition")),
     lambda r: {"numero": r[1], "opposition": _iso(r[2])}),
]
RECORD_SLICE = 500  # people per statement (SQLite limits the number of parameters)


def beneficiary_queries(nirs: list[str]) -> list[tuple[Prepared, dict[str, Any]]]:
    """The statements that read these people's records (at most ``RECORD_SLICE``), for
    :func:`~caisse.rights.services.run_together`; :func:`records_from_rows` builds the records."""
    values = {"nirs": nirs}
    return [(_PEOPLE, values), *((query, values) for _, query, _ in _LISTS)]


def records_from_rows(results: list[list[Any]]) -> list[dict[str, Any]]:
    """Contract §1 records from the rows of :func:`beneficiary_queries` (in the people's order)."""
    people, *rows = results
    lists = {}
    for (key, _, make), found in zip(_LISTS, rows, strict=True):
        bucket: dict[int, list[dict[str, Any]]] = {}
        for row in found:
            bucket.setdefault(row[0], []).append(make(row))
        lists[key] = bucket
    out = []
    for pk, nir, naissance, sexe, deces, iban in people:
        rec: dict[str, Any] = {"nir": nir, "date_naissance": naissance.isoformat(), "sexe": sexe}
        for key, _, _ in _LISTS:
            rec[key] = lists[key].get(pk, [])
        rec["deces"] = _iso(deces)
        rec["iban"] = iban or None
        out.append(rec)
    return out


def beneficiary_records(nirs: Iterable[str]) -> list[dict[str, Any]]:
    """Contract §1 records of these people, by slices of people (each in one round trip on
    PostgreSQL, with queries compiled once per process): the claims engine reads them in the
    persistent path and the real-time API."""
    out: list[dict[str, Any]] = []
    nir_list = sorted({n for n in nirs if n})
    for start in range(0, len(nir_list), RECORD_SLICE):
        out.extend(records_from_rows(run_together(beneficiary_queries(nir_list[start:start + RECORD_SLICE]))))
    return out


def beneficiary_records_orm(nirs: Iterable[str]) -> list[dict[str, Any]]:
    """The same records through the ORM, compiled at each call: the reference of the tests."""
    out: list[dict[str, Any]] = []
    nir_list = sorted({n for n in nirs if n})
    for start in range(0, len(nir_list), RECORD_SLICE):
        part = nir_list[start:start + RECORD_SLICE]
        results = [list(query.build(nirs=part)) for query in (_PEOPLE, *(q for _, q, _ in _LISTS))]
        out.extend(records_from_rows(results))
    return out


def beneficiary_record(person: Beneficiary) -> dict[str, Any]:
    """The person's file in the contract's référentiel format (§1)."""
    return beneficiary_records([person.nir])[0]
