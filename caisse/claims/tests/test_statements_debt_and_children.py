"""The statements of an audit's findings: the debt of the assuré (participations forfaitaires and
franchises withheld or left due, CSS art. L160-13) on every screen and in the PDF, the children
whose reimbursements are paid into their parent's account in the parent's online space (and no
one else's file), the professional, the amount billed, the dépassement and the appeal notice in
the PDF, and rates that never wrap."""

from __future__ import annotations

import datetime as dt
import html as htmllib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.beneficiaries.models import Beneficiary
from caisse.claims import documents, services
from caisse.claims.models import Feuille, FeuilleStatus, PayeeKind, Payment
from caisse.claims.tests.generate import iban, nir
from caisse.claims.tests.helpers import TODAY, import_folder, write_ndjson
from caisse.core.models import AuditAction, AuditEvent
from caisse.core.pdf import pdf_available

pytestmark = [pytest.mark.django_db, pytest.mark.urls("caisse.claims.tests.test_views")]

PS, PS_UNNAMED = "10000000001", "10000000002"
PARENT = nir(1, 1, 1984, 2)  # Marc, the member
CHILD = nir(2, 2, 2015, 3)  # Lina, no account: paid to Marc
SHARED = nir(3, 1, 2018, 7)  # Noé, attached to Marc and Julie, paid to Julie's account
COPARENT = nir(4, 2, 1986, 9)  # Julie
ADULT = nir(5, 1, 2000, 1)  # Marc's adult son, still attached: not an ayant droit
STRANGER = nir(6, 2, 1990, 5)  # Sofia, nobody's child
FIRST_RUN = TODAY - dt.timedelta(days=7)


def _person(n: str, birth: str, sexe: str, prenom: str, **extra: Any) -> dict[str, Any]:
    return {"nir": n, "date_naissance": birth, "sexe": sexe, "droits": [{"debut": birth, "fin": None}], "ald": [],
            "c2s": [], "ame": [], "maternite": [], "invalidite": [], "medecin_traitant": [], "cartes_vitale": [],
            "deces": None, "prenom": prenom, "nom": "Durand", **extra}


def _feuille(ident: str, person: str, day: dt.date, *, tiers_payant: bool = False, facture: int = 3000,
             executant: str = PS) -> dict[str, Any]:
    return {"id": ident, "type": "FSE", "date_reception": day.isoformat(), "nir": person, "executant": executant,
            "prescripteur": None, "tiers_payant": tiers_payant, "risque": "maladie", "parcours": "medecin_traitant",
            "en_rapport_ald": False, "carte_vitale": None,
            "lignes": [{"code": "TG", "date_soins": day.isoformat(), "quantite": 1, "coefficient": 1,
                        "montant_facture_cts": facture}]}


