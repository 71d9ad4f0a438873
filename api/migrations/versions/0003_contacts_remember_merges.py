"""contacts.merged_into_id: a merged contact names the contact it became

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite would rebuild the table for a constraint (and its rebuild would
    # cascade into identities and interactions); contacts are never deleted for real anyway.
    op.add_column("contacts", sa.Column("merged_into_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "merged_into_id")  # SQLite 3.35 and later drop it in place
