"""triage: sorts difficult client mail and leaves calm reply drafts."""

__version__ = "0.1.0"
