"""Form drafts: what a user typed and has not saved yet, kept for that user only.

The browser autosaves the forms of a page while the user types and when the workstation is
locked; the user finds them again on the page (and on their account page), on any workstation,
after a colleague used it. A draft is removed when its form is saved, when it is discarded,
after SILLAGE_DRAFT_DAYS, and with the usager's data when a dossier is anonymised.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..models import FormDraft, Usager
from ..models.base import utcnow
from .errors import ValidationFailed

MAX_BYTES = 200_000
MAX_FIELDS = 2000
KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
DOSSIER_PAGE = re.compile(r"^/dossier/(\d+)(?:/|$)")
SKIPPED_NAMES = {"csrf_token", "_draft", "password", "current", "new_password", "confirm"}


def usager_of(page: str) -> int | None:
    """The usager a page is about (a dossier and its sub-pages), for erasure."""
    match = DOSSIER_PAGE.match(page)
    return int(match.group(1)) if match and int(match.group(1)) < 2**31 else None


def clean(page, form_key, data, label=None) -> tuple[str, str, list, str | None]:
    """Check a draft sent by the browser; ValidationFailed (field → message) otherwise."""
    errors = {}
    if not isinstance(page, str) or not page.startswith("/") or len(page) > 300 or "\n" in page:
        errors["page"] = _("Page invalide.")
    if not isinstance(form_key, str) or not KEY.match(form_key):
        errors["form"] = _("Identifiant de formulaire invalide.")
    if not isinstance(data, list) or len(data) > MAX_FIELDS or not all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], str)
            for pair in data):
        errors["data"] = _("Contenu invalide : une liste de paires [nom, valeur] est attendue.")
    if label is not None and not isinstance(label, str):
        errors["label"] = _("Libellé invalide.")
    if errors:
        raise ValidationFailed(errors)
    data = [pair for pair in data if pair[0] not in SKIPPED_NAMES and not pair[0].endswith("-csrf_token")]
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_BYTES:
        raise ValidationFailed({"data": _("Brouillon trop volumineux.")})
    return page, form_key, data, (label or "").strip()[:200] or None


def save(session, user_id: int, page, form_key, data, label=None) -> FormDraft:
    """Create or replace the user's draft of that form (raises LookupError for a dossier the
    user may not see: the scope applies to drafts too)."""
    page, form_key, data, label = clean(page, form_key, data, label)
    usager_id = usager_of(page)
    if usager_id is not None and session.get(Usager, usager_id) is None:
        raise LookupError(usager_id)
    draft = session.execute(select(FormDraft).where(
        FormDraft.user_id == user_id, FormDraft.page == page, FormDraft.form_key == form_key)).scalar_one_or_none()
    if draft is None:
        draft = FormDraft(user_id=user_id, page=page, form_key=form_key)
        session.add(draft)
    draft.label, draft.usager_id = label, usager_id
    draft.data = json.dumps(data, ensure_ascii=False)
    draft.updated_at = utcnow()
    session.commit()
    return draft


def of_user(session, user_id: int, max_days: int, page: str | None = None) -> list[FormDraft]:
    query = select(FormDraft).where(FormDraft.user_id == user_id,
                                    FormDraft.updated_at >= utcnow() - dt.timedelta(days=max_days))
    if page is not None:
        query = query.where(FormDraft.page == page)
    return session.execute(query.order_by(FormDraft.updated_at.desc())).scalars().all()


def discard(session, user_id: int, page: str, form_key: str) -> bool:
    """Forget a draft (the form was saved, or the user threw the draft away)."""
    done = session.execute(delete(FormDraft).where(
        FormDraft.user_id == user_id, FormDraft.page == page, FormDraft.form_key == form_key)).rowcount
    session.commit()
    return bool(done)


def purge(session, max_days: int) -> int:
    """Drop drafts older than `max_days` (run with the retention command)."""
    done = session.execute(delete(FormDraft).where(
        FormDraft.updated_at < utcnow() - dt.timedelta(days=max_days))).rowcount
    session.commit()
    return done


def erase_for_usager(session, usager_id: int) -> None:
    """In the anonymisation's transaction: nobody's draft may keep what was erased."""
    session.execute(delete(FormDraft).where(FormDraft.usager_id == usager_id))


def as_json(draft: FormDraft) -> dict:
    return {"page": draft.page, "form": draft.form_key, "label": draft.label, "data": json.loads(draft.data),
            "updated_at": draft.updated_at.isoformat(timespec="seconds") + "Z"}
