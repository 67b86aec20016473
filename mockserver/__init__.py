"""avatar-mock: a faithful local stand-in for asynchronous AI-avatar provider APIs."""

__version__ = "0.1.0"
