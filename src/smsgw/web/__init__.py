"""The web centre and the HTTP API, served by the gateway's own Twisted process (``site.build_site``).

* ``api`` / ``openapi`` / ``codes``: the JSON API with per-account keys, errors as SMPP statuses;
* ``auth`` / ``sessions``: sign-in (argon2, lockout shared with SMPP binds), sessions, CSRF;
* ``pages/``: the enterprise users' pages and the provider administrators' pages;
* ``sending``: every submission goes through the SMPP intake (``Intake.submit_text``);
* ``render`` / ``i18n`` / ``templates/`` / ``static/``: Jinja2 pages in Chinese (default) or English,
  our own stylesheet and script (nothing loaded from elsewhere), ``charts``: inline SVG.
"""
