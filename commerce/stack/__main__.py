import argparse
import sys

from commerce import stack
from commerce.stack.base import ServiceError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commerce.stack", description=stack.__doc__)
    parser.add_argument("action", choices=["up", "status", "down"])
    parser.add_argument("services", nargs="*", help="temporal, cassandra, elasticsearch (default: all)")
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            stack.up(args.services)
        elif args.action == "status":
            return 0 if stack.status(args.services) else 1
        else:
            stack.down(args.services)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
