"""Shared secret of indexed results; audit entries found under each usager they concern

Revision ID: 0017_audit_usager
Revises: 0016_rgpd_access
Create Date: 2026-12-03 23:50:00

"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0017_audit_usager'
down_revision = '0016_rgpd_access'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_usager',
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('audit_id', 'usager_id')
    )
    with op.batch_alter_table('audit_usager', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_usager_usager_id'), ['usager_id'], unique=False)
    with op.batch_alter_table('evaluation_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sensitivity', sa.String(length=60), nullable=True))
    _backfill()


def _backfill():
    """Existing entries of several usagers are linked to each; existing results get their key's category."""
    from app.domain.forms.definition import answer_categories

    bind = op.get_bind()
    links = []
    for audit_id, details in bind.execute(sa.text("SELECT id, details FROM audit_event WHERE usager_id IS NULL "
                                                  "AND details IS NOT NULL")):
        if isinstance(details, str):
            details = json.loads(details)
        usagers = (details or {}).get("usagers") or []
        links.extend({"a": audit_id, "u": u} for u in usagers if isinstance(u, int))
    if links:
        bind.execute(sa.text("INSERT INTO audit_usager (audit_id, usager_id) VALUES (:a, :u)"), links)
    rows = bind.execute(sa.text("SELECT r.id, r.key, d.data FROM evaluation_result r "
                                "JOIN evaluation e ON e.id = r.evaluation_id "
                                "JOIN form_definition d ON d.id = e.definition_id")).all()
    for result_id, key, data in rows:
        if isinstance(data, str):
            data = json.loads(data)
        categories = answer_categories(data or {}).get(key)
        if categories:
            bind.execute(sa.text("UPDATE evaluation_result SET sensitivity = :s WHERE id = :i"),
                         {"s": "+".join(sorted(categories)), "i": result_id})


def downgrade():
    with op.batch_alter_table('evaluation_result', schema=None) as batch_op:
        batch_op.drop_column('sensitivity')
    with op.batch_alter_table('audit_usager', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_usager_usager_id'))
    op.drop_table('audit_usager')
