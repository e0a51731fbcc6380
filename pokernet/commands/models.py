import argparse

from pokernet.models import get_entry, list_models


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    for name in list_models():
        entry = get_entry(name)
        print(f"{name:24s} {entry.paper_row:26s} {entry.source}")
    return 0
