"""The Lazada Open Platform client: signing, envelopes, errors, retries, limits, tokens.

Nothing here imports pandas or Excel; everything above builds on it.
"""
