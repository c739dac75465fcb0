"""The web chat and JSON API: one FastAPI app over a loaded qa Pipeline (see web.app.create_app)."""

from web.app import create_app

__all__ = ["create_app"]
