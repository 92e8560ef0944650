"""AWS list prices shipped as data: one JSON file per region, every rate with its provenance.

Each rate names the Price List offer (service code) and usage type it comes from, its SKU where
known, the public pricing page, the date it was checked and, where a figure was confirmed
beyond the page, the evidence. `python3 run.py prices refresh REGION` rebuilds a file from the
AWS Price List API (review/prices/refresh.py). Spot rates are `derived` from on-demand ones:
Spot prices float, so they are typical figures, not quotes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

PRICES_DIR = Path(__file__).resolve().parent
# What every rate must say about where it comes from (tests/review/test_prices.py holds every
# shipped file to it).
PROVENANCE_KEYS = ("usd", "unit", "offer", "usagetype", "sku", "page", "checked")


class UnknownRegion(LookupError):
    pass


@dataclass(frozen=True)
class Rate:
    key: str
    usd: float
    unit: str
    offer: str  # the Price List service code (AmazonECS, AmazonEC2, ...)
    usagetype: Optional[str]  # None for a derived rate
    sku: Optional[str]
    page: str
    checked: str
    evidence: Optional[str] = None
    note: Optional[str] = None
    filters: Optional[Mapping[str, str]] = None  # extra Price List attributes that pick one product
    derived: Optional[Mapping[str, Any]] = None  # {"from": key, "factor": x}

    @classmethod
    def from_json(cls, key: str, entry: Mapping[str, Any]) -> "Rate":
        fields = {name: entry.get(name) for name in cls.__dataclass_fields__ if name != "key"}
        return cls(key=key, **fields)

    def to_json(self) -> dict[str, Any]:
        entry = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "key"}
        return {name: value for name, value in entry.items() if value is not None or name in PROVENANCE_KEYS}

    def source(self) -> str:
        """One line a reader can follow back to AWS."""
        ident = f"{self.offer} {self.usagetype}" if self.usagetype else f"{self.offer} (derived)"
        sku = f" SKU {self.sku}" if self.sku else ""
        return f"{ident}{sku}, {self.page}, checked {self.checked}"


@dataclass(frozen=True)
class PriceTable:
    region: str
    region_name: str
    currency: str
    as_of: str
    kind: str
    verification: str
    rates: Mapping[str, Rate]

    def price(self, key: str) -> float:
        return self.rates[key].usd

    def get(self, key: str) -> Optional[float]:
        rate = self.rates.get(key)
        return None if rate is None else rate.usd

    def fargate(self, architecture: str, spot: bool = False) -> tuple[float, float]:
        """(USD per vCPU-hour, USD per GB-hour) for the Fargate runtime architecture."""
        kind = "fargate_spot" if spot else "fargate"
        return self.price(f"{kind}_vcpu_hour.{architecture}"), self.price(f"{kind}_gb_hour.{architecture}")

    def instance_hour(self, instance_type: str) -> Optional[float]:
        return self.get(f"ec2.{instance_type}")

    @property
    def citation(self) -> str:
        return f"AWS list prices for {self.region} ({self.region_name}) as of {self.as_of}, in {self.currency}"

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region, "region_name": self.region_name, "currency": self.currency, "as_of": self.as_of,
            "kind": self.kind, "verification": self.verification,
            "rates": {key: rate.to_json() for key, rate in sorted(self.rates.items())},
        }


def available_regions() -> list[str]:
    return sorted(path.stem for path in PRICES_DIR.glob("*.json"))


def table_path(region: str) -> Path:
    return PRICES_DIR / f"{region}.json"


def parse_table(data: Mapping[str, Any]) -> PriceTable:
    rates = {key: Rate.from_json(key, entry) for key, entry in data["rates"].items()}
    header = {key: data[key] for key in PriceTable.__dataclass_fields__ if key != "rates"}
    return PriceTable(rates=rates, **header)


def load_prices(region: str) -> PriceTable:
    path = table_path(region)
    if not path.is_file():
        raise UnknownRegion(
            f"no price table for {region}; shipped: {', '.join(available_regions())} "
            f"(run `python3 run.py prices refresh {region}` with AWS credentials, or add review/prices/{region}.json)"
        )
    return parse_table(json.loads(path.read_text()))
