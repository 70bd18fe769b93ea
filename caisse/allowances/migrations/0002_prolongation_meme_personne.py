"""A prolongation points to an initial arrêt of the same person: a named trigger on each database.

The rule spans two rows, so no CHECK can hold it. The trigger aborts with the message
``CHECK constraint failed: check_arret_prolongation_meme_personne`` (SQLite) or raises the
same name (PostgreSQL); ``Arret.clean`` gives the French message before the database is reached.
"""

from django.db import migrations

NAME = "check_arret_prolongation_meme_personne"

SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS {NAME}_{event.lower()} BEFORE {event} ON allowances_arret FOR EACH ROW
    WHEN NEW.arret_initial_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM allowances_arret i WHERE i.id = NEW.arret_initial_id AND i.beneficiaire_id = NEW.beneficiaire_id)
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {NAME}'); END"""
    for event in ("INSERT", "UPDATE")
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {NAME}_{event}" for event in ("insert", "update")]

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger AS $$
    BEGIN
        IF NEW.arret_initial_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM allowances_arret i WHERE i.id = NEW.arret_initial_id AND i.beneficiaire_id = NEW.beneficiaire_id
        ) THEN
            RAISE EXCEPTION 'new row violates check constraint "{NAME}"' USING ERRCODE = '23514';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER {NAME} BEFORE INSERT OR UPDATE ON allowances_arret
    FOR EACH ROW EXECUTE FUNCTION {NAME}()""",
]
POSTGRES_DROP = [f"DROP TRIGGER IF EXISTS {NAME} ON allowances_arret", f"DROP FUNCTION IF EXISTS {NAME}()"]


def _run(statements_by_vendor):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("allowances", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
