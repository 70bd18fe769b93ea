"""What the health-costs screens show: décomptes read back from the database, the statement PDF
(décompte de remboursement, WeasyPrint) and the processing-delay chart (matplotlib, SVG).

Amounts and rates are formatted here, in French (``26,50 €``, ``70 %``, with a non-breaking space
before the sign so that it never wraps alone), so the templates only lay them out. When WeasyPrint
cannot load (no Pango), :class:`DocumentUnavailable` carries a French message for a 503.

The debt of the assuré (CSS art. L160-13): the participations forfaitaires and franchises that a
payment could not absorb (tiers payant, or a reimbursement smaller than them) become a debt
(``dette_creee_cts``), withheld from the person's later reimbursements (``dette_recuperee_cts``).
Every screen and the statement show both per feuille, with :data:`DETTE_RECUPEREE_NOTE` and
:data:`DETTE_CREEE_NOTE` as their one-line explanation.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string

from caisse.claims.models import Feuille, FeuilleStatus, PayeeKind, Payment
from caisse.core.money import euros
from caisse.core.pdf import PdfUnavailable, html_to_pdf
from caisse.rules.claims.controls import MESSAGES

EXTRA_MESSAGES = {"DOUBLON": MESSAGES.get("DOUBLON", "doublon")}
DocumentUnavailable = PdfUnavailable
__all__ = ["DETTE_CREEE_NOTE", "DETTE_RECUPEREE_NOTE", "DocumentUnavailable", "euros", "percent"]

NBSP = "\u00a0"
DETTE_RECUPEREE_NOTE = (
    "Retenu pour sommes dues : part du remboursement retenue pour des participations forfaitaires et franchises médicales "
    "dues sur des soins antérieurs (code de la sécurité sociale, article L160-13)."
)
DETTE_CREEE_NOTE = (
    "Dette créée : participations forfaitaires et franchises médicales de ces soins qui n'ont pas pu être "
    "déduites du paiement (tiers payant, ou remboursement inférieur à leur montant) ; elles restent dues et "
    "seront retenues sur les prochains remboursements (code de la sécurité sociale, article L160-13)."
)
RECOURS_NOTE = (
    "Si vous contestez ce décompte, vous pouvez saisir par écrit la commission de recours amiable de votre "
    "caisse primaire d'assurance maladie dans un délai de deux mois à compter de sa notification (code de la "
    "sécurité sociale, article R142-1). Sans réponse de la commission dans les deux mois suivant la réception "
    "de votre réclamation, celle-ci est réputée rejetée et vous pouvez saisir le pôle social du tribunal "
    "judiciaire (article R142-6 du même code)."
)


def percent(value: Any) -> str:
    """``70`` → ``70 %`` with a non-breaking space (``—`` when there is no rate)."""
    return "—" if value in (None, "") else f"{value}{NBSP}%"


def reason(code: str) -> str:
    """The French reason of a rejection code (the code itself when it is not a known one)."""
    text = MESSAGES.get(code) or EXTRA_MESSAGES.get(code)
    return f"{text[:1].upper()}{text[1:]}" if text else code


# --- Décomptes read back ----------------------------------------------------------------------------


@dataclass
class Line:
    code: str
    date_soins: str
    base: str
    taux: str
    amo: str
    participation: str
    franchise: str
    rembourse: str
    rejets: list[tuple[str, str]]
    facture: str = "—"  # the amount billed (received record), when known
    depassement: str = "—"  # the part billed above the base (décompte), when known


@dataclass
class Statement:
    feuille: Feuille
    statut: str
    rejets: list[tuple[str, str]]
    destinataire: str
    rembourse_cts: int
    paiement_ps_cts: int
    paiement_assure_cts: int
    dette_creee_cts: int
    dette_recuperee_cts: int
    explication: str
    lignes: list[Line] = field(default_factory=list)
    professionnel: str = ""  # who gave the care, filled by :func:`statement_context` (one query per statement)
    versement: str = ""  # to whom it was paid, in words, filled by :func:`statement_context`

    def money(self) -> dict[str, str]:
        return {k: euros(getattr(self, f"{k}_cts")) for k in
                ("rembourse", "paiement_ps", "paiement_assure", "dette_creee", "dette_recuperee")}

    @property
    def rien_verse(self) -> bool:
        """Liquidated, yet nobody is paid anything (all of it withheld, or nothing to reimburse)."""
        return self.statut == FeuilleStatus.LIQUIDEE and not self.paiement_ps_cts and not self.paiement_assure_cts

    def dette_notes(self) -> list[str]:
        """One French sentence per debt movement of this feuille (none when there is none)."""
        notes = []
        if self.dette_recuperee_cts:
            tail = " ; rien n'est versé pour ces soins." if self.rien_verse else "."
            notes.append(
                f"Retenue sur ce remboursement : {euros(self.dette_recuperee_cts)} pour des participations forfaitaires "
                "et franchises médicales dues sur des soins antérieurs (code de la sécurité sociale, article "
                f"L160-13){tail}")
        if self.dette_creee_cts:
            why = ("le professionnel de santé a été payé en tiers payant" if self.paiement_ps_cts
                   else "le remboursement ne suffisait pas à les couvrir")
            notes.append(
                "Participations forfaitaires et franchises médicales de ces soins non déduites du paiement "
                f"({why}) : {euros(self.dette_creee_cts)} à retenir sur les prochains remboursements (code de la "
                "sécurité sociale, article L160-13).")
        return notes


def _cents(value: Any) -> int | None:
    """An amount in cents read from a stored record (``None`` when absent or unreadable)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date_fr(value: Any) -> str:
    try:
        return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return "—"


