"""The flash sales' coalescer is the platform's (entrepot.platform.coalescer), which ordinary checkout
shares: kept under this name for the code that imports it from here."""

from entrepot.platform.coalescer import Coalescer

__all__ = ["Coalescer"]
