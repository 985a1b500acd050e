"""One service spec per stock filter: services/<filter>.py defines SERVICE (see ../spec.py)."""
