"""AWS list prices shipped as data: one JSON file per region, each with its date and sources.

The figures are public on-demand list prices as of the file's `as_of` date, transcribed from
the AWS pricing pages each file names (the build machines cannot reach AWS). Spot discounts
are not list prices; they are assumptions of the estimate (review/cost.py, Assumptions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

PRICES_DIR = Path(__file__).resolve().parent


class UnknownRegion(LookupError):
    pass


@dataclass(frozen=True)
class PriceTable:
    region: str
    region_name: str
    currency: str
    as_of: str
    kind: str
    sources: Mapping[str, str]
    verification: str
    prices: Mapping[str, Any]

    def price(self, key: str) -> float:
        return float(self.prices[key])

    def fargate(self, architecture: str) -> tuple[float, float]:
        """(USD per vCPU-hour, USD per GB-hour) for the Fargate runtime architecture."""
        return float(self.prices["fargate_vcpu_hour"][architecture]), float(self.prices["fargate_gb_hour"][architecture])

    def instance_hour(self, instance_type: str) -> float | None:
        value = self.prices["ec2_instance_hour"].get(instance_type)
        return None if value is None else float(value)

    @property
    def citation(self) -> str:
        return f"AWS list prices for {self.region} ({self.region_name}) as of {self.as_of}, in {self.currency}"


def available_regions() -> list[str]:
    return sorted(path.stem for path in PRICES_DIR.glob("*.json"))


def load_prices(region: str) -> PriceTable:
    path = PRICES_DIR / f"{region}.json"
    if not path.is_file():
        raise UnknownRegion(
            f"no price table for {region}; shipped: {', '.join(available_regions())} "
            f"(add review/prices/{region}.json with its as_of date and sources)"
        )
    data = json.loads(path.read_text())
    return PriceTable(**{key: data[key] for key in PriceTable.__dataclass_fields__})
