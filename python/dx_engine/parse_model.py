"""``python3 -m dx_engine.parse_model -m MODEL``: prints what ActorRT knows
of a model (tensors, sizes, operators, which backend runs it), as DX-RT's
parse_model does."""
import argparse
import os
import sys
from typing import List, Optional

from .utils import parse_model


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m dx_engine.parse_model",
                                description="Describe a model")
    p.add_argument("-m", "--model", required=True, help="model path")
    args = p.parse_args(argv)
    if not os.path.exists(args.model):
        p.error(f"Model path '{args.model}' does not exist.")
    return parse_model(args.model)


if __name__ == "__main__":
    sys.exit(main())
