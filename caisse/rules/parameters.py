"""Dated legal parameters, OpenFisca style: one YAML file per parameter.

A parameter file looks like::

    description: Montant de la participation forfaitaire par acte
    metadata:
      unit: currency-EUR
      reference:
        2024-05-15:
          title: Décision UNCAM du 24 avril 2024 (JO 24 avril 2024)
          href: https://www.legifrance.gouv.fr/...
      unconfirmed: false
    values:
      2005-01-01: {value: 1.0}
      2024-05-15: {value: 2.0}

The dotted name of a parameter is its path under ``parameters/`` (``sante/pf/montant.yaml`` ->
``sante.pf.montant``). Values are looked up at the date of the event, never at the processing
date. A ``null`` value ends the parameter. Money (unit ``currency-EUR``) is converted exactly to
integer cents; a value that is not a whole number of cents is refused.

Units: ``currency-EUR`` (-> int cents), ``percent`` (int), ``/1`` (Decimal ratio), ``day``,
``month``, ``year``, ``hour``, ``count`` (int), ``bool``, ``code`` (str). A value may also be a
mapping (a published table, for example a ceiling by household size); the unit applies to each
entry.

Local, user-changed values (UNCONFIRMED items validated by the caisse's experts) are *overlays*:
more dated values for an existing parameter, read from YAML files in the folder named by the
``CAISSE_PARAMETRES_LOCAUX`` environment variable, or given to :func:`load_parameters`. The
persistent system stores the overlays entered in the back-office and passes them here.
"""

from __future__ import annotations

import datetime as dt
import os
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

PARAMETERS_DIR = Path(__file__).parent / "parameters"

UNITS = {"currency-EUR", "percent", "/1", "day", "month", "year", "hour", "count", "bool", "code"}

Value = Any  # int | Decimal | bool | str | dict[str, ...] | None


class ParameterError(ValueError):
    """A parameter file or a lookup is wrong. The message is in French."""


@dataclass(frozen=True)
class Reference:
    date: dt.date
    title: str
    href: str | None = None


@dataclass
class Parameter:
    """One legal parameter and its dated values (sorted by start date)."""

    name: str
    description: str
    unit: str
    starts: list[dt.date] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    unconfirmed: bool = False
    documentation: str = ""
    local_starts: set[dt.date] = field(default_factory=set)

    def at(self, when: dt.date) -> Value:
        """Value in force on ``when`` (the date of the event)."""
        i = bisect_right(self.starts, when) - 1
        if i < 0 or self.values[i] is None:
            raise ParameterError(
                f"Le paramètre « {self.name} » n'a pas de valeur en vigueur le {when.isoformat()}."
            )
        return self.values[i]

    def defined_at(self, when: dt.date) -> bool:
        i = bisect_right(self.starts, when) - 1
        return i >= 0 and self.values[i] is not None

    def breakpoints(self) -> list[tuple[dt.date, Value]]:
        """The dated values, for vectorised look-ups (an as-of join on the event date)."""
        return list(zip(self.starts, self.values, strict=True))

    def reference_at(self, when: dt.date) -> Reference | None:
        refs = [r for r in self.references if r.date <= when]
        return refs[-1] if refs else (self.references[0] if self.references else None)

    def add_value(self, start: dt.date, value: Value, *, local: bool = False) -> None:
        i = bisect_right(self.starts, start)
        if i > 0 and self.starts[i - 1] == start:
            self.values[i - 1] = value
        else:
            self.starts.insert(i, start)
            self.values.insert(i, value)
        if local:
            self.local_starts.add(start)


