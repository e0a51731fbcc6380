"""``pokernet models``: the registered models, their Table 2 row and implementation."""

import argparse
from importlib.metadata import version

from pokernet.models import get_entry, list_models


def configure_models(parser: argparse.ArgumentParser) -> None:
    pass


def run_models(args: argparse.Namespace) -> int:
    for name in list_models():
        entry = get_entry(name)
        print(f"{name:24s} {entry.paper_row:26s} {entry.source}")
    print(f"(timm {version('timm')}, torchvision {version('torchvision')})")
    return 0
