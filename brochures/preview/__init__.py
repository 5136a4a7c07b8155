"""The live preview: `generate.py serve`."""
