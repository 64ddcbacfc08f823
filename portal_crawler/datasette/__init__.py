"""The reading room: a Datasette plugin over the catalogue, shipped as this package with its templates and CSS.

`portal-crawler browse` registers this package with Datasette's plugin manager
(`desk.browse.register_plugin`). Datasette looks for a registered plugin's
`templates/` and `static/` beside its module, so the package itself is what is
registered, and its hooks (plugin.py) are imported here. `metadata.json`
describes the tables and holds the canned queries.
"""

from portal_crawler.datasette.plugin import extra_css_urls, extra_template_vars, prepare_connection, render_cell

__all__ = ["extra_css_urls", "extra_template_vars", "prepare_connection", "render_cell"]