@pytest.fixture
def family(tmp_path: Path) -> dict[str, Any]:
    """Marc owes participations forfaitaires from twelve consultations in tiers payant (first run),
    then a consultation he paid is entirely withheld (second run, TODAY); his daughter Lina is
    paid into his account; Noé is paid into Julie's; Sofia and Marc's adult son are not his to see."""
    ref = tmp_path / "referentiel"
    ref.mkdir()
    write_ndjson(ref / "professionnels.ndjson", [
        {"id": PS, "profession": "medecin", "specialite": "medecine_generale", "secteur": 1, "optam": False,
         "conventionne": True, "nom": "Martin", "prenom": "Jeanne", "iban": iban(10**6)},
        {"id": PS_UNNAMED, "profession": "medecin", "specialite": "medecine_generale", "secteur": 1, "optam": False,
         "conventionne": True, "iban": iban(10**6 + 1)},
    ])
    write_ndjson(ref / "nomenclature.ndjson", [{"code": "TG", "libelle": "Consultation",
                                                "categorie": "consultation_medecin", "tarif_cts": 3000,
                                                "debut": "2020-01-01", "fin": None}])
    write_ndjson(ref / "beneficiaires.ndjson", [
        _person(PARENT, "1984-02-10", "M", "Marc", iban=iban(1)),
        _person(CHILD, "2015-03-14", "F", "Lina", parents=[PARENT]),
        _person(COPARENT, "1986-09-03", "F", "Julie", iban=iban(4)),
        _person(SHARED, "2018-07-01", "M", "Noé", parents=[PARENT, COPARENT], iban=iban(4)),
        _person(ADULT, "2000-01-20", "M", "Hugo", parents=[PARENT], iban=iban(5)),
        _person(STRANGER, "1990-05-20", "F", "Sofia", iban=iban(6)),
    ])
    import_folder(ref)
    start = FIRST_RUN - dt.timedelta(days=30)
    debts = [_feuille(f"TP{i:02d}", PARENT, start + dt.timedelta(days=2 * i), tiers_payant=True) for i in range(12)]
    services.receive_flow(write_ndjson(tmp_path / "f1.ndjson", debts), quiet=True)
    services.daily_run(None, today=FIRST_RUN, quiet=True)
    day = TODAY - dt.timedelta(days=2)
    services.receive_flow(write_ndjson(tmp_path / "f2.ndjson", [
        _feuille("M1", PARENT, day),  # entirely withheld
        _feuille("L1", CHILD, day, facture=3500),  # a dépassement of 5 €
        _feuille("L2", CHILD, day, executant=PS_UNNAMED),
        _feuille("N1", SHARED, day), _feuille("J1", COPARENT, day), _feuille("J2", COPARENT, day - dt.timedelta(days=1)),
        _feuille("H1", ADULT, day), _feuille("S1", STRANGER, day),
    ]), quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    assert not Feuille.objects.filter(statut=FeuilleStatus.REJETEE).exists()
    people = {n: Beneficiary.objects.get(nir=n) for n in (PARENT, CHILD, SHARED, COPARENT, ADULT, STRANGER)}
    return {"people": people, "withheld": Feuille.objects.get(identifiant="M1")}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response: Any) -> str:
    return htmllib.unescape(response.content.decode())


def test_the_scenario_withholds_a_whole_reimbursement(family: dict[str, Any]) -> None:
    d = family["withheld"].decompte
    assert d["destinataire"] == "assure" and d["montant_rembourse_cts"] > 0
    assert d["paiement_assure_cts"] == 0 and d["dette_recuperee_cts"] == d["montant_rembourse_cts"]
    assert Feuille.objects.get(identifiant="TP00").decompte["dette_creee_cts"] > 0


# --- The debt on every screen ---------------------------------------------------------------------------------


def test_the_agent_page_shows_the_debt_recovered_and_created_with_their_explanation(
        family: dict[str, Any], liquidateur: Any) -> None:
    from caisse.web.tests.test_accessibility import check_page

    marc = family["people"][PARENT]
    response = _client(liquidateur).get(reverse("claims:beneficiary", args=[marc.pk]))
    html = response.content.decode()
    check_page(html)
    text = htmllib.unescape(html)
    assert "Retenu pour sommes dues" in text and "Dette créée" in text
    assert documents.DETTE_RECUPEREE_NOTE in text and documents.DETTE_CREEE_NOTE in text
    withheld = family["withheld"].decompte
    row = text.split(">M1</a></th>", 1)[1].split("</tr>", 1)[0]
    assert documents.euros(withheld["dette_recuperee_cts"]) in row
    created = Feuille.objects.get(identifiant="TP00").decompte["dette_creee_cts"]
    row = text.split(">TP00</a></th>", 1)[1].split("</tr>", 1)[0]
    assert documents.euros(created) in row


def test_the_statement_explains_a_reimbursement_entirely_withheld(family: dict[str, Any]) -> None:
    marc = family["people"][PARENT]
    html = htmllib.unescape(documents.render_statement_html(marc, TODAY))
    d = family["withheld"].decompte
    caption = html.split("Feuille M1", 1)[1].split("</caption>", 1)[0]
    assert "payée à vous" not in caption
    assert "aucun versement : le remboursement est entièrement retenu au titre de sommes dues" in caption
    assert f"Retenue sur ce remboursement : {documents.euros(d['dette_recuperee_cts'])}" in html
    assert "rien n'est versé pour ces soins" in html and "article L160-13" in html
    assert "Retenu sur ce remboursement (participations forfaitaires et franchises dues)" in html
    assert "Versé à vous" in html and documents.euros(0) in html  # 0,00 € said, not left out


