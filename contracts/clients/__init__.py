"""Reference async clients for the three providers; the contract suite drives them."""
