"""The web chat and JSON API: one FastAPI app over a loaded qa Pipeline (see web.app.create_app)."""
