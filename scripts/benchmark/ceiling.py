"""The ceiling: a bare Flask JSON endpoint, served exactly as the API is (see servers.py)."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def ok():
        return {"ok": True}

    return app