def test_the_statement_of_a_tiers_payant_feuille_says_it_was_paid_to_the_professional(family: dict[str, Any]) -> None:
    marc = family["people"][PARENT]
    html = htmllib.unescape(documents.render_statement_html(marc, FIRST_RUN))
    caption = html.split("Feuille TP00", 1)[1].split("</caption>", 1)[0]
    assert "payée au professionnel de santé (tiers payant)" in caption and "à vous" not in caption
    created = Feuille.objects.get(identifiant="TP00").decompte["dette_creee_cts"]
    assert "Dette créée : restant dû" in html
    assert (f"({'le professionnel de santé a été payé en tiers payant'}) : {documents.euros(created)} à retenir sur "
            "les prochains remboursements") in html


def test_the_statement_names_the_professional_and_shows_billed_amount_dépassement_and_appeal(
        family: dict[str, Any]) -> None:
    lina = family["people"][CHILD]
    html = htmllib.unescape(documents.render_statement_html(lina, TODAY))
    l1 = html.split("Feuille L1", 1)[1].split("</table>", 1)[0]
    assert "Soins dispensés par : Jeanne Martin, médecin (n°\u00a010000000001)" in l1
    line = Feuille.objects.get(identifiant="L1").decompte["lignes"][0]
    assert line["depassement_cts"] == 500
    assert "Montant facturé" in l1 and documents.euros(3500) in l1 and documents.euros(500) in l1
    assert f"{line['taux']}\u00a0%" in l1 and f"{line['taux']} %" not in l1
    l2 = html.split("Feuille L2", 1)[1].split("</table>", 1)[0]
    assert "Soins dispensés par : Médecin (n°\u00a010000000002)" in l2
    assert "Voies de recours" in html and "commission de recours amiable" in html
    assert "deux mois" in html and "article R142-1" in html
    assert "Virement sur le compte de Marc Durand (ouvrant droit)" in html
    assert "payée sur le compte de Marc Durand" in l1


def test_the_pdf_footer_has_the_body_font() -> None:
    from django.template.loader import render_to_string

    style = render_to_string("web/_pdf_style.html", {"today": TODAY})
    footer = style.split("@bottom-center", 1)[1].split("}", 1)[0]
    assert 'font-family: "DejaVu Sans"' in footer


def test_rates_are_written_with_a_non_breaking_space() -> None:
    assert documents.percent(100) == "100\u00a0%" and documents.percent(None) == "—"


# --- The member's page: her file and her minor children's ---------------------------------------------------


def test_the_member_sees_her_minor_childrens_reimbursements_labelled_with_their_names(
        family: dict[str, Any], make_user: Any) -> None:
    from caisse.web.tests.test_accessibility import check_page

    people = family["people"]
    marc, lina, noe = people[PARENT], people[CHILD], people[SHARED]
    client = _client(make_user(Role.ASSURE, beneficiary=marc))
    response = client.get(reverse("mes_soins:remboursements"))
    assert response.status_code == 200
    html = response.content.decode()
    check_page(html)
    text = htmllib.unescape(html)
    assert "Feuilles de soins de Lina Durand (enfant rattaché)" in text
    assert "Feuilles de soins de Noé Durand (enfant rattaché)" in text
    assert "Hugo" not in text and "Sofia" not in text and "Julie" not in text  # no one else's file
    assert ">S1<" not in text and ">J1<" not in text
    base = reverse("mes_soins:decompte", args=[TODAY.isoformat()])
    assert f'href="{base}"' in html and f"Décompte du {TODAY:%d/%m/%Y} (PDF)" in text
    assert f'href="{base}?enfant={lina.pk}"' in html and f"Décompte de Lina du {TODAY:%d/%m/%Y} (PDF)" in text
    assert f'href="{base}?enfant={noe.pk}"' in html
    # Noé's reimbursement went to Julie's account, which the page says without naming it.
    noe_section = text.split("Feuilles de soins de Noé Durand", 1)[1].split("</section>", 1)[0]
    assert "sur un autre compte" in noe_section
    lina_section = text.split("Feuilles de soins de Lina Durand", 1)[1].split("</section>", 1)[0]
    assert "sur mon compte" in lina_section
    # The debt: the column and its explanation.
    assert "Retenu pour sommes dues" in text and "Dette créée" in text
    assert documents.DETTE_RECUPEREE_NOTE in text and documents.DETTE_CREEE_NOTE in text
    mine = text.split("Mes feuilles de soins traitées", 1)[1].split("</section>", 1)[0]
    assert documents.euros(family["withheld"].decompte["dette_recuperee_cts"]) in mine
    # Each child's file read is recorded in the child's file.
    for child in (lina, noe):
        assert AuditEvent.objects.filter(beneficiary=child, action=AuditAction.READ,
                                         summary__contains="consultés par le parent").exists()


