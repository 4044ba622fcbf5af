"""Test support shipped with machi: the pytest plugin and a throwaway PostgreSQL server."""
