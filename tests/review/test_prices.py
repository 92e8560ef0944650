"""The shipped price tables (provenance of every rate, pinned rates per region) and
`prices refresh`, driven by recorded offer files in the documented Price List format."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator

from configs.instance_types import instance_types
from review.prices import PROVENANCE_KEYS, Rate, available_regions, load_prices, parse_table
from review.prices import __main__ as prices_cli
from review.prices.refresh import matches_usage, refresh_table, usage_suffix

OFFERS = Path(__file__).resolve().parent / "fixtures" / "offers"
OFFER_CODES = {"AmazonECS", "AmazonEC2", "AmazonVPC", "AWSELB", "AWSDataTransfer", "AmazonCloudWatch", "AmazonECR",
               "AWSSecretsManager", "awskms", "AmazonEFS", "AWSStepFunctions", "AWSEvents"}


# ---- the shipped tables -------------------------------------------------------------------------


@pytest.mark.parametrize("region", available_regions())
def test_every_rate_says_where_it_comes_from(region):
    raw = json.loads((Path(__file__).resolve().parents[2] / "review" / "prices" / f"{region}.json").read_text())
    for key, entry in raw["rates"].items():
        assert set(PROVENANCE_KEYS) <= set(entry), f"{region} {key} lacks {set(PROVENANCE_KEYS) - set(entry)}"
        assert entry["usd"] > 0, key
        assert entry["offer"] in OFFER_CODES, key
        assert entry["page"].startswith("https://aws.amazon.com/"), key
        datetime.date.fromisoformat(entry["checked"])
        assert entry["usagetype"] or entry.get("derived") or entry.get("note"), f"{region} {key}: no usage type, derivation or note"


@pytest.mark.parametrize("region", available_regions())
def test_derived_spot_rates_follow_their_on_demand_rate(region):
    table = load_prices(region)
    derived = {key: rate for key, rate in table.rates.items() if rate.derived}
    assert sorted(derived) == [f"fargate_spot_{dim}.{arch}" for dim in ("gb_hour", "vcpu_hour") for arch in ("arm64", "x86_64")]
    for rate in derived.values():
        assert rate.usd == round(table.price(rate.derived["from"]) * rate.derived["factor"], 7)


@pytest.mark.parametrize(
    ("region", "key", "usd", "usagetype", "sku"),
    [
        ("eu-west-1", "fargate_vcpu_hour.x86_64", 0.04048, "EU-Fargate-vCPU-Hours:perCPU", "K4EXFQ5YFQCP98EN"),
        ("eu-west-1", "fargate_gb_hour.x86_64", 0.004445, "EU-Fargate-GB-Hours", "UP5ETC3QSW2QZGEY"),
        ("eu-west-1", "fargate_vcpu_hour.arm64", 0.03238, "EU-Fargate-ARM-vCPU-Hours:perCPU", "KXC9CEUQGJQPNZPY"),
        ("eu-west-1", "fargate_gb_hour.arm64", 0.00356, "EU-Fargate-ARM-GB-Hours", "MGJ5EB5GSHR8QZDF"),
        ("eu-west-1", "ecr_storage_gb_month", 0.10, "EU-TimedStorage-ByteHrs", "4NWTEXUZBWQH8MDW"),
        ("eu-west-1", "ec2.m6i.large", 0.107, "EU-BoxUsage:m6i.large", None),
        ("eu-west-1", "ec2.c6i.large", 0.096, "EU-BoxUsage:c6i.large", None),
        ("eu-west-1", "alb_hour", 0.0252, "EU-LoadBalancerUsage", None),
        ("us-east-1", "fargate_vcpu_hour.x86_64", 0.04048, "USE1-Fargate-vCPU-Hours:perCPU", None),
        ("us-east-1", "ec2.m6i.large", 0.096, "BoxUsage:m6i.large", None),
        ("us-east-1", "nat_gateway_hour", 0.045, "NatGateway-Hours", None),
        ("us-west-2", "nat_gateway_gb", 0.045, "USW2-NatGateway-Bytes", None),
        ("us-west-2", "ec2.g5.xlarge", 1.006, "USW2-BoxUsage:g5.xlarge", None),
    ],
)
def test_pinned_rates(region, key, usd, usagetype, sku):
    rate = load_prices(region).rates[key]
    assert (rate.usd, rate.usagetype, rate.sku) == (usd, usagetype, sku)


def test_eu_west_1_c6i_large_is_no_longer_a_copy_of_t3_large():
    table = load_prices("eu-west-1")
    assert table.instance_hour("c6i.large") != table.instance_hour("t3.large")


@pytest.mark.parametrize("region", available_regions())
def test_every_instance_type_of_the_shared_table_has_a_price(region):
    table = load_prices(region)
    unpriced = {name for name in instance_types() if table.instance_hour(name) is None}
    not_offered = {"eu-west-1": {"g6.xlarge", "g6.2xlarge"}}.get(region, set())
    assert unpriced == not_offered


def test_a_rate_round_trips_through_its_json():
    rate = load_prices("eu-west-1").rates["ec2.m6i.large"]
    assert Rate.from_json(rate.key, rate.to_json()) == rate
    assert rate.source() == "AmazonEC2 EU-BoxUsage:m6i.large, https://aws.amazon.com/ec2/pricing/on-demand/, checked 2026-11-27"


# ---- refresh from the Price List API -------------------------------------------------------------

_MODEL = botocore.session.get_session().get_service_model("pricing")


class OfferFileClient:
    """Answers GetProducts from recorded offer files as the Price List Query API documents it: each
    PriceList item is the JSON text of one product with its terms. Requests are validated
    against botocore's model of the API; one item per page, so paging is exercised."""

    def __init__(self, *offer_codes: str):
        self.offers = {code: json.loads((OFFERS / f"{code}.json").read_text()) for code in offer_codes}
        self.requests: list[dict] = []

    def get_products(self, **params):
        report = ParamValidator().validate(params, _MODEL.operation_model("GetProducts").input_shape)
        assert not report.has_errors(), report.generate_report()
        self.requests.append(params)
        offer = self.offers.get(params["ServiceCode"], {"products": {}, "terms": {}})
        skus = [sku for sku, product in sorted(offer["products"].items()) if all(self._matches(product, f) for f in params["Filters"])]
        start = int(params.get("NextToken", "0"))
        page = [self._item(offer, sku) for sku in skus[start:start + 1]]
        answer = {"FormatVersion": "aws_v1", "PriceList": page}
        if start + 1 < len(skus):
            answer["NextToken"] = str(start + 1)
        return answer

    @staticmethod
    def _matches(product, rule) -> bool:
        value = product["productFamily"] if rule["Field"] == "productFamily" else product["attributes"].get(rule["Field"])
        if value is None:
            return False
        return rule["Value"] in value if rule["Type"] == "CONTAINS" else value == rule["Value"]

    @staticmethod
    def _item(offer, sku) -> str:
        # An offer file nests terms by SKU, then by SKU.offerTermCode; a GetProducts item holds
        # one product, so its terms start at SKU.offerTermCode.
        terms = {kind: by_sku[sku] for kind, by_sku in offer["terms"].items() if sku in by_sku}
        return json.dumps({"product": offer["products"][sku], "serviceCode": offer["offerCode"], "terms": terms,
                           "version": offer["version"], "publicationDate": offer["publicationDate"]})


