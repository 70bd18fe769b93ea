"""Structural accessibility (RGAA) of every AT/MP screen, and the access-layer rule of the views."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from caisse.web.tests.test_accessibility import check_page
from caisse.work_accidents import services
from caisse.work_accidents.tests.test_views import _case

pytestmark = pytest.mark.django_db

D = dt.date


def test_every_screen_passes_the_structural_checks(client: Any, agent_atmp: Any) -> None:
    case = _case(agent_atmp)
    services.open_investigation(case, by=agent_atmp, when=D(2026, 6, 20))
    questionnaire, _ = services.send_questionnaires(case, by=agent_atmp, when=D(2026, 7, 1))
    client.force_login(agent_atmp)
    pages = [
        reverse("work_accidents:queue"), reverse("work_accidents:declare"), reverse("work_accidents:indicators"),
        reverse("work_accidents:case", args=[case.pk]),
        reverse("work_accidents:questionnaire_return", args=[case.pk, questionnaire.pk]),
        reverse("work_accidents:open_consultation", args=[case.pk]),
        reverse("work_accidents:decide", args=[case.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        check_page(response.content.decode())
    check_page(client.post(reverse("work_accidents:declare"), {"nir": "1"}).content.decode())


def test_views_load_cases_only_through_the_access_layer() -> None:
    source = (Path(__file__).parent.parent / "views.py").read_text()
    assert not re.search(r"\b(Case|Declaration|Questionnaire|Beneficiary)\.objects\.(get|filter)\(", source)
    for view in re.findall(r"def (\w+)\(request: HttpRequest, pk: int[^)]*\)", source):
        body = source.split(f"def {view}(", 1)[1].split("\ndef ", 1)[0]
        assert "get_case_for(" in body, f"{view} ne passe pas par get_case_for"
