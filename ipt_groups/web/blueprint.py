"""The pages' blueprint and their CSRF protection, created unbound (the views register on them)."""

from flask import Blueprint
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("web", __name__, url_prefix="/app", template_folder="templates", static_folder="static")
csrf = CSRFProtect()