def statement(feuille: Feuille) -> Statement:
    """A processed feuille's décompte (contract §2 output) in French display form."""
    d = feuille.decompte or {}
    received = (feuille.enregistrement or {}).get("lignes") or []
    lines = []
    for i, line in enumerate(d.get("lignes") or []):
        source = received[i] if i < len(received) and isinstance(received[i], dict) else {}
        lines.append(Line(
            code=str(line.get("code") or source.get("code") or "—"), date_soins=_date_fr(source.get("date_soins")),
            base=euros(line.get("base_remboursement_cts")), taux=percent(line.get("taux")),
            amo=euros(line.get("montant_amo_cts")), participation=euros(line.get("participation_forfaitaire_cts")),
            franchise=euros(line.get("franchise_cts")), rembourse=euros(line.get("montant_rembourse_cts")),
            rejets=[(c, reason(c)) for c in line.get("rejets") or []],
            facture=euros(_cents(source.get("montant_facture_cts"))), depassement=euros(_cents(line.get("depassement_cts"))),
        ))
    return Statement(
        feuille=feuille, statut=str(d.get("statut") or feuille.statut),
        rejets=[(c, reason(c)) for c in d.get("rejets") or []],
        destinataire="Professionnel de santé" if d.get("destinataire") == "ps" else "Assuré",
        rembourse_cts=int(d.get("montant_rembourse_cts") or 0), paiement_ps_cts=int(d.get("paiement_ps_cts") or 0),
        paiement_assure_cts=int(d.get("paiement_assure_cts") or 0),
        dette_creee_cts=int(d.get("dette_creee_cts") or 0), dette_recuperee_cts=int(d.get("dette_recuperee_cts") or 0),
        explication=str(d.get("explication") or ""), lignes=lines,
    )


def processed_for_nir(nir: str) -> list[Feuille]:
    return list(
        Feuille.objects.filter(nir=nir).exclude(statut=FeuilleStatus.RECUE)
        .select_related("run").order_by("-date_reception", "identifiant")
    )


def professional_names(identifiants: set[str]) -> dict[str, str]:
    """``identifiant`` → ``"Jean Martin, médecin (n° 10000000001)"`` for the professionals known to
    the caisse; one query."""
    from caisse.professionals.models import HealthProfessional, Profession

    labels = dict(Profession.choices)
    names = {}
    for ps in HealthProfessional.objects.filter(identifiant__in=sorted(i for i in identifiants if i)):
        name = f"{ps.prenom} {ps.nom}".strip()
        what = str(labels.get(ps.profession) or ps.profession or "professionnel de santé")
        number = f"(n°{NBSP}{ps.identifiant})"
        names[ps.identifiant] = (f"{name}, {what[:1].lower()}{what[1:]} {number}" if name
                                 else f"{what[:1].upper()}{what[1:]} {number}")
    return names


