"""Rebuilds review/prices/<region>.json from the AWS Price List Query API (boto3 `pricing`).

Every rate of a template table (the region's own file, or another region's for a new one)
names its offer (service code), its usage type and, where one usage type covers several
products, the attributes that pick one (EC2's `operation: RunInstances` is Linux without a
licence). The usage type's region prefix differs per region (`EU-NatGateway-Hours`,
`USW2-NatGateway-Hours`, plain `NatGateway-Hours` in us-east-1), so the query asks for the
region's products whose usage type contains the part after the prefix and keeps the one whose
usage type ends with it. The answer is the documented GetProducts shape: each PriceList item
is one product with its terms, as in the offer files
(https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/reading-service-price-list-file-for-services.html).
Derived rates (Spot) are recomputed from what they derive from. A rate the API does not answer
unambiguously keeps its old figure and is reported.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable, Mapping, Optional, Protocol

from review.prices import PriceTable, Rate

# Usage-type prefixes of the regions whose files can serve as templates. us-east-1 uses none
# for older services (EC2, ELB) and USE1- for newer ones (Fargate).
REGION_PREFIXES = {"us-east-1": ("USE1-",), "eu-west-1": ("EU-",), "us-west-2": ("USW2-",), "eu-central-1": ("EUC1-",)}
PRICE_LIST_REGION = "us-east-1"  # the Price List Query API's own endpoint region
# Keys of a rate's `filters` that select a price dimension (a tier), not a product.
DIMENSION_FILTERS = ("startingRange",)


class PricingClient(Protocol):
    def get_products(self, **params: Any) -> Mapping[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class Refreshed:
    table: PriceTable
    problems: tuple[str, ...]


def usage_suffix(usagetype: str, template_region: str) -> str:
    """The usage type without its region prefix: EU-NatGateway-Hours -> NatGateway-Hours."""
    for prefix in REGION_PREFIXES.get(template_region, ()):
        if usagetype.startswith(prefix):
            return usagetype[len(prefix):]
    return usagetype


def product_filters(rate: Rate, region: str, suffix: str) -> list[dict[str, str]]:
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "CONTAINS", "Field": "usagetype", "Value": suffix},
    ]
    for field, value in sorted((rate.filters or {}).items()):
        if field not in DIMENSION_FILTERS:
            filters.append({"Type": "TERM_MATCH", "Field": field, "Value": value})
    return filters


def price_list(client: PricingClient, service_code: str, filters: list[dict[str, str]]) -> Iterable[dict[str, Any]]:
    """Every PriceList item of the query, across pages, parsed from its JSON text."""
    params: dict[str, Any] = {"ServiceCode": service_code, "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100}
    while True:
        page = client.get_products(**params)
        yield from (json.loads(item) for item in page.get("PriceList", []))
        token = page.get("NextToken")
        if not token:
            return
        params["NextToken"] = token


def matches_usage(usagetype: str, suffix: str) -> bool:
    """NatGateway-Hours, EU-NatGateway-Hours and USW2-NatGateway-Hours all end with the suffix;
    EU-NatGateway-Hours-Extra or EU-SpotNatGateway-Hours do not."""
    if usagetype == suffix:
        return True
    prefix, _, rest = usagetype.partition("-")
    return rest == suffix and prefix.isalnum() and prefix.isupper()


def on_demand_dimension(item: Mapping[str, Any], starting_range: str) -> Optional[Mapping[str, Any]]:
    """The OnDemand price dimension of a product, the tier that starts at `starting_range`."""
    dimensions = [
        dim
        for term in item.get("terms", {}).get("OnDemand", {}).values()
        for dim in term.get("priceDimensions", {}).values()
    ]
    if len(dimensions) > 1:
        dimensions = [dim for dim in dimensions if str(dim.get("beginRange", "0")) == starting_range]
    return dimensions[0] if len(dimensions) == 1 else None


def refresh_rate(client: PricingClient, rate: Rate, region: str, template_region: str, today: str) -> tuple[Rate, Optional[str]]:
    suffix = usage_suffix(rate.usagetype or "", template_region)
    items = [
        item for item in price_list(client, rate.offer, product_filters(rate, region, suffix))
        if matches_usage(item["product"]["attributes"].get("usagetype", ""), suffix)
    ]
    skus = sorted({item["product"]["sku"] for item in items})
    if len(skus) != 1:
        found = f"{len(skus)} products ({', '.join(skus)})" if skus else "no product"
        return rate, f"{rate.key}: {rate.offer} {suffix} in {region}: {found}; kept {rate.usd} from the template"
    item = items[0]
    starting_range = (rate.filters or {}).get("startingRange", "0")
    dimension = on_demand_dimension(item, starting_range)
    if dimension is None:
        return rate, f"{rate.key}: SKU {skus[0]} has no single on-demand price from {starting_range}; kept {rate.usd} from the template"
    published = item.get("publicationDate", "")
    refreshed = dataclasses.replace(
        rate,
        usd=float(dimension["pricePerUnit"]["USD"]),
        usagetype=item["product"]["attributes"]["usagetype"],
        sku=item["product"]["sku"],
        checked=today,
        evidence=f"AWS Price List API GetProducts, {rate.offer} offer version {item.get('version', '?')} published {published}: "
        f"{dimension.get('description', '').strip()}",
    )
    return refreshed, None


def derive(rates: dict[str, Rate], rate: Rate, today: str) -> Rate:
    source = rates[rate.derived["from"]]
    return dataclasses.replace(rate, usd=round(source.usd * float(rate.derived["factor"]), 7), checked=today)


def refresh_table(client: PricingClient, template: PriceTable, region: str, region_name: str, today: str) -> Refreshed:
    rates: dict[str, Rate] = {}
    problems: list[str] = []
    for key, rate in sorted(template.rates.items()):
        if rate.derived or not rate.usagetype:
            continue
        rates[key], problem = refresh_rate(client, rate, region, template.region, today)
        if problem:
            problems.append(problem)
    for key, rate in sorted(template.rates.items()):
        if rate.derived:
            rates[key] = derive(rates, rate, today)
        elif not rate.usagetype:
            rates[key] = rate  # a page-only figure the Price List does not carry (its note says why): kept as is
    table = dataclasses.replace(template, region=region, region_name=region_name, as_of=today, rates=rates)
    return Refreshed(table, tuple(problems))


def region_name(client: Any, region: str) -> str:
    """The Price List's location name of a region (EU (Ireland)), from any of its products."""
    for item in price_list(client, "AmazonEC2", [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                                                 {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "NAT Gateway"}]):
        return item["product"]["attributes"].get("location", region)
    return region


def pricing_client() -> Optional[Any]:
    """boto3's pricing client, or None when no AWS credentials are configured."""
    import boto3

    session = boto3.Session()
    if session.get_credentials() is None:
        return None
    return session.client("pricing", region_name=PRICE_LIST_REGION)
