"""Entry points: the Faust worker and its web pages."""
