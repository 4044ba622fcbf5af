"""Counter screens, one module per part (tickets; intake and tasks come later)."""
