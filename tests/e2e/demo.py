"""``make demo``: a whole CLIKOPRO Secure mission against a running ``make run``.

    make run              # in one terminal
    make demo             # in another: sign-up to the last release, step by step

Options: ``DEMO_ARGS="--gateway http://127.0.0.1:8080 --stripe http://127.0.0.1:8420"``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from secure_story import RoutesMissing, Story, StoryError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--stripe", default="http://127.0.0.1:8420", help="the Stripe emulator of make run")
    parser.add_argument(
        "--card", default="pm_card_visa", help="test card (payment method) the client pays with"
    )
    args = parser.parse_args(argv)
    story = Story(args.gateway.rstrip("/"), args.stripe.rstrip("/"), say=lambda line: print(line, flush=True))
    try:
        story.http.get(f"{story.gateway}/ready", timeout=3).raise_for_status()
    except Exception as exc:  # noqa: BLE001
        print(
            f"The platform does not answer at {story.gateway} ({exc}): start it with `make run`.",
            file=sys.stderr,
        )
        return 2
    print(f"CLIKOPRO demo against {story.gateway} (Stripe emulator {story.stripe_url})\n", flush=True)
    try:
        story.play(card=args.card)
    except RoutesMissing as exc:
        print(
            f"\nNot playable yet: {exc}\n(the missions and identity issues bring these routes)",
            file=sys.stderr,
        )
        return 3
    except StoryError as exc:
        print(f"\nThe story stopped: {exc}", file=sys.stderr)
        return 1
    print("\nDone: every task released, released + commission = paid, to the cent.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
