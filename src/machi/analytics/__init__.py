"""分析: dashboards, the counter-demand forecast and the access-log analyses (issue 15).

Every figure is computed from the municipality's own database, read-only (DuckDB
attaches the SQLite file read-only or scans PostgreSQL); nothing is copied to another
store, and no count below the disclosure threshold is shown.
"""
