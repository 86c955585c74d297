"""The trained model shipped with triage (data only; see MODEL_CARD.md)."""
