"""落实到人头 on any page: ``{% responsibility_chain person "finding" finding.pk %}`` shows the person answerable
for a unit of work, the chain above them and how far overdue work has climbed it."""

from __future__ import annotations

from typing import Any

from django import template

from supervision.organisation.selectors.responsibility import escalations_of, responsibility_chain

register = template.Library()


@register.inclusion_tag("organisation/_chain.html")
def responsibility_chain_of(person: Any, kind: str = "", object_id: Any = None) -> dict[str, Any]:
    if person is None:
        return {"chain": [], "escalations": []}
    return {
        "chain": responsibility_chain(person),
        "escalations": escalations_of(kind, int(object_id)) if kind and object_id else [],
    }
