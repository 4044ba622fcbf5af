"""The suite hashes test passwords with MD5 for speed (conftest.py); production must not."""

import subprocess
import sys


def test_production_settings_hash_passwords_with_pbkdf2_at_a_million_rounds():
    script = (
        "import django; django.setup();"
        "from django.contrib.auth.hashers import make_password;"
        "print(make_password('a-long-passphrase'))"
    )
    hashed = subprocess.run(
        [sys.executable, "-c", script],
        env={"DJANGO_SETTINGS_MODULE": "machi.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    algorithm, rounds, _salt, _hash = hashed.split("$")
    assert algorithm == "pbkdf2_sha256"
    assert int(rounds) >= 1_000_000
