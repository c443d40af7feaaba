"""Turn a scaled result (int millionths) back into float quantities.

Only plans with a fractional quantity are scaled (see ``validation``). The
engine's ints are exact; dividing by the scale once at the end gives the
float nearest to each 6-decimal value (int / int division is correctly
rounded), so 0.3 comes out as 0.3, not 0.30000000000000004. Zeros become
one shared 0.0 object, which keeps mostly-zero arrays small.
"""
from __future__ import annotations

ARRAYS = ("gross", "scheduled_receipts", "projected_on_hand", "net", "planned_receipts",
          "planned_releases")
EXCEPTION_QUANTITIES = ("qty", "projected_on_hand", "safety_stock")


def to_output_units(result: dict, scale: int) -> dict:
    """Divide the item arrays and exception quantities by ``scale`` in place.

    Pegging is converted by ``pegging.repack`` while it is copied anyway.
    """
    for row in result["items"].values():
        for key in ARRAYS:
            row[key] = [v / scale if v else 0.0 for v in row[key]]
    for entry in result["exceptions"]:
        for key in EXCEPTION_QUANTITIES:
            if key in entry:
                entry[key] /= scale
    return result
