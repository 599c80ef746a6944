"""The sections the elementwise families' docstrings share, as PyTorch's ``_torch_docs.py`` shares its
common arguments: the factories (``unary_op``, ``binary_op``, the logical and bitwise families) give each op
its one-line summary followed by the Shape, Raises and PyTorch sections every member of the family has.

A declaration with more to say (a dtype it refuses, a result of another dtype) writes its own ``Shape:`` or
``Raises:`` section into its ``doc``: its Shape replaces the family's, its Raises lines replace the family's
for the same exception class and come first.
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"\n\s*(Shape|Raises):\n", re.M)

UNARY_INPUT = "input: ``(*)``, any number of dimensions, any dtype."
SAME_DTYPE = "output: ``(*)``, the shape and dtype of ``input``."
INT_TO_FLOAT = ("output: ``(*)``, the shape of ``input``; floating inputs keep their dtype, integer and bool ones "
                "give the default float dtype.")
NOT_A_TENSOR = "TypeError: ``input`` is not a Tensor."
BROADCAST_INPUTS = "input, other: tensors (or one a Python number) whose shapes broadcast together."
PROMOTED = "output: the broadcast shape, in the promoted dtype (PyTorch's type promotion)."
FLOAT_RESULT = "output: the broadcast shape, in the promoted dtype; integer and bool operands give the default float."
BINARY_RAISES = ("TypeError: neither operand is a Tensor, or one is neither a Tensor nor a number.",
                 "ShapeError: the shapes do not broadcast.",
                 "DeviceError: the tensors are on different devices.")


def _split(doc: str) -> tuple[str, dict[str, list[str]]]:
    """``doc``'s summary, and the lines of the Shape/Raises sections it writes itself."""
    parts = _SECTION.split(doc)
    summary, sections = parts[0].strip(), {}
    for name, body in zip(parts[1::2], parts[2::2]):
        sections[name] = [line.strip() for line in body.strip().splitlines() if line.strip()]
    return summary, sections


def compose(doc: str, shape, raises, torch: str) -> str:
    """``doc``'s summary, then Shape (``doc``'s own, else ``shape``), Raises (``doc``'s lines, then
    ``raises``) and the PyTorch line."""
    summary, own = _split(doc)
    shape_lines = own.get("Shape") or [f"- {line}" for line in shape]
    refused = " ".join(own.get("Raises", []))
    if "Shape" not in own and "``input`` is a bool tensor" in refused:  # the family's "any dtype" narrows
        shape_lines[0] = shape_lines[0].replace("any dtype", "any dtype but bool")
    elif "Shape" not in own and "``input`` is not floating point" in refused:
        shape_lines[0] = shape_lines[0].replace("any dtype", "floating point")
    own_classes = {line.split(":")[0] for line in own.get("Raises", [])}
    raise_lines = own.get("Raises", []) + [line for line in raises if line.split(":")[0] not in own_classes]
    indent = "\n    "
    return (f"{summary}\n\nShape:{indent}{indent.join(shape_lines)}\n\n"
            f"Raises:{indent}{indent.join(raise_lines)}\n\nPyTorch: ``{torch}``.")


def unary_doc(doc: str, name: str, int_to_float: bool) -> str:
    """The docstring of a one-operand elementwise op declared with ``unary_op``."""
    return compose(doc, (UNARY_INPUT, INT_TO_FLOAT if int_to_float else SAME_DTYPE), (NOT_A_TENSOR,),
                   f"torch.{name}")


TENSOR_INPUTS = "input, other: tensors whose shapes broadcast together (a Python number is refused, as in PyTorch)."
TENSORS_ONLY_RAISES = ("TypeError: an operand is not a Tensor.",) + BINARY_RAISES[1:]


def binary_doc(doc: str, name: str, float_result: bool = False, bool_result: bool = False,
               tensors_only: bool = False) -> str:
    """The docstring of a two-operand elementwise op (``binary_op``, the logical and bitwise families)."""
    output = ("output: the broadcast shape, bool." if bool_result else FLOAT_RESULT if float_result else PROMOTED)
    if tensors_only:
        return compose(doc, (TENSOR_INPUTS, output), TENSORS_ONLY_RAISES, f"torch.{name}")
    return compose(doc, (BROADCAST_INPUTS, output), BINARY_RAISES, f"torch.{name}")
