"""Strong Ties: the ledger API behind the browser extension."""

__version__ = "0.1.0"

from .app import create_app  # noqa: E402

__all__ = ["create_app", "__version__"]
