"""Data folder shipped with avatar-mock."""
