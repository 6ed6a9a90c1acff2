"""The version of ActorRT's dx_engine package."""

__all__ = ["__version__"]
__version__ = "0.1.0"