def _versement(s: Statement, compte: str) -> str:
    """To whom a liquidated feuille was paid, in words, for the statement's caption; ``compte`` says
    where the assuré's part went ("à vous" or "sur le compte de …")."""
    if s.paiement_ps_cts and s.paiement_assure_cts:
        return f"payée au professionnel de santé (tiers payant) et {compte}"
    if s.paiement_ps_cts:
        return "payée au professionnel de santé (tiers payant)"
    if s.paiement_assure_cts:
        return f"payée {compte}"
    if s.dette_recuperee_cts:
        return "aucun versement : le remboursement est entièrement retenu au titre de sommes dues"
    return "aucun montant à verser"


def statement_context(beneficiary: Any, date_paiement: dt.date, today: dt.date | None = None,
                      viewer_nir: str | None = None) -> dict[str, Any]:
    """What the statement of ``beneficiary``'s payment of ``date_paiement`` shows.

    ``viewer_nir``: the assuré who reads it in the online space (the person or their parent). The
    transfer that paid the person's part may be another account holder's (an ayant droit is paid to
    its ouvrant droit), and that transfer also carries the holder's own reimbursements: a reader
    who is neither the holder nor the person sees only this statement's part, never the holder's
    name, transfer or account. ``None`` (the back-office) shows the transfer in full."""
    feuilles = list(
        Feuille.objects.filter(nir=beneficiary.nir, statut=FeuilleStatus.LIQUIDEE, date_paiement=date_paiement)
        .select_related("paiement").order_by("date_reception", "identifiant")
    )
    items = [statement(f) for f in feuilles]
    # The transfer that paid this person's part: their own, or their ouvrant droit's for an ayant
    # droit (one transfer per account holder, which may cover other people's décomptes too).
    payment: Payment | None = next(
        (f.paiement for f in feuilles if f.paiement is not None and f.paiement.type_beneficiaire == PayeeKind.ASSURE),
        None)
    holder = payment.identifiant_beneficiaire if payment else ""
    masked = bool(payment and viewer_nir is not None and holder not in (viewer_nir, beneficiary.nir))
    titulaire = (payment.nom or holder) if payment and holder != beneficiary.nir and not masked else ""
    if masked:
        compte = "sur le compte de l'ouvrant droit"
    elif titulaire:
        compte = f"sur le compte de {titulaire}"
    else:
        compte = "à vous"
    names = professional_names({f.executant for f in feuilles})
    for s in items:
        ident = s.feuille.executant
        s.professionnel = names.get(ident) or (
            f"professionnel n°{NBSP}{ident} (inconnu du répertoire de la caisse)" if ident else "non indiqué")
        s.versement = _versement(s, compte)
    total_assure_cts = sum(s.paiement_assure_cts for s in items)
    return {
        "b": beneficiary, "date_paiement": date_paiement, "items": items,
        "total_rembourse": euros(sum(s.rembourse_cts for s in items)),
        "total_assure": euros(total_assure_cts),
        "total_ps": euros(sum(s.paiement_ps_cts for s in items)),
        "total_dette_recuperee": euros(sum(s.dette_recuperee_cts for s in items)),
        "total_dette_creee": euros(sum(s.dette_creee_cts for s in items)),
        "dette_recuperee": any(s.dette_recuperee_cts for s in items),
        "dette_creee": any(s.dette_creee_cts for s in items),
        "virement": euros(payment.montant_cts) if payment and not masked else None,
        "verse_autre_compte": masked,
        "iban_fin": (payment.iban[-4:] if payment and payment.iban and not masked else ""),
        "titulaire": titulaire,
        "compte": compte,
        "virement_partage": bool(payment and not masked and payment.montant_cts != total_assure_cts),
        "recours": RECOURS_NOTE,
        "today": today or dt.date.today(),
    }


def render_statement_html(beneficiary: Any, date_paiement: dt.date, today: dt.date | None = None,
                          viewer_nir: str | None = None) -> str:
    return render_to_string("claims/statement_pdf.html",
                            statement_context(beneficiary, date_paiement, today, viewer_nir=viewer_nir))


def render_statement_pdf(beneficiary: Any, date_paiement: dt.date, today: dt.date | None = None,
                         viewer_nir: str | None = None) -> bytes:
    html = render_statement_html(beneficiary, date_paiement, today, viewer_nir=viewer_nir)
    return html_to_pdf(html)