def template(*keys: str):
    table = load_prices("eu-west-1")
    return dataclasses.replace(table, rates={key: table.rates[key] for key in keys})


def test_refresh_reads_each_rate_from_its_product_and_on_demand_term():
    client = OfferFileClient("AmazonECS", "AmazonEC2", "AmazonVPC")
    keys = ("fargate_vcpu_hour.x86_64", "fargate_spot_vcpu_hour.x86_64", "ec2.m6i.large", "nat_gateway_hour", "interface_endpoint_gb", "alb_hour")
    result = refresh_table(client, template(*keys), "eu-west-1", "EU (Ireland)", "2026-12-01")
    rates = result.table.rates
    assert {key: (rates[key].usd, rates[key].sku, rates[key].checked) for key in keys} == {
        "fargate_vcpu_hour.x86_64": (0.04048, "TESTFGVCPUEU0001", "2026-12-01"),
        "fargate_spot_vcpu_hour.x86_64": (0.012144, None, "2026-12-01"),  # derived: 0.04048 x 0.3
        "ec2.m6i.large": (0.107, "TESTM6ILINUX0001", "2026-12-01"),  # Linux, not Windows, not the reserved term
        "nat_gateway_hour": (0.049, "TESTNATHOUREU004", "2026-12-01"),
        "interface_endpoint_gb": (0.011, "TESTVPCEBYTES001", "2026-12-01"),  # the tier from 0
        "alb_hour": (0.0252, None, "2026-11-27"),  # not answered: kept
    }
    assert rates["nat_gateway_hour"].evidence == (
        "AWS Price List API GetProducts, AmazonEC2 offer version 20261102000000 published 2026-11-02T00:00:00Z: $0.049 per NAT Gateway Hour"
    )
    assert result.problems == ("alb_hour: AWSELB LoadBalancerUsage in eu-west-1: no product; kept 0.0252 from the template",)
    assert result.table.as_of == "2026-12-01"
    ec2_query = next(r for r in client.requests if r["ServiceCode"] == "AmazonEC2" and "NextToken" not in r)
    assert ec2_query["Filters"] == [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
        {"Type": "CONTAINS", "Field": "usagetype", "Value": "BoxUsage:m6i.large"},
        {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
        {"Type": "TERM_MATCH", "Field": "operation", "Value": "RunInstances"},
        {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
        {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
    ]


def test_refresh_builds_another_region_from_a_template():
    client = OfferFileClient("AmazonECS", "AmazonEC2")
    result = refresh_table(client, template("fargate_vcpu_hour.x86_64", "nat_gateway_hour", "ec2.m6i.large"), "us-west-2", "US West (Oregon)", "2026-12-01")
    rates = result.table.rates
    assert (result.table.region, result.table.region_name) == ("us-west-2", "US West (Oregon)")
    assert (rates["fargate_vcpu_hour.x86_64"].usagetype, rates["fargate_vcpu_hour.x86_64"].sku) == ("USW2-Fargate-vCPU-Hours:perCPU", "TESTFGVCPUUSW203")
    assert (rates["nat_gateway_hour"].usd, rates["nat_gateway_hour"].usagetype) == (0.045, "USW2-NatGateway-Hours")
    assert result.problems == ("ec2.m6i.large: AmazonEC2 BoxUsage:m6i.large in us-west-2: no product; kept 0.107 from the template",)


def test_refresh_keeps_page_only_rates_as_they_are():
    table = template("kms_rotation_month", "nat_gateway_hour")
    result = refresh_table(OfferFileClient("AmazonEC2"), table, "eu-west-1", "EU (Ireland)", "2026-12-01")
    assert result.table.rates["kms_rotation_month"] == table.rates["kms_rotation_month"]
    assert result.problems == ()


def test_refresh_refuses_an_ambiguous_answer():
    table = template("ec2.m6i.large")
    loose = dataclasses.replace(table.rates["ec2.m6i.large"], filters=None)  # Windows and Linux both match
    result = refresh_table(OfferFileClient("AmazonEC2"), dataclasses.replace(table, rates={"ec2.m6i.large": loose}), "eu-west-1", "EU (Ireland)", "2026-12-01")
    assert result.problems == ("ec2.m6i.large: AmazonEC2 BoxUsage:m6i.large in eu-west-1: 2 products (TESTM6ILINUX0001, TESTM6IWINDOWS02); kept 0.107 from the template",)


@pytest.mark.parametrize(
    ("usagetype", "suffix", "expected"),
    [("NatGateway-Hours", "NatGateway-Hours", True), ("EU-NatGateway-Hours", "NatGateway-Hours", True),
     ("USW2-NatGateway-Hours", "NatGateway-Hours", True), ("EU-NatGateway-Hours-Extra", "NatGateway-Hours", False),
     ("EU-Fargate-Windows-vCPU-Hours:perCPU", "Fargate-vCPU-Hours:perCPU", False), ("KMS-Keys", "KMS-Keys", True)],
)
def test_matches_usage(usagetype, suffix, expected):
    assert matches_usage(usagetype, suffix) is expected


def test_usage_suffix_strips_only_the_template_regions_prefix():
    assert usage_suffix("EU-KMS-Keys", "eu-west-1") == "KMS-Keys"
    assert usage_suffix("KMS-Keys", "us-east-1") == "KMS-Keys"
    assert usage_suffix("USE1-Fargate-GB-Hours", "us-east-1") == "Fargate-GB-Hours"


def test_refresh_command_writes_the_table_and_reports_kept_rates(tmp_path, monkeypatch, capsys):
    client = OfferFileClient("AmazonECS", "AmazonEC2", "AmazonVPC")
    monkeypatch.setattr(prices_cli, "pricing_client", lambda: client)
    monkeypatch.setattr(prices_cli, "load_prices", lambda region: template("fargate_vcpu_hour.x86_64", "alb_hour"))
    monkeypatch.setattr(prices_cli, "table_path", lambda region: tmp_path / f"{region}.json")
    assert prices_cli.main(["refresh", "eu-west-1"]) == 4
    written = parse_table(json.loads((tmp_path / "eu-west-1.json").read_text()))
    assert written.rates["fargate_vcpu_hour.x86_64"].sku == "TESTFGVCPUEU0001"
    out, err = capsys.readouterr()
    assert out == f"wrote {tmp_path / 'eu-west-1.json'} (2 rates)\n"
    assert err == "  ! alb_hour: AWSELB LoadBalancerUsage in eu-west-1: no product; kept 0.0252 from the template\n"


def test_refresh_command_without_credentials_says_so(monkeypatch, capsys, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(prices_cli, "table_path", lambda region: tmp_path / f"{region}.json")
    assert prices_cli.main(["refresh", "eu-west-1"]) == 3
    assert capsys.readouterr().err == "prices: no AWS credentials; configure a profile or AWS_ACCESS_KEY_ID with pricing:GetProducts and run again\n"
    assert not (tmp_path / "eu-west-1.json").exists()
