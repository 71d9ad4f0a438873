"""`scripts/bench`: how fast the Strong Ties API is, as deployed, on a realistic ledger."""
