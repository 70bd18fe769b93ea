"""Feuilles received with an integer id are processed in numeric order (9 before 10): the id's
value in ``identifiant_entier``, filled here for the feuilles already received."""

from django.db import migrations, models


def fill_integer_ids(apps, schema_editor):  # type: ignore[no-untyped-def]
    Feuille = apps.get_model("claims", "Feuille")
    batch = []
    for pk, record in Feuille.objects.filter(enregistrement__isnull=False).values_list("pk", "enregistrement").iterator(chunk_size=2000):
        ident = record.get("id") if isinstance(record, dict) else None
        if type(ident) is int and -(1 << 63) <= ident < (1 << 63):
            batch.append(Feuille(pk=pk, identifiant_entier=ident))
        if len(batch) >= 2000:
            Feuille.objects.bulk_update(batch, ["identifiant_entier"])
            batch = []
    if batch:
        Feuille.objects.bulk_update(batch, ["identifiant_entier"])


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0003_payment_iban_valide'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='feuille',
            options={'ordering': ['date_reception', 'identifiant_entier', 'identifiant'], 'verbose_name': 'feuille de soins', 'verbose_name_plural': 'feuilles de soins'},
        ),
        migrations.RemoveIndex(
            model_name='feuille',
            name='feuille_to_process',
        ),
        migrations.AddField(
            model_name='feuille',
            name='identifiant_entier',
            field=models.BigIntegerField(blank=True, help_text="Valeur de l'identifiant reçu comme un entier : ces feuilles sont traitées dans l'ordre des nombres (9 avant 10).", null=True, verbose_name='identifiant entier'),
        ),
        migrations.AddIndex(
            model_name='feuille',
            index=models.Index(fields=['statut', 'date_reception', 'identifiant_entier', 'identifiant'], name='feuille_to_process'),
        ),
        migrations.RunPython(fill_integer_ids, migrations.RunPython.noop),
    ]
