"""``ember.utils._pytree``: flatten and rebuild nested lists, tuples, dicts and namedtuples of leaves
(``torch.utils._pytree``'s ``tree_flatten``, ``tree_unflatten``, ``tree_map``, ``tree_leaves``)."""

from __future__ import annotations

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "TreeSpec", "LeafSpec"]


class TreeSpec:
    """The structure of a tree: a node type, its context (dict keys, namedtuple class) and child specs."""

    def __init__(self, type_, context, children):
        self.type, self.context, self.children_specs = type_, context, children
        self.num_leaves = sum(c.num_leaves for c in children)

    def __repr__(self) -> str:
        return f"TreeSpec({self.type.__name__}, {self.context!r}, {self.children_specs!r})"


class LeafSpec(TreeSpec):
    def __init__(self):
        self.type, self.context, self.children_specs, self.num_leaves = None, None, [], 1

    def __repr__(self) -> str:
        return "*"


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def tree_flatten(tree):
    """(leaves, spec): the leaves in order and the structure to rebuild the tree from them."""
    if isinstance(tree, dict):
        keys = list(tree)
        flat = [tree_flatten(tree[k]) for k in keys]
        return [x for f in flat for x in f[0]], TreeSpec(type(tree), keys, [f[1] for f in flat])
    if _is_namedtuple(tree) or isinstance(tree, (list, tuple)):
        flat = [tree_flatten(x) for x in tree]
        context = type(tree) if _is_namedtuple(tree) else None
        return [x for f in flat for x in f[0]], TreeSpec(type(tree), context, [f[1] for f in flat])
    return [tree], LeafSpec()


def tree_unflatten(leaves, spec):
    """The tree of ``spec``'s structure holding ``leaves``."""
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"tree_unflatten: expected {spec.num_leaves} leaves, got {len(leaves)}")
    return _build(iter(leaves), spec)


def _build(it, spec):
    if isinstance(spec, LeafSpec):
        return next(it)
    children = [_build(it, c) for c in spec.children_specs]
    if issubclass(spec.type, dict):
        return spec.type(zip(spec.context, children))
    if spec.context is not None:  # namedtuple
        return spec.context(*children)
    return spec.type(children)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_map(fn, tree, *rests):
    """``fn`` applied to each leaf (and the matching leaves of ``rests``), structure kept."""
    leaves, spec = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rests]
    return tree_unflatten([fn(x, *xs) for x, *xs in zip(leaves, *others)], spec)
