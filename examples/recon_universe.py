"""Write a generated universe table for ``capscope recon run`` (no real company data).

The table is calibrated to the published 2024 Russell figures (breakpoint $4.6 B, smallest Russell 3000 company
$150.4 M, Russell 3000 total $53.0 T; see capscope.analytics.reconstitution.synthetic), with last year's
membership and styles in ``current_index`` / ``current_style`` and a made-up average daily volume.

    python examples/recon_universe.py recon_universe.csv            # CSV
    python examples/recon_universe.py recon_universe.parquet --seed 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

from capscope.analytics.reconstitution.synthetic import synthetic_universe


def main() -> None:
    """Parse the arguments and write the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="output file (.csv or .parquet)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same table)")
    parser.add_argument("--companies", type=int, default=4600, help="eligible companies (>= 3000)")
    args = parser.parse_args()
    table = synthetic_universe(args.companies, seed=args.seed)
    if args.out.suffix.lower() == ".parquet":
        table.write_parquet(args.out)
    else:
        table.write_csv(args.out)
    print(f"wrote {table.height:,} securities to {args.out}")


if __name__ == "__main__":
    main()
