"""Structural accessibility checks on the main pages (RGAA): language, title, landmarks, one h1,
every visible input labelled, every table captioned with header cells, no positive tabindex."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.web.tests.personas import fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.tags if t == tag]


def check_page(html: str) -> None:
    page = Page()
    page.feed(html)
    assert page.all("html")[0].get("lang") == "fr"
    assert page.title.strip() and "Caisse" in page.title
    assert page.all("main") and page.all("header") and page.all("footer")
    assert page.all("a")[0].get("href") == "#contenu", "le premier lien est le lien d'évitement"
    assert len(page.all("h1")) == 1
    labelled = {attrs.get("for") for attrs in page.all("label")}
    for tag in ("input", "select", "textarea"):
        for attrs in page.all(tag):
            if attrs.get("type") in ("hidden", "submit"):
                continue
            assert attrs.get("id") in labelled or attrs.get("aria-label"), f"{tag} sans étiquette : {attrs}"
    tables = html.count("<table")
    assert html.count("<caption") == tables
    assert tables == 0 or 'scope="col"' in html
    assert not [a for _, a in page.tags if int(a.get("tabindex", "0")) > 0]


@pytest.fixture
def file() -> Any:
    return filled_file()


def test_agent_pages(client: Any, file: Any) -> None:
    client.force_login(file.claire)
    lea = file.lea.pk
    for url in [
        reverse("web:home"), reverse("beneficiaries:search") + "?nom=MAR", reverse("beneficiaries:detail", args=[lea]),
        reverse("beneficiaries:edit_identity", args=[lea]), reverse("rights:open_rights", args=[lea]),
        reverse("rights:medecin_traitant", args=[lea]), reverse("rights:oppose_card", args=[lea, file.card.pk]),
        reverse("rights:residence_controls"), reverse("professionals:list"),
        reverse("professionals:detail", args=[file.doctor.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        check_page(response.content.decode())


def test_medecin_conseil_pages(client: Any, file: Any) -> None:
    client.force_login(file.sarah)
    for url in [reverse("rights:protocol_queue"), reverse("rights:review_protocol", args=[file.lea.pk, file.pending.pk]),
                reverse("rights:submit_protocol", args=[file.lea.pk])]:
        check_page(client.get(url).content.decode())


def test_member_pages_and_error_pages(client: Any, file: Any) -> None:
    check_page(client.get(reverse("accounts:login")).content.decode())
    check_page(client.post(reverse("accounts:login"), {"username": "x", "password": "y"}).content.decode())
    client.force_login(user_for(Role.ASSURE, beneficiary=file.lea))
    check_page(client.get(reverse("web:member_home")).content.decode())
    check_page(client.get(reverse("web:member_lost_card", args=[file.card.pk])).content.decode())
    check_page(client.get(reverse("beneficiaries:detail", args=[file.lea.pk])).content.decode())  # 403


def test_form_errors_are_tied_to_their_inputs(client: Any, file: Any) -> None:
    client.force_login(file.claire)
    html = client.post(reverse("rights:open_rights", args=[file.lea.pk]), {"debut": "", "motif": ""}).content.decode()
    check_page(html)
    assert 'id="id_debut-erreur"' in html and 'aria-describedby="id_debut-aide id_debut-erreur"' in html
    assert 'aria-invalid="true"' in html
    assert "Le formulaire contient 2 erreurs" in html
    assert '<a href="#id_debut">' in html
