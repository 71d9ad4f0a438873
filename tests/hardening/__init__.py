"""The hardening suite: what an attacker or a crash can do to the ledger, and what stops it.

docs/security.md maps each threat to the protections and to the test here that shows them.
"""
