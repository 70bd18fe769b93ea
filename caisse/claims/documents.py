"""What the health-costs screens show: décomptes read back from the database, the statement PDF
(décompte de remboursement, WeasyPrint) and the processing-delay chart (matplotlib, SVG).

Amounts are formatted here, in French (``26,50 €``), so the templates only lay them out. When
WeasyPrint cannot load (no Pango), :class:`DocumentUnavailable` carries a French message for a 503.
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
__all__ = ["DocumentUnavailable", "euros"]


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

    def money(self) -> dict[str, str]:
        return {k: euros(getattr(self, f"{k}_cts")) for k in
                ("rembourse", "paiement_ps", "paiement_assure", "dette_creee", "dette_recuperee")}


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
        taux = line.get("taux")
        lines.append(Line(
            code=str(line.get("code") or source.get("code") or "—"), date_soins=_date_fr(source.get("date_soins")),
            base=euros(line.get("base_remboursement_cts")), taux="—" if taux is None else f"{taux} %",
            amo=euros(line.get("montant_amo_cts")), participation=euros(line.get("participation_forfaitaire_cts")),
            franchise=euros(line.get("franchise_cts")), rembourse=euros(line.get("montant_rembourse_cts")),
            rejets=[(c, reason(c)) for c in line.get("rejets") or []],
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


def statement_context(beneficiary: Any, date_paiement: dt.date, today: dt.date | None = None) -> dict[str, Any]:
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
    total_assure_cts = sum(s.paiement_assure_cts for s in items)
    return {
        "b": beneficiary, "date_paiement": date_paiement, "items": items,
        "total_rembourse": euros(sum(s.rembourse_cts for s in items)),
        "total_assure": euros(total_assure_cts),
        "total_ps": euros(sum(s.paiement_ps_cts for s in items)),
        "virement": euros(payment.montant_cts) if payment else None,
        "iban_fin": (payment.iban[-4:] if payment and payment.iban else ""),
        "titulaire": (payment.nom or payment.identifiant_beneficiaire)
        if payment and payment.identifiant_beneficiaire != beneficiary.nir else "",
        "virement_partage": bool(payment and payment.montant_cts != total_assure_cts),
        "today": today or dt.date.today(),
    }


def render_statement_html(beneficiary: Any, date_paiement: dt.date, today: dt.date | None = None) -> str:
    return render_to_string("claims/statement_pdf.html", statement_context(beneficiary, date_paiement, today))


def render_statement_pdf(beneficiary: Any, date_paiement: dt.date, today: dt.date | None = None) -> bytes:
    html = render_statement_html(beneficiary, date_paiement, today)
    return html_to_pdf(html)


# --- A professional's return (NOEMIE-like) ---------------------------------------------------------------


def professional_return(identifiant: str, limit: int = 500) -> dict[str, Any]:
    """What the caisse sent a professional: the transfers (newest first) with their total, the
    feuilles rejected whole and the rejected lines of liquidated feuilles, each with its code and
    its reason in French, and the late payment penalties it is owed per semester (CSS art.
    D161-13-4); the back-office page and the professional's own space show the same."""
    from caisse.professionals.models import HealthProfessional

    payments = list(Payment.objects.filter(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire=identifiant)
                    .order_by("-date_paiement"))
    rejections = []
    for f in Feuille.objects.filter(executant=identifiant, statut=FeuilleStatus.REJETEE).order_by(
            "-date_reception", "identifiant")[:limit]:
        s = statement(f)
        rejections.append({"f": f, "codes": list(s.rejets) or sorted({c for line in s.lignes for c in line.rejets})})
    partial = []
    for f in Feuille.objects.filter(executant=identifiant, statut=FeuilleStatus.LIQUIDEE).order_by(
            "-date_reception", "identifiant")[:limit]:
        if not any(line.get("rejets") for line in (f.decompte or {}).get("lignes") or []):
            continue  # most liquidated feuilles: nothing to show, no statement to build
        partial.append({"f": f, "lines": [(line.code, c) for line in statement(f).lignes for c in line.rejets]})
    from caisse.claims import delays, services

    penalties = [{**r, "penalites": euros(r["penalites_cts"])}
                 for r in delays.penalties_by_professional(services.late_payment_penalties(executant=identifiant))]
    return {
        "ps": HealthProfessional.objects.filter(identifiant=identifiant).first(),
        "payments": [(p, euros(p.montant_cts)) for p in payments],
        "total": euros(sum(p.montant_cts for p in payments)),
        "rejections": rejections, "partial": partial,
        "penalties": penalties,
    }


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
    ax.set_xticks(range(len(months)), months)
    if len(months) > 8:  # a year of months: slanted, so that the labels never run into each other
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_ylabel("jours")
    ax.spines[["top", "right"]].set_visible(False)
    # Beside the plot, never over a bar or a target line.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, borderaxespad=0)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _SVG_HEAD.sub("", buffer.getvalue(), count=1)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


def delays_summary(rows: list[dict[str, Any]]) -> str:
    """The chart's text alternative: one sentence per month and flow."""
    parts = []
    for r in rows:
        target = r["cible_d9_jours"]
        verdict = "" if target is None else (
            f", cible de {target} jours {'atteinte' if r['cible_atteinte'] else 'non atteinte'}")
        parts.append(f"{r['mois']}, {r['type']} : 9e décile {_num(r['d9_jours'])} jours, "
                     f"moyenne {_num(r['delai_moyen_jours'])} jours sur {r['nb']} feuille(s){verdict}.")
    return " ".join(parts)


def _num(value: float) -> str:
    return (f"{value:.2f}".rstrip("0").rstrip(".")).replace(".", ",")
