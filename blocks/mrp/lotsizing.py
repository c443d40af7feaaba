"""Lot sizing: how much to receive once a period shows a net requirement.

Rules (``net`` > 0 is the net requirement of period ``i``):

* L4L: receive exactly ``net``.
* FOQ (qty Q): receive Q × ⌈net / Q⌉, i.e. whole lots of Q.
* POQ (periods P): receive the gross of periods i..i+P-1, minus the
  scheduled receipts of i+1..i+P-1, plus safety stock, minus what is
  available in i. When later scheduled receipts in the window exceed the
  later gross, that formula falls below ``net`` and would leave stock under
  safety stock; the receipt is then ``net`` instead.

Every result is then raised to ``min_qty`` and rounded up to a multiple of
``multiple`` (0 means 'no minimum' / 'no rounding').

All quantities are ints here (fractional plans arrive scaled to millionths,
see ``validation``), so ⌈⌉ is exact integer arithmetic.
"""
from __future__ import annotations

from typing import Callable


def ceil_to_multiple(qty: int, step: int) -> int:
    """Return the smallest multiple of ``step`` (> 0) that is ≥ ``qty``."""
    return -(-qty // step) * step


def make_sizer(lot: tuple, min_qty: int, multiple: int, gross: list, receipts: list,
               safety: int) -> Callable[[int, int, int], int]:
    """Return ``size(i, net, available) -> receipt qty`` for one item's arrays."""
    rule, param = lot
    if rule == "FOQ":
        def base(i, net, available):
            return -(-net // param) * param
    elif rule == "POQ":
        def base(i, net, available):
            end = i + param
            qty = sum(gross[i:end]) - sum(receipts[i + 1:end]) + safety - available
            return qty if qty > net else net
    else:
        def base(i, net, available):
            return net
    if not min_qty and not multiple:
        return base
    return _with_minimum_and_multiple(base, min_qty, multiple)


def _with_minimum_and_multiple(base: Callable, min_qty: int, multiple: int) -> Callable:
    """Wrap a sizing rule so results are ≥ ``min_qty`` and multiples of ``multiple``."""
    def size(i, net, available):
        qty = base(i, net, available)
        if qty < min_qty:
            qty = min_qty
        if multiple:
            qty = ceil_to_multiple(qty, multiple)
        return qty
    return size
