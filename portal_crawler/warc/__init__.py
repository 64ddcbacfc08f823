"""WARC: what a capture is (`records`), writing it (`writer`), reading it back (`reader`).

A leaf package: it imports nothing else of the project.
"""