# --- A professional's return (NOEMIE-like) ---------------------------------------------------------------


def professional_return(
    identifiant: str, du: dt.date | None = None, au: dt.date | None = None, limit: int = 500
) -> dict[str, Any]:
    """What the caisse sent a professional: the transfers (newest first) with their total, the
    feuilles rejected whole and the rejected lines of liquidated feuilles, each with its code and
    its reason in French, and the late payment penalties it is owed per semester (CSS art.
    D161-13-4); the back-office page and the professional's own space show the same.

    ``du``/``au`` (both included, each optional) keep what was sent in that period: transfers
    by their date of payment, rejections by the day of the run that notified them, penalties by
    the payment of the late feuille."""
    from caisse.professionals.models import HealthProfessional

    paid_in = {"date_paiement__gte": du} if du else {}
    paid_in |= {"date_paiement__lte": au} if au else {}
    run_in = {"run__date_traitement__gte": du} if du else {}
    run_in |= {"run__date_traitement__lte": au} if au else {}
    payments = list(Payment.objects.filter(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire=identifiant, **paid_in)
                    .order_by("-date_paiement"))
    rejections = []
    for f in Feuille.objects.filter(executant=identifiant, statut=FeuilleStatus.REJETEE, **run_in).order_by(
            "-date_reception", "identifiant")[:limit]:
        s = statement(f)
        rejections.append({"f": f, "codes": list(s.rejets) or sorted({c for line in s.lignes for c in line.rejets})})
    partial = []
    for f in Feuille.objects.filter(executant=identifiant, statut=FeuilleStatus.LIQUIDEE, **run_in).order_by(
            "-date_reception", "identifiant")[:limit]:
        if not any(line.get("rejets") for line in (f.decompte or {}).get("lignes") or []):
            continue  # most liquidated feuilles: nothing to show, no statement to build
        partial.append({"f": f, "lines": [(line.code, c) for line in statement(f).lignes for c in line.rejets]})
    from caisse.claims import delays, services

    penalties = [{**r, "penalites": euros(r["penalites_cts"]),
                  "semestre_paiement_affiche": semester_label(r["semestre_paiement"]),
                  "semestre_versement_affiche": semester_label(r["semestre_versement"])}
                 for r in delays.penalties_by_professional(services.late_payment_penalties(du, au, executant=identifiant))]
    return {
        "ps": HealthProfessional.objects.filter(identifiant=identifiant).first(),
        "periode": period_label(du, au),
        "payments": [(p, euros(p.montant_cts)) for p in payments],
        "total": euros(sum(p.montant_cts for p in payments)),
        "rejections": rejections, "partial": partial,
        "penalties": penalties,
        "paid_feuilles": _paid_feuilles(payments[:DETAILED_PAYMENTS]), "detailed": DETAILED_PAYMENTS,
    }


def professional_known(identifiant: str) -> bool:
    """Whether the caisse knows this professional: in the référentiel, paid, or executant of a feuille."""
    from caisse.professionals.models import HealthProfessional

    return (
        HealthProfessional.objects.filter(identifiant=identifiant).exists()
        or Payment.objects.filter(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire=identifiant).exists()
        or Feuille.objects.filter(executant=identifiant).exists()
    )


def period_label(du: dt.date | None, au: dt.date | None) -> str:
    """« du 01/10/2025 au 31/10/2025 », « depuis le … », « jusqu'au … », or empty for all time."""
    if du and au:
        return f"du {du:%d/%m/%Y} au {au:%d/%m/%Y}"
    if du:
        return f"depuis le {du:%d/%m/%Y}"
    return f"jusqu'au {au:%d/%m/%Y}" if au else ""


DETAILED_PAYMENTS = 12
"""A professional's latest transfers detailed feuille by feuille on its return (reconciliation)."""


