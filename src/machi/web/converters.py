class LgCodeConverter:
    """A 6-digit 全国地方公共団体コード in a URL (/<lg_code>/…)."""

    regex = r"\d{6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
