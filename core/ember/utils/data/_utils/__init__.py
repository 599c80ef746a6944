"""``torch.utils.data._utils``'s place, for code that imports collation from there
(``from torch.utils.data._utils.collate import default_collate``)."""

from . import collate  # noqa: F401

__all__ = ["collate"]
