"""Writers of what leaves the system: CSV/XLSX tables (GeoJSON and OGC API come later)."""
