"""paratype: classifiers for paragraphs of Arabic security news."""

__version__ = "0.1.0"
