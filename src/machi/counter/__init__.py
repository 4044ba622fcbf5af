"""総合窓口: queue tickets and the display board (later: visits, intake, department tasks).

Every model of this app lives in the municipality's own database.
"""
