"""Human-readable API docs rendered from the OpenAPI spec, with no assets from elsewhere."""

from flask import Blueprint, current_app, render_template

blp = Blueprint("docs", __name__)


@blp.route("/api/docs", endpoint="docs")
def docs():
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("docs.html", spec=spec)
