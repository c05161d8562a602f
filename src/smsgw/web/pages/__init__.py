"""The web centre's pages, one module per area; each offers ``routes()`` for the site's router."""
