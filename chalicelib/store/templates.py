"""A business account's WhatsApp message templates, as Meta last told us (creation, webhooks, the poll)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.store.models import TemplateModel

MAX_TEMPLATES = 500  # Meta holds at most 250 per account (more for verified businesses): a bound, not a page
MAX_COMPONENTS_BYTES = 16_000  # a template's texts are a few KB at Meta's limits; an item stays far from 400 KB


@dataclass(frozen=True)
class HeldTemplate:
    waba_id: str
    template_id: str
    tenant_id: str
    name: str
    language: str
    category: str
    status: str
    components: list = field(default_factory=list)
    rejected_reason: str | None = None
    previous_category: str | None = None
    updated_at: datetime | None = None


def save(template: HeldTemplate) -> None:
    """Write the template whole; ValueError when its components are past the bound."""
    if len(json.dumps(template.components, ensure_ascii=False).encode()) > MAX_COMPONENTS_BYTES:
        raise ValueError(f"template {template.name}: components over {MAX_COMPONENTS_BYTES} bytes")
    TemplateModel(template.waba_id, template.template_id, tenant_id=template.tenant_id, name=template.name,
                  language=template.language, category=template.category, status=template.status,
                  components=template.components, rejected_reason=template.rejected_reason,
                  previous_category=template.previous_category, updated_at=template.updated_at).save()


def get(waba_id: str, template_id: str) -> HeldTemplate | None:
    try:
        return _held(TemplateModel.get(waba_id, template_id))
    except TemplateModel.DoesNotExist:
        return None


def of_account(waba_id: str) -> list[HeldTemplate]:
    """The account's templates, by name then language."""
    found = [_held(m) for m in TemplateModel.query(waba_id, limit=MAX_TEMPLATES)]
    return sorted(found, key=lambda t: (t.name, t.language))


def delete(waba_id: str, template_id: str) -> None:
    TemplateModel(waba_id, template_id).delete()


def changed(template: HeldTemplate, **values) -> HeldTemplate:
    return replace(template, **values)


def _held(model: TemplateModel) -> HeldTemplate:
    return HeldTemplate(model.waba_id, model.template_id, model.tenant_id, model.name, model.language,
                        model.category, model.status, list(model.components or []), model.rejected_reason,
                        model.previous_category, model.updated_at)
