"""A database constraint that forbids overlapping date periods, on PostgreSQL and on SQLite.

On PostgreSQL it is a real ``EXCLUDE USING gist`` constraint on a ``daterange`` (with the
``btree_gist`` extension, created by the core migration). SQLite has no exclusion
constraints, so the same named constraint is enforced there by two ``BEFORE INSERT`` /
``BEFORE UPDATE`` triggers that abort with the constraint's name. Both raise
``IntegrityError`` whose message contains the constraint name, which the tests check.

Periods are closed intervals ``[start, end]`` where ``end`` may be NULL (open-ended). An
optional ``condition`` (a raw SQL boolean over the row, e.g. ``"status <> 'closed'"``) limits
the rows concerned; write it in SQL that both databases accept.

The Python side (``validate``) gives forms and services the same check with the constraint's
French message before the database is reached.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.ddl_references import Statement, Table
from django.db.models.constraints import BaseConstraint


class NonOverlappingPeriods(BaseConstraint):
    def __init__(
        self,
        *,
        name: str,
        group: tuple[str, ...] | list[str],
        start: str = "debut",
        end: str = "fin",
        condition: str = "",
        violation_error_message: str | None = None,
    ) -> None:
        self.group = tuple(group)
        self.start = start
        self.end = end
        self.condition = condition
        super().__init__(name=name, violation_error_message=violation_error_message)

    # --- SQL -----------------------------------------------------------------------------
    def _columns(self, model: type[models.Model]) -> tuple[list[str], str, str]:
        meta = model._meta
        group_cols = [meta.get_field(f).column for f in self.group]  # type: ignore[union-attr]
        return group_cols, meta.get_field(self.start).column, meta.get_field(self.end).column  # type: ignore[union-attr]

    def _pg_sql(self, model: type[models.Model], schema_editor: Any) -> str:
        q = schema_editor.quote_name
        group_cols, start, end = self._columns(model)
        parts = [f"{q(c)} WITH =" for c in group_cols]
        parts.append(f"daterange({q(start)}, {q(end)}, '[]') WITH &&")
        where = f" WHERE ({self.condition})" if self.condition else ""
        return f"CONSTRAINT {q(self.name)} EXCLUDE USING gist ({', '.join(parts)}){where}"

    def _sqlite_triggers(self, model: type[models.Model], schema_editor: Any) -> list[Statement]:
        q = schema_editor.quote_name
        group_cols, start, end = self._columns(model)
        same_group = " AND ".join(f"o.{q(c)} = NEW.{q(c)}" for c in group_cols)
        overlap = (
            f"(o.{q(start)} <= COALESCE(NEW.{q(end)}, '9999-12-31') "
            f"AND NEW.{q(start)} <= COALESCE(o.{q(end)}, '9999-12-31'))"
        )
        cond_old = f" AND ({self._qualified_condition('o')})" if self.condition else ""
        cond_new = f" AND ({self._qualified_condition('NEW')})" if self.condition else ""
        triggers = []
        for event, not_self in (("INSERT", ""), ("UPDATE", " AND o.rowid <> NEW.rowid")):
            template = (
                f"CREATE TRIGGER IF NOT EXISTS {q(self.name + '_' + event.lower())} "
                f"BEFORE {event} ON %(table)s FOR EACH ROW "
                f"WHEN EXISTS (SELECT 1 FROM %(table)s o WHERE {same_group} AND {overlap}{not_self}{cond_old})"
                f"{cond_new} "
                f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {self.name}'); END"
            )
            # A Statement with a Table reference follows the table when SQLite remakes it.
            triggers.append(Statement(template, table=Table(model._meta.db_table, q)))
        return triggers

    def _qualified_condition(self, alias: str) -> str:
        # Conditions are written over bare column names prefixed with "row." by convention.
        return self.condition.replace("row.", f"{alias}.")

    def constraint_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str | None:  # type: ignore[override]
        assert model is not None
        if schema_editor.connection.vendor == "postgresql":
            return self._pg_sql(model, schema_editor).replace("row.", "")
        if schema_editor.connection.vendor == "sqlite":
            # Inline in CREATE TABLE is impossible: defer the triggers (also used when SQLite
            # remakes a table during a migration).
            for sql in self._sqlite_triggers(model, schema_editor):
                schema_editor.deferred_sql.append(sql)
        return None

    def create_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str | None:  # type: ignore[override]
        assert model is not None
        if schema_editor.connection.vendor == "postgresql":
            table = schema_editor.quote_name(model._meta.db_table)
            return f"ALTER TABLE {table} ADD {self._pg_sql(model, schema_editor).replace('row.', '')}"
        if schema_editor.connection.vendor == "sqlite":
            first, second = self._sqlite_triggers(model, schema_editor)
            schema_editor.deferred_sql.append(second)
            return str(first)
        return None

    def remove_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str | None:  # type: ignore[override]
        assert model is not None
        q = schema_editor.quote_name
        if schema_editor.connection.vendor == "postgresql":
            return f"ALTER TABLE {q(model._meta.db_table)} DROP CONSTRAINT {q(self.name)}"
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.deferred_sql.append(f"DROP TRIGGER IF EXISTS {q(self.name + '_update')}")
            return f"DROP TRIGGER IF EXISTS {q(self.name + '_insert')}"
        return None

    # --- Python validation -----------------------------------------------------------------
    def validate(self, model: type[models.Model], instance: models.Model, exclude: Any = None, using: str = "default") -> None:  # type: ignore[override]
        if exclude and ({self.start, self.end} | set(self.group)) & set(exclude):
            return
        start = getattr(instance, self.start)
        end = getattr(instance, self.end)
        if start is None:
            return
        if end is not None and end < start:
            raise ValidationError("La date de fin précède la date de début.", code="period_order")
        group = {f: getattr(instance, f + "_id" if self._is_fk(model, f) else f) for f in self.group}
        lookup = {(f + "_id" if self._is_fk(model, f) else f): v for f, v in group.items()}
        qs = model._default_manager.using(using).filter(**lookup)
        qs = qs.filter(**{f"{self.start}__lte": end}) if end is not None else qs
        qs = qs.filter(models.Q(**{f"{self.end}__isnull": True}) | models.Q(**{f"{self.end}__gte": start}))
        if instance.pk is not None:
            qs = qs.exclude(pk=instance.pk)
        if self.condition:
            ids = [o.pk for o in qs if self._python_condition(o)]
            if not self._python_condition(instance):
                return
            qs = qs.filter(pk__in=ids)
        if qs.exists():
            raise ValidationError(self.get_violation_error_message(), code=self.name)

    def _python_condition(self, obj: models.Model) -> bool:
        # Supported condition form: "row.<field> <> '<value>'" joined by AND.
        for clause in self.condition.split(" AND "):
            field, _, value = clause.partition(" <> ")
            if getattr(obj, field.strip().removeprefix("row.")) == value.strip().strip("'"):
                return False
        return True

    @staticmethod
    def _is_fk(model: type[models.Model], name: str) -> bool:
        return isinstance(model._meta.get_field(name), models.ForeignKey)

    # --- Django plumbing ---------------------------------------------------------------------
    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        path = "caisse.core.constraints.NonOverlappingPeriods"
        kwargs.update(group=self.group, start=self.start, end=self.end)
        if self.condition:
            kwargs["condition"] = self.condition
        return path, args, kwargs

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NonOverlappingPeriods):
            return (
                self.name == other.name
                and self.group == other.group
                and self.start == other.start
                and self.end == other.end
                and self.condition == other.condition
                and self.violation_error_message == other.violation_error_message
            )
        return super().__eq__(other)

    __hash__ = BaseConstraint.__hash__
