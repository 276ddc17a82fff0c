"""Which field's value depends on which: the order computed fields and visibility are evaluated
in (not the file's order), and the cycles a definition may not hold.

A field depends on the names of its `show_if`, of its section's and enclosing groups' `show_if`,
and, when computed, of its expression or its algorithm's inputs. A repeatable group depends on
what its lines' `show_if` and computed members read outside the line.
"""
from __future__ import annotations

import ast

from . import expressions
from .algorithms import REGISTRY


def names(source) -> set[str]:
    """Field names an expression reads (none when it does not parse: `check` reports that)."""
    if not source:
        return set()
    try:
        tree = expressions.parse(source)
    except expressions.ExpressionError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(expressions.FUNCTIONS)


def own_sources(field: dict) -> set[str]:
    """What a field's value is made of (computed) or shown on (show_if), itself excluded."""
    found = names(field.get("show_if"))
    if field.get("type") == "computed":
        if field.get("algorithm"):
            algorithm = REGISTRY.get(field["algorithm"])
            found |= set(algorithm.inputs) if algorithm else set()
        else:
            found |= names(field.get("expression"))
    return found


def layout(items, section, ancestors=()):
    """(field, section, enclosing groups) for the fields answered at this level: a repeatable
    group is one field here (its members live in its lines)."""
    for item in items or []:
        yield item, section, ancestors
        if item.get("type") == "group" and not item.get("repeat"):
            yield from layout(item.get("items"), section, ancestors + (item,))


def top_level(definition: dict) -> list[tuple[dict, dict, tuple]]:
    found = []
    for section in definition.get("sections") or []:
        found.extend(layout(section.get("items"), section))
    return found


def _member_sources(group: dict) -> set[str]:
    inside = {m["code"] for m, _s, _a in layout(group.get("items"), None)}
    return set().union(*(own_sources(m) for m in inside_fields(group))) - inside


def inside_fields(group: dict) -> list[dict]:
    return [m for m, _s, _a in layout(group.get("items"), None)]


def graph(entries) -> dict[str, set[str]]:
    """{code: codes it depends on}, among the codes of `entries` (field, section, ancestors)."""
    known = {f["code"] for f, _s, _a in entries}
    edges = {}
    for field, section, ancestors in entries:
        deps = own_sources(field)
        if section is not None:
            deps |= names(section.get("show_if"))
        for group in ancestors:
            deps |= names(group.get("show_if"))
        if field.get("type") == "group" and field.get("repeat"):
            deps |= _member_sources(field)
        edges[field["code"]] = deps & known
    return edges


def order(entries) -> list:
    """`entries` sorted so that each comes after what it depends on, file order otherwise kept
    (a cycle, refused at save, leaves its fields in file order at the end)."""
    edges = graph(entries)
    done, placed, remaining = set(), [], list(entries)
    progress = True
    while remaining and progress:
        progress = False
        for entry in list(remaining):
            if edges[entry[0]["code"]] - {entry[0]["code"]} <= done:  # (a self-reference: refused at save)
                placed.append(entry)
                done.add(entry[0]["code"])
                remaining.remove(entry)
                progress = True
                break  # restart from the top: the earliest field whose sources are ready goes first
    return placed + remaining


def cycles(entries) -> list[list[str]]:
    """The fields of each dependency cycle (strongly connected components of more than one
    field, or a field reading itself), in file order; Tarjan's algorithm, without recursion."""
    edges = graph(entries)
    position = {code: i for i, code in enumerate(edges)}
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component, key=position.get))
    return sorted(found, key=lambda c: position[c[0]])
