from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm

from caisse.web.forms import AccessibleFormMixin


class SignInForm(AccessibleFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": "Identifiant ou mot de passe incorrect. Vérifiez la saisie (majuscules comprises).",
        "inactive": "Ce compte est désactivé. Agent de la caisse : adressez-vous à votre responsable ; assuré, professionnel ou employeur : contactez votre caisse d'assurance maladie.",
    }

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Identifiant"
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["username"].widget.attrs.pop("autofocus", None)  # focus stays at the top (skip link first)
        self.fields["password"].label = "Mot de passe"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"
