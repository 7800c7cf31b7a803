"""The demo county: a seeded generator and the loader that sends its files through the import core."""
