"""python -m machi: the same as the `machi` command."""

from machi.cli import main

main()
