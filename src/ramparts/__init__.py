"""ramparts: Alibaba Cloud's security services, self-hosted and speaking Alibaba's own API."""

__all__ = ["__version__"]

__version__ = "0.1.0"
