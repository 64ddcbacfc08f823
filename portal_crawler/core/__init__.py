"""What every layer shares: the archive's paths, its lock, times, the one error type.

A leaf package: it imports nothing else of the project.
"""
