"""The black-box contract suite: run it with ``avatar-mock contract`` (see conftest.py)."""
