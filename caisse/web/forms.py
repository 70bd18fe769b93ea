"""Accessible Django forms: every input is tied to its help text and its error message.

Each field's widget gets ``aria-describedby`` (help text and error ids) and, when the field is
in error, ``aria-invalid="true"``. Templates render fields with ``web/_field.html`` and the
error summary with ``web/_form.html``; the ids used there are built by the same helpers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

DATE_WIDGET_ATTRS = {"type": "date"}


class IsoDateInput(forms.DateInput):
    """A date picker (``type=date``), whose value must be ISO: a date typed JJ/MM/AAAA (in a link,
    or sent without the picker) is shown back in the picker instead of an empty field."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, str):
            import datetime as dt

            for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
                try:
                    return dt.datetime.strptime(value.strip(), pattern).date().isoformat()
                except ValueError:
                    continue
        return super().format_value(value)  # type: ignore[no-any-return]


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    """A date picker that also accepts a typed date (JJ/MM/AAAA)."""
    return forms.DateField(
        label=label, required=required, help_text=help_text or "Format : JJ/MM/AAAA.",
        widget=IsoDateInput(attrs=DATE_WIDGET_ATTRS, format="%Y-%m-%d"),
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


__all__ = ["NON_FIELD_ERRORS", "AccessibleForm", "AccessibleModelForm", "date_field"]
