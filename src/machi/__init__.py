"""machi: a shared municipal cloud for Japanese municipalities."""
