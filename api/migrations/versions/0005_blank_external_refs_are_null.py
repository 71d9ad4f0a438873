"""interactions: a blank external_ref (stored before it was read as none) becomes null

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Unicode's White_Space characters, as api/schemas.py reads a blank value.
WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def upgrade() -> None:
    # A blank ref names no message; left as it was, two of them would read as one message.
    trim = "trim" if op.get_bind().dialect.name == "sqlite" else "btrim"
    op.get_bind().execute(
        sa.text(
            f"UPDATE interactions SET external_ref = NULL "
            f"WHERE external_ref IS NOT NULL AND {trim}(external_ref, :blank) = ''"
        ),
        {"blank": WHITESPACE},
    )


def downgrade() -> None:
    pass  # null is what a blank ref always meant
