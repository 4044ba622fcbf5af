"""不正アクセスの検知: the five standard access-log analyses, anomaly scores, review queue."""
