"""Database invariants as user-facing errors.

Check and unique constraints are the last guard of every invariant. Validating each of them in Python
before a write costs a query per constraint (dozens per household form); instead, services write inside a
savepoint and turn a constraint violation into a ``ValidationError`` carrying the constraint's own message,
so that the client sees a clear reason and nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _


def constraint_message(model: type[models.Model], name: str) -> str:
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return str(constraint.get_violation_error_message())
    return name


@contextmanager
def constraint_errors(*models_: type[models.Model], label: str = "__all__", savepoint: bool = True) -> Iterator[None]:
    """``savepoint=False`` where the caller's own atomic block rolls back on the error anyway."""
    try:
        with transaction.atomic(savepoint=savepoint):
            yield
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        name = getattr(diag, "constraint_name", None) or ""
        for model in models_:
            message = constraint_message(model, name)
            if message != name:
                raise ValidationError(
                    {label: [_("%(message)s (rule %(name)s)") % {"message": message, "name": name}]}
                ) from exc
        raise ValidationError(
            {label: [_("The data breaks the database rule %(name)s.") % {"name": name or "?"}]}
        ) from exc
