"""自治体標準オープンデータセット generated from machi's own data (issue 15 §4)."""
