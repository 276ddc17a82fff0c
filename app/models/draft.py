"""Work typed in a form and not saved yet, kept server-side for its author only."""
from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint

from .base import utcnow


class FormDraft(Model):
    """One form of one page, as its author left it (autosaved while typing, and when the
    workstation is locked): nothing typed is lost to a closed tab, an expired session or a
    colleague taking the workstation. Deleted when the form is saved, after
    SILLAGE_DRAFT_DAYS, and with the usager's data on erasure."""

    __tablename__ = "form_draft"
    __table_args__ = (UniqueConstraint("user_id", "page", "form_key", name="uq_form_draft"),)
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    page = Column(String(300), nullable=False)
    form_key = Column(String(100), nullable=False)
    label = Column(String(200))
    usager_id = Column(Integer, ForeignKey("usager.id", ondelete="CASCADE"), index=True)
    data = Column(Text, nullable=False)  # JSON: [[name, value], ...] as the browser's FormData
    updated_at = Column(DateTime, nullable=False, default=utcnow, index=True)
