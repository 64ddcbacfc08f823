"""The archive writer, a child process of the crawl: the message protocol, the session, `__main__`.

Only `protocol` is imported by the crawl side; `session` runs in the child.
"""
