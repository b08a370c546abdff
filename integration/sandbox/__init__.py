"""Sandboxes: the Amazon SP-API simulator (``sandbox.amazon``) and the SL sandbox database."""