def _paid_feuilles(payments: list[Payment]) -> list[dict[str, Any]]:
    """The feuilles each transfer pays (newest transfer first): id, reception, dates of care, the
    amount paid to the professional, so that a practice reconciles its transfers invoice by invoice."""
    from django.db.models.fields.json import KT

    rows = (
        Feuille.objects.filter(paiement__in=payments)
        .order_by("-paiement__date_paiement", "date_reception", "identifiant")
        .values("pk", "identifiant", "date_reception", "paiement__date_paiement", "enregistrement",
                paye=KT("decompte__paiement_ps_cts"))
    )
    out = []
    for r in rows:
        dates = sorted({str(line.get("date_soins")) for line in (r["enregistrement"] or {}).get("lignes") or []
                        if isinstance(line, dict) and line.get("date_soins")})
        care = ", ".join(dt.date.fromisoformat(d).strftime("%d/%m/%Y") for d in dates if _iso_date(d))
        out.append({
            "pk": r["pk"], "identifiant": r["identifiant"], "date_reception": r["date_reception"],
            "date_paiement": r["paiement__date_paiement"], "soins": care or "—",
            "paye": euros(int(r["paye"])) if r["paye"] not in (None, "") else "—",
        })
    return out


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- Processing delays chart ------------------------------------------------------------------------

_SVG_HEAD = re.compile(r"^.*?(?=<svg)", re.S)


def delays_chart_svg(rows: list[dict[str, Any]]) -> str:
    """Grouped bars: D9 per month and flow, with the D9 targets as lines. SVG text, inlined."""
    from matplotlib.figure import Figure

    months = sorted({r["mois"] for r in rows})
    fig = Figure(figsize=(10, 3.6), dpi=96)
    ax = fig.add_subplot()
    colours = {"FSE": "#0b4a7a", "FSP": "#b34700"}
    width = 0.38
    for k, kind in enumerate(("FSE", "FSP")):
        by_month = {r["mois"]: r for r in rows if r["type"] == kind}
        xs = [i + (k - 0.5) * width for i, m in enumerate(months) if m in by_month]
        ys = [by_month[m]["d9_jours"] for m in months if m in by_month]
        if xs:
            ax.bar(xs, ys, width=width * 0.9, color=colours[kind], label=f"{kind} : 9e décile (jours)")
        targets = [(i + (k - 0.5) * width, by_month[m]["cible_d9_jours"]) for i, m in enumerate(months)
                   if m in by_month and by_month[m]["cible_d9_jours"] is not None]
        if targets:
            ax.hlines([t for _, t in targets], [x - width / 2 for x, _ in targets], [x + width / 2 for x, _ in targets],
                      colors=colours[kind], linestyles="dashed", linewidth=1.5, label=f"{kind} : cible (jours)")
    ax.set_xlim(-0.7, max(len(months), 2) - 0.3)
    ax.set_ylim(bottom=0)
    ax.set_xticks(range(len(months)), [month_label(m, short=True) for m in months])
    ax.yaxis.set_major_formatter(lambda value, _: _num(value))  # French decimals: 2,5
    if len(months) > 8:  # a year of months: slanted, so that the labels never run into each other
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_ylabel("jours")
    ax.spines[["top", "right"]].set_visible(False)
    # Beside the plot, never over a bar or a target line.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10, frameon=False, borderaxespad=0)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _SVG_HEAD.sub("", buffer.getvalue(), count=1)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
        "décembre")
MOIS_ABREGES = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def month_label(month: str, short: bool = False) -> str:
    """``2025-01`` -> ``janvier 2025`` (``janv. 2025`` with ``short``)."""
    year, number = month.split("-")
    name = (MOIS_ABREGES if short else MOIS)[int(number) - 1]
    return f"{name} {year}"


def semester_label(semester: str) -> str:
    """``2025-S1`` -> ``1er semestre 2025``."""
    year, half = semester.split("-S")
    return f"{'1er' if half == '1' else '2e'} semestre {year}"


def delays_summary(rows: list[dict[str, Any]]) -> str:
    """The chart's text alternative: one sentence per month and flow."""
    parts = []
    for r in rows:
        target = r["cible_d9_jours"]
        verdict = "" if target is None else (
            f", cible de {target} jours {'atteinte' if r['cible_atteinte'] else 'non atteinte'}")
        parts.append(f"{month_label(r['mois'])}, {r['type']} : 9e décile {_num(r['d9_jours'])} jours, "
                     f"moyenne {_num(r['delai_moyen_jours'])} jours sur {r['nb']} feuille(s){verdict}.")
    return " ".join(parts)


def _num(value: float) -> str:
    return (f"{value:.2f}".rstrip("0").rstrip(".")).replace(".", ",")
