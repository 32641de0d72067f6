"""The FastAPI application: JSON API under /api, pages under / (Jinja2), public lookup and verify."""
