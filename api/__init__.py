"""Strong Ties: the ledger API behind the browser extension."""

__version__ = "0.1.0"

__all__ = ["create_app", "__version__"]


def __getattr__(name: str):
    # Imported on first use, so `import api.scoring` (the pure model) loads no Flask.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