def _parse_date(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as exc:
        raise ParameterError(f"{where} : date « {raw} » invalide (format attendu AAAA-MM-JJ).") from exc


def _convert(raw: Any, unit: str, where: str) -> Value:
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        return {str(k): _convert(v, unit, f"{where}[{k}]") for k, v in raw.items()}
    if unit == "currency-EUR":
        try:
            cents = Decimal(str(raw)) * 100
        except InvalidOperation as exc:
            raise ParameterError(f"{where} : montant « {raw} » invalide.") from exc
        if cents != cents.to_integral_value():
            raise ParameterError(f"{where} : le montant {raw} € n'est pas un nombre entier de centimes.")
        return int(cents)
    if unit == "/1":
        return Decimal(str(raw))
    if unit == "bool":
        if not isinstance(raw, bool):
            raise ParameterError(f"{where} : valeur booléenne attendue, reçu « {raw} ».")
        return raw
    if unit == "code":
        return str(raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or int(raw) != raw:
        raise ParameterError(f"{where} : nombre entier attendu (unité {unit}), reçu « {raw} ».")
    return int(raw)


def parse_parameter(name: str, data: Any, where: str) -> Parameter:
    if not isinstance(data, Mapping):
        raise ParameterError(f"{where} : le fichier doit contenir un dictionnaire YAML.")
    description = data.get("description")
    if not description:
        raise ParameterError(f"{where} : « description » manquante.")
    metadata = data.get("metadata") or {}
    unit = metadata.get("unit")
    if unit not in UNITS:
        raise ParameterError(f"{where} : unité « {unit} » inconnue (attendu : {', '.join(sorted(UNITS))}).")
    raw_refs = metadata.get("reference")
    if not raw_refs or not isinstance(raw_refs, Mapping):
        raise ParameterError(f"{where} : référence légale manquante (metadata.reference).")
    references = []
    for d, ref in raw_refs.items():
        if not isinstance(ref, Mapping) or not ref.get("title"):
            raise ParameterError(f"{where} : la référence du {d} doit avoir un « title ».")
        references.append(Reference(_parse_date(d, where), str(ref["title"]), ref.get("href")))
    references.sort(key=lambda r: r.date)
    raw_values = data.get("values")
    if not raw_values or not isinstance(raw_values, Mapping):
        raise ParameterError(f"{where} : aucune valeur datée (values).")
    param = Parameter(
        name=name,
        description=str(description),
        unit=unit,
        references=references,
        unconfirmed=bool(metadata.get("unconfirmed", False)),
        documentation=str(data.get("documentation") or ""),
    )
    for d, entry in raw_values.items():
        if not isinstance(entry, Mapping) or "value" not in entry:
            raise ParameterError(f"{where} : la valeur du {d} doit s'écrire « {{value: …}} ».")
        param.add_value(_parse_date(d, where), _convert(entry["value"], unit, f"{where} ({d})"))
    return param


class Parameters:
    """The whole tree of parameters, by dotted name."""

    def __init__(self, parameters: dict[str, Parameter]) -> None:
        self._parameters = parameters

    def __contains__(self, name: object) -> bool:
        return name in self._parameters

    def __iter__(self) -> Iterator[Parameter]:
        return iter(sorted(self._parameters.values(), key=lambda p: p.name))

    def __len__(self) -> int:
        return len(self._parameters)

    def parameter(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise ParameterError(f"Paramètre « {name} » inconnu.") from None

    def value(self, name: str, when: dt.date) -> Value:
        return self.parameter(name).at(when)

    def overlay(self, values: Mapping[str, Mapping[dt.date, Any]]) -> Parameters:
        """A copy with extra dated values (raw, in the parameter's unit) for existing parameters."""
        copy = {
            n: Parameter(
                p.name, p.description, p.unit, list(p.starts), list(p.values), list(p.references),
                p.unconfirmed, p.documentation, set(p.local_starts),
            )
            for n, p in self._parameters.items()
        }
        for name, dated in values.items():
            if name not in copy:
                raise ParameterError(f"Valeur locale pour un paramètre inconnu : « {name} ».")
            for start, raw in dated.items():
                copy[name].add_value(start, _convert(raw, copy[name].unit, name), local=True)
        return Parameters(copy)


# libyaml's loader when PyYAML was built with it (same safe subset, about ten times faster).
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 (a safe loader)


def read_tree(root: Path) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for path in sorted(root.rglob("*.yaml")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        try:
            data = _safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ParameterError(f"{path} : YAML illisible ({exc}).") from exc
        except ValueError as exc:  # PyYAML builds dates itself: 2020-13-01 fails here
            raise ParameterError(f"{path} : date invalide ({exc}).") from exc
        parameters[name] = parse_parameter(name, data, str(path.relative_to(root.parent)))
    return parameters


def read_overlays(folder: Path) -> dict[str, dict[dt.date, Any]]:
    """Local values: files ``<dotted.name>.yaml`` with ``values: {date: {value: …}}``."""
    overlays: dict[str, dict[dt.date, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = _safe_load(path.read_text(encoding="utf-8")) or {}
        values = data.get("values") or {}
        overlays[path.stem] = {_parse_date(d, str(path)): e["value"] for d, e in values.items()}
    return overlays


_DEFAULT: Parameters | None = None


def load_parameters(overlays: Mapping[str, Mapping[dt.date, Any]] | None = None) -> Parameters:
    """The shipped tree, plus local values from ``CAISSE_PARAMETRES_LOCAUX`` and ``overlays``."""
    global _DEFAULT
    if _DEFAULT is None:
        base = Parameters(read_tree(PARAMETERS_DIR))
        local_dir = os.environ.get("CAISSE_PARAMETRES_LOCAUX")
        if local_dir:
            base = base.overlay(read_overlays(Path(local_dir)))
        _DEFAULT = base
    return _DEFAULT.overlay(overlays) if overlays else _DEFAULT


def reset_cache() -> None:
    global _DEFAULT
    _DEFAULT = None
