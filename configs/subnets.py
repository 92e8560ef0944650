"""Subnet CIDR allocation: a pure function the model checks and the network component share.

Each zone owns a fixed slot given by its letter (a=0, b=1, ...). Private subnets are carved
upwards from the start of the VPC CIDR, public ones downwards from its end, so adding or
removing a zone, or growing the count, never moves an existing subnet.
"""

from __future__ import annotations

import ipaddress
import string

TIERS = ("public", "private")


def zone_slot(zone: str) -> int:
    letter = zone[-1:]
    if letter not in string.ascii_lowercase:
        raise ValueError(f"{zone!r} does not end in a zone letter (a, b, c, ...)")
    return string.ascii_lowercase.index(letter)


def allocate_subnets(
    cidr: ipaddress.IPv4Network, zones: list[str], public_prefix: int, private_prefix: int
) -> dict[tuple[str, str], ipaddress.IPv4Network]:
    """(tier, zone) -> CIDR. Raises ValueError naming what does not fit and how to fix it."""
    prefixes = {"public": public_prefix, "private": private_prefix}
    for tier, prefix in prefixes.items():
        if prefix <= cidr.prefixlen:
            raise ValueError(
                f"a /{prefix} {tier} subnet does not fit inside the /{cidr.prefixlen} VPC; "
                f"use a prefix longer than {cidr.prefixlen}"
            )
    slots = {zone: zone_slot(zone) for zone in zones}
    highest = max(slots.values())
    result: dict[tuple[str, str], ipaddress.IPv4Network] = {}
    for tier, prefix in prefixes.items():
        blocks = 2 ** (prefix - cidr.prefixlen)
        if highest >= blocks:
            raise ValueError(
                f"{cidr} holds {blocks} /{prefix} {tier} subnets, but zone letter "
                f"{string.ascii_lowercase[highest]!r} needs slot {highest + 1}; use a longer prefix or a larger CIDR"
            )
        for zone, slot in slots.items():
            index = slot if tier == "private" else blocks - 1 - slot
            result[(tier, zone)] = _nth_subnet(cidr, prefix, index)
    publics = [net for (tier, _), net in result.items() if tier == "public"]
    privates = [net for (tier, _), net in result.items() if tier == "private"]
    clashes = [(pub, priv) for pub in publics for priv in privates if pub.overlaps(priv)]
    if clashes:
        pub, priv = clashes[0]
        raise ValueError(
            f"public subnet {pub} overlaps private subnet {priv} inside {cidr}; "
            "use smaller subnets (longer prefixes) or a larger CIDR"
        )
    return result


def _nth_subnet(cidr: ipaddress.IPv4Network, prefix: int, index: int) -> ipaddress.IPv4Network:
    size = 2 ** (32 - prefix)
    return ipaddress.IPv4Network((int(cidr.network_address) + index * size, prefix))


def assumed_zones(region: str, count: int) -> list[str]:
    """The zones validation assumes for `availability_zones: N`: the region's first N letters."""
    return [f"{region}{letter}" for letter in string.ascii_lowercase[:count]]
