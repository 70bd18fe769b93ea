from __future__ import annotations

import factory

from caisse.accounts.models import Role, User

PASSWORD = "motdepasse-demo-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = "Dominique"
    last_name = factory.Sequence(lambda n: f"Agent{n}")
    role = Role.GESTIONNAIRE_DROITS
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()
