"""Server-rendered pages (Jinja2): public, business portal, officer workspace, admin.

Every essential action works without JavaScript; scripts under /static only improve. Pages use the
session cookie (HttpOnly JWT) and a CSRF token on every form post; the JSON API uses bearer tokens.
"""
