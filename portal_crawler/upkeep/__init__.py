"""Keeping an archive sound and usable: verify and repair, reindex, replay."""
