"""Low-level codes and processing order for a BOM, with cycle reporting.

An item's low-level code is the deepest level at which it appears in any
BOM (end items are 0). MRP must net an item only after every parent has
released its orders, and processing by low-level code guarantees that.
Codes come from one pass of Kahn's topological sort (linear in items +
BOM lines), relaxing ``code[child] = max(code[child], code[parent] + 1)``.
"""
from __future__ import annotations

from collections import deque

from blocks.mrp.validation import MrpInputError


def low_level_codes(children: list[dict], ids: list[str], edge_line: dict) -> list[int]:
    """Return each item's low-level code; raise ``MrpInputError`` naming a cycle if any."""
    indegree = [0] * len(children)
    for kids in children:
        for child in kids:
            indegree[child] += 1
    codes = [0] * len(children)
    queue = deque(i for i, d in enumerate(indegree) if d == 0)
    seen = 0
    while queue:
        parent = queue.popleft()
        seen += 1
        next_code = codes[parent] + 1
        for child in children[parent]:
            if codes[child] < next_code:
                codes[child] = next_code
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
    if seen < len(children):
        raise MrpInputError(_describe_cycle(children, ids, edge_line, indegree))
    return codes


def processing_order(codes: list[int]) -> list[int]:
    """Return item indexes by low-level code, keeping input order within a level."""
    return sorted(range(len(codes)), key=codes.__getitem__)


def _describe_cycle(children: list[dict], ids: list[str], edge_line: dict,
                    indegree: list[int]) -> str:
    """Spell one cycle among the items Kahn's sort could not place.

    Every unplaced item still has an unplaced parent, so walking from any of
    them to such a parent must revisit an item: that loop is a cycle.
    """
    stuck = {i for i, d in enumerate(indegree) if d > 0}
    parent_of = {}
    for parent, kids in enumerate(children):
        if parent in stuck:
            for child in kids:
                if child in stuck:
                    parent_of.setdefault(child, parent)
    walk, position = [], {}
    node = min(stuck)
    while node not in position:
        position[node] = len(walk)
        walk.append(node)
        node = parent_of[node]
    loop = walk[position[node]:][::-1]            # parent -> child direction
    first = loop.index(min(loop))                 # start at the earliest listed item
    loop = loop[first:] + loop[:first + 1]
    names = " → ".join(ids[i] for i in loop)
    lines = ", ".join(f"bom[{edge_line[(a, b)]}]" for a, b in zip(loop, loop[1:]))
    return f"BOM cycle: {names} ({lines})"
