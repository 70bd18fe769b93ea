"""Accessible Django forms: every input is tied to its help text and its error message.

Each field's widget gets ``aria-describedby`` (help text and error ids) and, when the field is
in error, ``aria-invalid="true"``. Templates render fields with ``web/_field.html`` and the
error summary with ``web/_form.html``; the ids used there are built by the same helpers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

DATE_FORMAT_HINT = "JJ/MM/AAAA"
# A text field, not ``type=date``: a browser's date picker shows the browser's own format
# (mm/dd/yyyy in an American Chromium) whatever the page says, so the hint « JJ/MM/AAAA » would be
# false there. A text field reads the same in every browser, screen reader and voice control;
# ``inputmode`` opens a keypad with digits and the slash on a phone. No ``pattern``: the browser
# would answer in its own language, where the server answers in French (forms are ``novalidate``).
DATE_WIDGET_ATTRS = {"inputmode": "numeric", "autocomplete": "off", "class": "date"}
# Dates typed as JJ/MM/AAAA (also JJ/MM/AA, J/M/AAAA), or sent as ISO (links, API clients, older
# bookmarks): both keep working.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d"]


class FrenchDateInput(forms.TextInput):
    """A date typed JJ/MM/AAAA. Whatever way the value came (a ``date``, an ISO string in a link
    such as ``?du=2025-03-01``, or JJ/MM/AAAA), it is shown back as JJ/MM/AAAA; a value that is
    no date is shown back as typed, for the person to correct it."""

    @staticmethod
    def _french(day: dt.date) -> str:
        return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"  # 0025 stays 0025, never « 25 »

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, str):
            for pattern in DATE_INPUT_FORMATS:
                try:
                    return self._french(dt.datetime.strptime(value.strip(), pattern).date())
                except ValueError:
                    continue
            return value or None
        if isinstance(value, dt.date):
            return self._french(value)
        return super().format_value(value)  # type: ignore[no-any-return]


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    """A date typed JJ/MM/AAAA (an ISO date is accepted too); the hint always gives the format."""
    if not help_text:
        help_text = f"Format : {DATE_FORMAT_HINT}, par exemple 14/07/2025."
    elif DATE_FORMAT_HINT not in help_text:
        help_text = f"{help_text.rstrip()} Format : {DATE_FORMAT_HINT}."
    return forms.DateField(
        label=label, required=required, help_text=help_text, input_formats=DATE_INPUT_FORMATS,
        widget=FrenchDateInput(attrs=dict(DATE_WIDGET_ATTRS)),
        error_messages={"invalid": f"Saisissez une date valide. Format attendu : {DATE_FORMAT_HINT}, par exemple 14/07/2025."},
    )


class AccessibleFormMixin:
    """Adds the ARIA attributes that link each input to its hint and its error."""

    fields: dict[str, forms.Field]
    auto_id: str | bool

    def _describe(self) -> None:
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            ids = []
            if field.help_text:
                ids.append(f"{self.auto_id % name}-aide" if self.auto_id else f"{name}-aide")
            if name in errors:
                ids.append(f"{self.auto_id % name}-erreur" if self.auto_id else f"{name}-erreur")
                field.widget.attrs["aria-invalid"] = "true"
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
            else:
                field.widget.attrs.pop("aria-describedby", None)
            if field.required and not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("required", True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.use_required_attribute = False  # the server says what is missing, in French
        self._describe()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self._describe()

    @property
    def error_count(self) -> int:
        """How many messages the error summary lists (a field may have several)."""
        return sum(len(errors) for errors in self.errors.values())  # type: ignore[attr-defined]

    def add_validation_error(self, exc: ValidationError) -> None:
        """Attach a service's ValidationError to the right field, or to the whole form."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                target = field if field in self.fields else None
                for message in errors:
                    self.add_error(target, message)  # type: ignore[attr-defined]
        else:
            for message in exc.messages:
                self.add_error(None, message)  # type: ignore[attr-defined]
        self._describe()


class AccessibleForm(AccessibleFormMixin, forms.Form):
    pass


class AccessibleModelForm(AccessibleFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    pass


__all__ = ["NON_FIELD_ERRORS", "AccessibleForm", "AccessibleModelForm", "FrenchDateInput", "date_field"]
