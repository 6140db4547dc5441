"""The scope catalogue: the standard managed-service items, with stable ids.

Loaded from data/scope-catalog.json. An agreement states each item's scope
state; an item no agreement in force mentions is "not addressed", which is
itself a finding when the item is security-relevant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from .paths import DATA_DIR


@dataclass(frozen=True)
class CatalogItem:
    id: str
    category: str
    label: str
    default_owner: str
    security_relevant: bool
    cis_v8: tuple[int, ...] = ()

    def description(self) -> str:
        """What the catalogue records about the item besides its label, in words."""
        owner = {"msp": "usually the MSP's", "client": "usually the client's", "shared": "usually shared"}.get(
            self.default_owner, f"usually {self.default_owner}'s")
        parts = [self.category, "security-relevant" if self.security_relevant else "not security-relevant", owner]
        if self.cis_v8:
            parts.append("CIS Controls v8 " + ", ".join(str(n) for n in self.cis_v8))
        return "; ".join(parts)


@dataclass(frozen=True)
class Catalog:
    version: str
    items: dict[str, CatalogItem]

    def label(self, item_id: str) -> str:
        item = self.items.get(item_id)
        return item.label if item else item_id

    def security_items(self) -> list[CatalogItem]:
        return [i for i in self.items.values() if i.security_relevant]


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    raw = json.loads((DATA_DIR / "scope-catalog.json").read_text(encoding="utf-8"))
    security = set(raw.get("security_relevant_categories", []))
    items = {
        i["id"]: CatalogItem(i["id"], i["category"], i["label"], i.get("default_owner", "msp"), i["category"] in security,
                             tuple(i.get("cis_v8", ())))
        for i in raw["items"]
    }
    return Catalog(raw.get("catalog_version", "?"), items)
