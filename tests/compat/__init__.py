"""Proof of compatibility: upstream fail2ban's sample logs and their `failJSON` annotations, replayed through an
engine (banjail's, or upstream's own as a check of the harness) and tallied per filter variant.

corpus     reads the sample logs into variants (filter + options) and feeds (lines with their annotation)
engines    runs variants through banjail or, in a subprocess, through upstream (oracle.py)
agreement  judges each feed's outcome against its annotation and renders the table
"""
