"""xl_lazada: track Lazada orders, parcels and settlements from inside Excel."""

__version__ = "0.1.0"
