"""Walk the whole tree of legal parameters: every file is complete, dated and resolves."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from caisse.rules.parameters import (
    PARAMETERS_DIR,
    Parameter,
    ParameterError,
    Parameters,
    load_parameters,
    parse_parameter,
    read_overlays,
    read_tree,
)

TODAY = dt.date(2026, 11, 22)
FILES = sorted(PARAMETERS_DIR.rglob("*.yaml"))


def test_the_tree_is_not_empty() -> None:
    assert len(FILES) >= 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PARAMETERS_DIR)))
def test_each_parameter_is_complete_and_resolves_until_today(path: Path) -> None:
    name = ".".join(path.relative_to(PARAMETERS_DIR).with_suffix("").parts)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    param = parse_parameter(name, raw, str(path))
    assert param.references, "référence légale manquante"
    assert all(ref.title for ref in param.references)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(d)) for d in raw["values"]), "dates non ISO"
    # From its first value to today the parameter resolves, unless it was explicitly ended.
    ended = param.values[-1] is None
    for start, value in param.breakpoints():
        if value is not None:
            assert param.at(start) == value
    if not ended:
        assert param.defined_at(TODAY), f"{name} n'a pas de valeur au {TODAY}"


def test_unknown_parameter_and_undefined_date_are_french_errors() -> None:
    params = load_parameters()
    with pytest.raises(ParameterError, match="inconnu"):
        params.value("sante.nexiste_pas", TODAY)
    first = next(iter(params))
    with pytest.raises(ParameterError, match="n'a pas de valeur"):
        first.at(dt.date(1900, 1, 1))


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


GOOD = """
description: Montant test
metadata:
  unit: currency-EUR
  reference:
    2024-01-01: {title: "CSS art. test"}
values:
  2020-01-01: {value: 1.5}
  2024-05-15: {value: 2}
  2030-01-01: {value: null}
"""


def test_money_is_read_as_exact_cents_and_looked_up_at_the_event_date(tmp_path: Path) -> None:
    _write(tmp_path, "t/montant", GOOD)
    params = Parameters(read_tree(tmp_path))
    assert params.value("t.montant", dt.date(2024, 5, 14)) == 150
    assert params.value("t.montant", dt.date(2024, 5, 15)) == 200
    with pytest.raises(ParameterError):
        params.value("t.montant", dt.date(2030, 1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("description: Montant test", ""), "description"),
        (GOOD.replace("  reference:\n    2024-01-01: {title: \"CSS art. test\"}\n", ""), "référence"),
        (GOOD.replace("2020-01-01", "2020-13-01"), "date"),
        (GOOD.replace("1.5", "1.505"), "centimes"),
        (GOOD.replace("currency-EUR", "euros"), "unité"),
    ],
)
def test_a_bad_file_is_refused_with_a_french_message(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, "t/montant", text)
    with pytest.raises(ParameterError, match=message):
        read_tree(tmp_path)


def test_local_values_overlay_the_shipped_ones(tmp_path: Path) -> None:
    _write(tmp_path / "tree", "t/montant", GOOD)
    _write(tmp_path / "local", "t.montant", "values:\n  2026-01-01: {value: 4}\n")
    params = Parameters(read_tree(tmp_path / "tree")).overlay(read_overlays(tmp_path / "local"))
    assert params.value("t.montant", dt.date(2025, 12, 31)) == 200
    assert params.value("t.montant", dt.date(2026, 1, 1)) == 400
    assert dt.date(2026, 1, 1) in params.parameter("t.montant").local_starts


def test_overlay_of_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(ParameterError, match="inconnu"):
        load_parameters({"nexiste.pas": {dt.date(2026, 1, 1): 1}})


def test_unconfirmed_items_are_flagged() -> None:
    flagged = [p for p in load_parameters() if p.unconfirmed]
    assert flagged, "rules.md marque des paramètres NON CONFIRMÉS : ils doivent l'être ici aussi"
    assert all(isinstance(p, Parameter) for p in flagged)
