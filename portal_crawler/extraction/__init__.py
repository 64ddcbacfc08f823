"""From a page to what it says: the site profile, URL rules, cleaners, templates, extraction.

Pure: no I/O beyond reading a profile file, and nothing of the project outside
`extraction` and `core`. The crawl's writer and `reindex` use the same code.
"""