def test_the_member_downloads_her_childs_statement_and_nobody_elses(family: dict[str, Any], make_user: Any) -> None:
    people = family["people"]
    client = _client(make_user(Role.ASSURE, beneficiary=people[PARENT]))
    url = reverse("mes_soins:decompte", args=[TODAY.isoformat()])
    for other in (STRANGER, COPARENT, ADULT):  # not her minor children: refused, nothing recorded
        assert client.get(url, {"enfant": people[other].pk}).status_code == 403, other
        assert not AuditEvent.objects.filter(beneficiary=people[other], action=AuditAction.DOWNLOAD).exists()
    assert client.get(url, {"enfant": "abc"}).status_code == 404
    assert client.get(url, {"enfant": 10**9}).status_code == 403
    lina = people[CHILD]
    assert client.get(reverse("mes_soins:decompte", args=["2001-01-01"]), {"enfant": lina.pk}).status_code == 404
    if not pdf_available()[0]:
        pytest.skip(pdf_available()[1])
    response = client.get(url, {"enfant": lina.pk})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert f"decompte-enfant-{lina.pk}-{TODAY:%Y%m%d}.pdf" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(beneficiary=lina, action=AuditAction.DOWNLOAD,
                                     summary__contains="par un parent").exists()
    assert client.get(url).status_code == 200  # her own, as before


def test_a_statement_read_by_a_parent_never_shows_the_other_parents_transfer(family: dict[str, Any]) -> None:
    people = family["people"]
    noe = people[SHARED]
    julie_transfer = Payment.objects.get(type_beneficiaire=PayeeKind.ASSURE, identifiant_beneficiaire=COPARENT,
                                         date_paiement=TODAY)
    noe_part = Feuille.objects.get(identifiant="N1").decompte["paiement_assure_cts"]
    assert julie_transfer.montant_cts > noe_part > 0  # Julie's own reimbursements ride on the same transfer
    seen_by_marc = documents.statement_context(noe, TODAY, viewer_nir=PARENT)
    assert seen_by_marc["virement"] is None and seen_by_marc["iban_fin"] == "" and seen_by_marc["titulaire"] == ""
    html = htmllib.unescape(documents.render_statement_html(noe, TODAY, viewer_nir=PARENT))
    assert "Julie" not in html and documents.euros(julie_transfer.montant_cts) not in html
    assert julie_transfer.iban[-4:] not in html
    assert "Versé sur le compte de l'ouvrant droit" in html and documents.euros(noe_part) in html
    # Julie, the holder, and the back-office see the transfer.
    assert documents.statement_context(noe, TODAY, viewer_nir=COPARENT)["virement"] == documents.euros(
        julie_transfer.montant_cts)
    assert "Julie Durand" in documents.render_statement_html(noe, TODAY)
    # Marc reads his daughter's statement in full: the transfer is his.
    lina = documents.statement_context(people[CHILD], TODAY, viewer_nir=PARENT)
    assert lina["titulaire"] == "Marc Durand" and lina["virement"] is not None


def test_a_member_without_children_sees_her_page_as_before(family: dict[str, Any], make_user: Any) -> None:
    from caisse.web.tests.test_accessibility import check_page

    client = _client(make_user(Role.ASSURE, beneficiary=family["people"][STRANGER]))
    response = client.get(reverse("mes_soins:remboursements"))
    html = response.content.decode()
    check_page(html)
    text = htmllib.unescape(html)
    assert "Mes feuilles de soins traitées" in text and "enfant" not in text.split("<main", 1)[1].split(
        "Participations forfaitaires et franchises</h2>", 1)[0]
    assert "Marc" not in text and "Lina" not in text
    assert f"Décompte du {TODAY:%d/%m/%Y} (PDF)" in text
