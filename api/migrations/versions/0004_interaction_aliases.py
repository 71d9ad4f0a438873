"""interaction_aliases: a log's id answered with an earlier interaction stays bound to it

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interaction_aliases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interaction_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interaction_aliases_interaction_id"), ["interaction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_aliases_interaction_id"))
    op.drop_table("interaction_aliases")
