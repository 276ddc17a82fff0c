"""The portal for usagers and families: portal accounts (not staff accounts), their accesses
(invitation, rights, end), and portal authors of messages and RGPD requests

Revision ID: 0032_portail
Revises: 0031_usager_name_order
Create Date: 2026-12-04 08:19:53.389991

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0032_portail'
down_revision = '0031_usager_name_order'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('portal_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('prenom', sa.String(length=100), nullable=True),
    sa.Column('nom', sa.String(length=100), nullable=True),
    sa.Column('password', sa.String(length=256), nullable=False),
    sa.Column('second_factor', sa.String(length=10), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('email_code_hash', sa.String(length=256), nullable=True),
    sa.Column('email_code_expires_at', sa.DateTime(), nullable=True),
    sa.Column('session_stamp', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('portal_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('droits', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('expire_le', sa.Date(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['portal_account.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact_person.id'], ),
    sa.ForeignKeyConstraint(['invited_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('portal_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_access_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_access_usager_id'), ['usager_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_author_id', sa.Integer(), nullable=True))
        batch_op.alter_column('author_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key('fk_message_portal_author_id', 'portal_account', ['portal_author_id'], ['id'])

    with op.batch_alter_table('message_thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_account_id', sa.Integer(), nullable=True))
        batch_op.alter_column('created_by_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_message_thread_portal_account_id'), ['portal_account_id'], unique=False)
        batch_op.create_foreign_key('fk_message_thread_portal_account_id', 'portal_account', ['portal_account_id'], ['id'])

    with op.batch_alter_table('rgpd_access', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_account_id', sa.Integer(), nullable=True))
        batch_op.alter_column('recorded_by_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key('fk_rgpd_access_portal_account_id', 'portal_account', ['portal_account_id'], ['id'])

    with op.batch_alter_table('rgpd_erasure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_account_id', sa.Integer(), nullable=True))
        batch_op.alter_column('requested_by_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key('fk_rgpd_erasure_portal_account_id', 'portal_account', ['portal_account_id'], ['id'])

    with op.batch_alter_table('rgpd_rectification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_account_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_rgpd_rectification_portal_account_id', 'portal_account', ['portal_account_id'], ['id'])



def downgrade():
    with op.batch_alter_table('rgpd_rectification', schema=None) as batch_op:
        batch_op.drop_constraint('fk_rgpd_rectification_portal_account_id', type_='foreignkey')
        batch_op.drop_column('portal_account_id')

    with op.batch_alter_table('rgpd_erasure', schema=None) as batch_op:
        batch_op.drop_constraint('fk_rgpd_erasure_portal_account_id', type_='foreignkey')
        batch_op.alter_column('requested_by_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('portal_account_id')

    with op.batch_alter_table('rgpd_access', schema=None) as batch_op:
        batch_op.drop_constraint('fk_rgpd_access_portal_account_id', type_='foreignkey')
        batch_op.alter_column('recorded_by_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('portal_account_id')

    with op.batch_alter_table('message_thread', schema=None) as batch_op:
        batch_op.drop_constraint('fk_message_thread_portal_account_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_message_thread_portal_account_id'))
        batch_op.alter_column('created_by_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('portal_account_id')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_message_portal_author_id', type_='foreignkey')
        batch_op.alter_column('author_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('portal_author_id')

    with op.batch_alter_table('portal_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_access_usager_id'))
        batch_op.drop_index(batch_op.f('ix_portal_access_account_id'))

    op.drop_table('portal_access')
    op.drop_table('portal_account')
