"""Build a demonstration caisse: a synthetic population, its rights, and one account per role.

``caisse demo`` (and ``make demo``) call :func:`build_demo`. It is idempotent: a database that
already holds the demo is kept as it is, so that a second ``make demo`` starts at once.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.db import transaction

from caisse.accounts.models import Role, User
from caisse.beneficiaries.exchange import import_referentiel
from caisse.beneficiaries.models import Beneficiary, ParentLink
from caisse.professionals.models import Employer, HealthProfessional, Profession
from caisse.rights import services
from caisse.rights.models import ProtocolStatus

DEMO_PASSWORD = "caisse-demo-2026"
SEED = 2026

# (login, role, first name, last name) — one account per role, as printed at the end.
DEMO_AGENTS = [
    ("accueil", Role.ACCUEIL, "Yanis", "Haddad"),
    ("droits", Role.GESTIONNAIRE_DROITS, "Claire", "Morel"),
    ("liquidation", Role.LIQUIDATEUR, "Paul", "Lefèvre"),
    ("ij", Role.GESTIONNAIRE_IJ, "Nadia", "Benali"),
    ("atmp", Role.GESTIONNAIRE_ATMP, "Hugo", "Garnier"),
    ("enquete", Role.ENQUETEUR, "Sophie", "Roux"),
    ("medecin", Role.MEDECIN_CONSEIL, "Sarah", "Dubois"),
    ("manager", Role.MANAGER, "Marc", "Fontaine"),
    ("admin", Role.ADMIN, "Alice", "Perrin"),
]


def _generate(personnes: int, annee: int, out: Path) -> None:
    from caisse.simulation.generator import run

    run(personnes, annee, SEED, out, "ndjson")


def _account(username: str, role: str, first: str, last: str, **links: Any) -> User:
    user = User.objects.filter(username=username).first() or User(username=username)
    user.role, user.first_name, user.last_name = role, first, last
    for key, value in links.items():
        setattr(user, key, value)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


@transaction.atomic
def _accounts() -> list[tuple[str, str, str]]:
    rows = []
    for username, role, first, last in DEMO_AGENTS:
        _account(username, role, first, last)
        rows.append((Role(role).label, username, f"{first} {last}"))
    from django.db.models import Count, Exists, OuterRef

    from caisse.claims.models import Feuille, FeuilleStatus, PayeeKind, Payment

    # A parent whose care has been reimbursed (once the daily runs are done), so that the online
    # space shows children, rights and reimbursements; any parent before.
    reimbursed = Feuille.objects.filter(nir=OuterRef("parent__nir"), statut=FeuilleStatus.LIQUIDEE,
                                        date_paiement__isnull=False)
    parents = ParentLink.objects.select_related("parent").filter(
        parent__date_deces__isnull=True, parent__rights_periods__fin__isnull=True).order_by("pk")
    parent_link = parents.filter(Exists(reimbursed)).first() or parents.first()
    member = parent_link.parent if parent_link else Beneficiary.objects.alive().order_by("pk").first()
    if member is not None:
        _account("assure", Role.ASSURE, member.prenom or "Assuré", member.nom_affiche or "Démo", beneficiary=member)
        rows.append((Role.ASSURE.label, "assure", f"{member.prenom} {member.nom_affiche} (NIR {member.nir})"))
    doctors = HealthProfessional.objects.filter(profession=Profession.MEDECIN).order_by("pk")
    paid = Payment.objects.filter(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire=OuterRef("identifiant"))
    doctor = doctors.filter(Exists(paid)).first() or doctors.first()  # one the caisse has paid, once it has
    if doctor is not None:
        _account("professionnel", Role.PROFESSIONNEL, doctor.prenom or "Docteur", doctor.nom or "Démo",
                 professional=doctor)
        rows.append((Role.PROFESSIONNEL.label, "professionnel", str(doctor)))
    employer = Employer.objects.annotate(n=Count("arrets")).order_by("-n", "pk").first()
    if employer is not None:
        _account("employeur", Role.EMPLOYEUR, "Service", "RH", employer=employer)
        rows.append((Role.EMPLOYEUR.label, "employeur", str(employer)))
    return rows


def _work_in_progress(today: dt.date) -> None:
    """A few files in each work queue, so that every role has something to do."""
    agent = User.objects.get(username="droits")
    people = list(Beneficiary.objects.alive().filter(rights_periods__fin__isnull=True).order_by("pk")[:40])
    for person in people[:8]:
        if not person.ald_periods.filter(statut_protocole=ProtocolStatus.TRANSMIS).exists():
            services.submit_protocol(person, kind="liste", numero_liste=8, affection="Diabète de type 2",
                                     date_protocole=today - dt.timedelta(days=3), by=agent)
    # Files untouched for years and expired residence permits, as the Hainaut report describes
    # (2,294 files without update for 3 years, 894 expired permits in 2022 for ~1.2M people).
    ids = list(Beneficiary.objects.alive().order_by("pk").values_list("pk", flat=True))
    stale = [pk for pk in ids if pk % 500 == 7]
    expired = [pk for pk in ids if pk % 1300 == 11]
    Beneficiary.objects.filter(pk__in=stale).update(derniere_mise_a_jour=today - dt.timedelta(days=4 * 365))
    Beneficiary.objects.filter(pk__in=expired).update(titre_sejour_fin=today - dt.timedelta(days=240))
    controls = services.open_residence_controls(today, by=agent)
    for control in controls[: len(controls) // 3]:
        services.close_residence_control(control, outcome="droits_maintenus", when=today, by=agent,
                                         observations="Justificatif de domicile reçu.")


def _read(path: Path, limit: int) -> list[dict[str, Any]]:
    import json

    rows = []
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                rows.append(json.loads(line))
                if len(rows) >= limit:
                    break
    return rows


def _sick_pay(out: Path, today: dt.date, limit: int = 300) -> None:
    """The first arrêts of the simulated year become IJ files: most complete and paid, some waiting."""
    from django.core.exceptions import ValidationError

    from caisse.allowances.services import Salaire, payer, recevoir_attestation_salaire, recevoir_avis

    agent = User.objects.get(username="ij")
    for n, record in enumerate(_read(out / "arrets.ndjson", limit)):
        try:
            employer = Employer.objects.filter(siret=record.get("employeur") or "").first()
            arret, created = recevoir_avis(
                {**record, "date_reception": record.get("date_debut"), "siret": employer.siret if employer else None},
                by=agent,
            )
            if not created or employer is None or n % 7 == 0:  # one in seven waits for its certificate
                continue
            lines = [Salaire(s["mois"], int(s["brut_cts"])) for s in record.get("salaires") or []
                     if s["mois"] < str(record["date_debut"])[:7]]
            recevoir_attestation_salaire(arret=arret, employeur=employer, lignes=lines, subrogation=n % 3 == 0,
                                         subrogation_debut=arret.date_debut, subrogation_fin=arret.date_fin,
                                         date_reception=arret.date_debut + dt.timedelta(days=3 + n % 20), by=agent)
        except ValidationError:
            continue
    payer(jusqu_au=today - dt.timedelta(days=1), date_paiement=today, by=agent)


#: Days between a paper feuille's reception and the end of its capture (mail sorting, scanning,
#: saisie), cycled over the feuilles: with the twice-weekly runs below, a paper feuille is paid
#: about 13 days after its reception (9th decile about 18 days), as in the CPAM de Paris' 2021
#: report (mean 15.34 days, 9th decile 18.08 days); an electronic one about 2 days after
#: (9th decile 4 days; the report: 4.33 days).
CAPTURE_DAYS = (6, 8, 10, 12, 14, 7, 9, 11, 13, 15, 16)
#: Weekdays of the demo's daily runs (Tuesday, Friday): a caisse runs one every working day; two a
#: week keep the demo quick to build while the delays stay those of a real year.
RUN_WEEKDAYS = (1, 4)
#: An incident of production in the simulated year (month, first day, last day): no daily run
#: between these days, so the FSE received just before or during it are paid late and the delays
#: page has late payment penalties to show (CSS D161-13-3/-4), as a real caisse's would after one.
INCIDENT = (10, 5, 16)


def _claims(out: Path, year: int, today: dt.date, limit: int = 25_000) -> None:
    """A share of the simulated year's feuilles goes through reception and the daily runs.

    Electronic feuilles (FSE) are received at once, as a teletransmitted flow is. A paper feuille
    (FSP) reaches the daily run only once captured: it is received with its own reception date,
    :data:`CAPTURE_DAYS` later, in the scanned batch of the run's eve, so the delays page shows
    paper slower than electronic. A few paper feuilles captured in the back-office during the last
    days wait in the capture queue for the next run. The runs stop during the :data:`INCIDENT`.
    """
    from caisse.batch_io import write_ndjson
    from caisse.claims.services import daily_run, import_referentiel_extras, receive_flow

    import_referentiel_extras(out / "referentiel", quiet=True)
    records = _spread(out / "feuilles.ndjson", limit)
    electronic = [r for r in records if r.get("type") != "FSP"]
    paper: list[tuple[dt.date, dict[str, Any]]] = []
    for n, record in enumerate(r for r in records if r.get("type") == "FSP"):
        try:
            received = dt.date.fromisoformat(str(record.get("date_reception")))
        except ValueError:
            electronic.append(record)  # an unreadable date: rejected by the run like any other
            continue
        paper.append((received + dt.timedelta(days=CAPTURE_DAYS[n % len(CAPTURE_DAYS)]), record))
    paper.sort(key=lambda item: item[0])

    def receive(name: str, batch: list[dict[str, Any]]) -> None:
        write_ndjson(out / name, batch)
        receive_flow(out / name, quiet=True)

    receive("feuilles-fse.ndjson", electronic)
    # The runs go on into the first months of the next year, when the late care of December is
    # received and paid: a run pays only what was received by its eve, never a feuille from the
    # future (the flow's deliberately wrong dates stay received, as they would).
    end = dt.date(year + 1, 3, 31)
    month, first, last = INCIDENT
    incident = (dt.date(year, month, first), dt.date(year, month, last))
    day = dt.date(year, 1, 1)
    while day <= end:
        if day.weekday() in RUN_WEEKDAYS and not incident[0] <= day <= incident[1]:
            eve = day - dt.timedelta(days=1)
            ready = next((i for i, (captured_on, _) in enumerate(paper) if captured_on > eve), len(paper))
            if ready:  # ``paper`` is sorted by capture date: the captured ones come first
                receive(f"fsp-{eve:%Y%m%d}.ndjson", [record for _, record in paper[:ready]])
                paper = paper[ready:]
            daily_run(eve, today=day, quiet=True)
        day += dt.timedelta(days=1)
    _capture_queue(today)


def _spread(path: Path, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` feuilles taken evenly through the flow (every k-th line), so that a large
    demo still has claims, payments and delays in every month of the year, not only in January."""
    import json

    with path.open(encoding="utf-8") as handle:
        total = sum(1 for _ in handle)
    stride = max(1, -(-total // limit))
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for n, line in enumerate(handle) if n % stride == 0]


def _capture_queue(today: dt.date, count: int = 6) -> None:
    """Paper feuilles captured by the liquidateur over the last days, waiting for the next run."""
    from caisse.claims.capture import PaperFeuille, PaperLine, capture_feuille

    agent = User.objects.get(username="liquidation")
    doctors = list(HealthProfessional.objects.filter(profession=Profession.MEDECIN).order_by("pk")[:3])
    people = list(Beneficiary.objects.filter(date_deces__isnull=True).order_by("pk")[:count])
    for n, person in enumerate(people if doctors else []):
        care = today - dt.timedelta(days=8 + 2 * n)
        capture_feuille(
            PaperFeuille(
                nir=person.nir, executant=doctors[n % len(doctors)].identifiant, prescripteur=None,
                tiers_payant=False, risque="maladie", parcours="medecin_traitant", en_rapport_ald=False,
                date_reception=care + dt.timedelta(days=4),
                lignes=(PaperLine(code="G", date_soins=care, quantite=1, coefficient=1.0, montant_facture_cts=3000),),
            ),
            by=agent,
            today=today - dt.timedelta(days=n % 3),
        )


def _work_accidents(out: Path, today: dt.date, limit: int = 40) -> None:
    """Recent declarations (dates moved to the last weeks) so that the AT/MP queue has deadlines."""
    from django.core.exceptions import ValidationError

    from caisse.work_accidents import services as atmp
    from caisse.work_accidents.enums import CaseKind, Declarant

    agent = User.objects.get(username="atmp")
    for n, record in enumerate(_read(out / "declarations_atmp.ndjson", limit)):
        victim = Beneficiary.objects.filter(nir=record.get("nir"), date_deces__isnull=True).first()
        employer = Employer.objects.filter(siret=record.get("employeur")).first()
        if victim is None:
            continue
        event = today - dt.timedelta(days=5 + (n * 3) % 80)
        kind = str(record.get("type")) if record.get("type") in CaseKind.values else CaseKind.AT
        try:
            case = atmp.declare(
                by=agent, kind=kind, victim=victim,
                declarant=Declarant.VICTIME if kind == CaseKind.MP else Declarant.EMPLOYEUR,
                employer=employer, date_evenement=event, date_declaration=event + dt.timedelta(days=1),
                date_reception=event + dt.timedelta(days=1), circonstances="Chute dans l'escalier de service.",
            )
            if n % 4:
                atmp.record_initial_certificate(case, by=agent, date_etablissement=event,
                                                date_reception=event + dt.timedelta(days=2),
                                                lesions="Entorse de la cheville droite.")
        except ValidationError:
            continue
    atmp.flag_deadlines(today)


def build_demo(personnes: int = 20_000, today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    if Beneficiary.objects.exists() and User.objects.filter(username="admin").exists():
        print("Base de démonstration déjà construite : elle est conservée.", file=sys.stderr)
        rows = _accounts()
    else:
        with tempfile.TemporaryDirectory(prefix="caisse-demo-") as tmp:
            out = Path(tmp)
            print(f"Génération d'une caisse synthétique de {personnes} personnes…", file=sys.stderr)
            _generate(personnes, today.year - 1, out)  # a whole year of flows, all already received
            print("Import du référentiel…", file=sys.stderr)
            import_referentiel(out / "referentiel", today=today)
            rows = _accounts()
            _work_in_progress(today)
            print("Dossiers d'indemnités journalières et d'accidents du travail…", file=sys.stderr)
            _sick_pay(out, today)
            _work_accidents(out, today)
            print("Feuilles de soins : réception et traitement quotidien…", file=sys.stderr)
            _claims(out, today.year - 1, today)
            rows = _accounts()  # the employer account goes to the employer with the most arrêts
    width = max(len(r[0]) for r in rows)
    print("\nComptes de démonstration (mot de passe commun : " + DEMO_PASSWORD + ")")
    for label, username, who in rows:
        print(f"  {label:<{width}}  {username:<14} {who}")
    print("\nAPI (/api/openapi.json) : un jeton par « caisse jeton --utilisateur professionnel ».")
    print()
