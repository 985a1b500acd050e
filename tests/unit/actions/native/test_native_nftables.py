"""The pure part of the native nftables action: layout from options, elements, transaction scripts."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from banjail.actions.nftables import Layout, element, element_scripts, layout_from
from banjail.errors import ConfigError
from banjail.model import Ban

NOW = 1_000_000.0


def ban(ip: str | None, until: float | None = NOW + 600) -> Ban:
    return Ban("sshd", ip or "someone", ip, NOW, until, 1, 5)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "meta l4proto { tcp } th dport { ssh }"),
        (
            {"port": "ssh,1000:2000", "protocol": "tcp,udp"},
            "meta l4proto { tcp, udp } th dport { ssh, 1000-2000 }",
        ),
        ({"port": "http, https"}, "meta l4proto { tcp } th dport { http, https }"),
        ({"type": "allports"}, "meta l4proto { tcp }"),
        ({"type": "allports", "protocol": "all"}, ""),
    ],
)
def test_rule_match(options: dict[str, str], match: str) -> None:
    assert layout_from(options, "sshd").match == match


def test_start_script_for_a_jail() -> None:
    layout = layout_from({"name": "sshd", "blocktype": "drop"}, "sshd")
    assert layout.start_script() == (
        "add table inet banjail\n"
        "add chain inet banjail f2b-sshd { type filter hook input priority -1; policy accept; }\n"
        "flush chain inet banjail f2b-sshd\n"
        "add set inet banjail addr-set-sshd { type ipv4_addr; flags timeout; }\n"
        "add set inet banjail addr6-set-sshd { type ipv6_addr; flags timeout; }\n"
        "add set inet banjail net-set-sshd { type ipv4_addr; flags interval, timeout; }\n"
        "add set inet banjail net6-set-sshd { type ipv6_addr; flags interval, timeout; }\n"
        "add rule inet banjail f2b-sshd meta l4proto { tcp } th dport { ssh } ip saddr @addr-set-sshd drop\n"
        "add rule inet banjail f2b-sshd meta l4proto { tcp } th dport { ssh } ip6 saddr @addr6-set-sshd drop\n"
        "add rule inet banjail f2b-sshd meta l4proto { tcp } th dport { ssh } ip saddr @net-set-sshd drop\n"
        "add rule inet banjail f2b-sshd meta l4proto { tcp } th dport { ssh } ip6 saddr @net6-set-sshd drop\n"
    )
    # What runs beside every ban transaction is the same, less the table (see test_nft_native's repair tests).
    assert layout.structure_script() == layout.start_script().removeprefix("add table inet banjail\n")


def test_stop_script_is_valid_whatever_exists() -> None:
    layout = layout_from({"name": "web"}, "web", ipv6=False)
    assert layout.stop_script() == (
        "add table inet banjail\n"
        "add chain inet banjail f2b-web\n"
        "add set inet banjail addr-set-web { type ipv4_addr; flags timeout; }\n"
        "add set inet banjail net-set-web { type ipv4_addr; flags interval, timeout; }\n"
        "delete chain inet banjail f2b-web\n"
        "delete set inet banjail addr-set-web\n"
        "delete set inet banjail net-set-web\n"
    )


@pytest.mark.parametrize(
    ("option", "value", "fix"),
    [
        ("port", "22; flush ruleset", "ports, service names or ranges a:b separated by commas"),
        ("protocol", "tcp}", "protocol names such as tcp, udp, sctp separated by commas"),
        ("blocktype", "drop; add rule", "an nftables verdict such as reject or drop"),
        ("type", "oneport", "multiport or allports"),
        ("table", "bad name", "an nftables name: a letter, then letters, digits, _ . -"),
        ("chain_hook", "egress", "one of forward, input, output, postrouting, prerouting"),
        ("chain_priority", "high", "an integer"),
    ],
)
def test_bad_options_are_config_errors(option: str, value: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        layout_from({option: value}, "sshd")
    (problem,) = caught.value.problems
    assert (problem.option, problem.value, problem.fix) == (option, value, fix)
    assert str(problem) == f"[sshd action nftables] {option} = {value!r}: invalid value ({fix})"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (ban("10.0.0.1"), ("10.0.0.1", "10.0.0.1 timeout 600s")),
        (ban("10.0.0.1", NOW + 0.2), ("10.0.0.1", "10.0.0.1 timeout 1s")),  # rounded up, never 0
        (ban("10.0.0.1", None), ("10.0.0.1", "10.0.0.1")),  # permanent: no timeout
        (ban("10.0.0.1", NOW), None),  # over
        (ban("10.0.0.1", NOW - 5), None),
        (ban("2001:DB8::1"), ("2001:db8::1", "2001:db8::1 timeout 600s")),
        (ban("::ffff:10.1.2.3"), ("10.1.2.3", "10.1.2.3 timeout 600s")),
        (ban(None), None),
        (ban("10.0.0.0/24"), None),
        (ban("10.0.0.1, 10.0.0.2"), None),
        (ban("10.0.0.1 }"), None),
        (ban("256.1.1.1"), None),
    ],
)
def test_element(given: Ban, expected: tuple[str, str] | None) -> None:
    assert element(given, NOW) == expected


LAYOUT = Layout("banjail", "f2b-sshd", "s4", "s6", "", "reject")


def test_one_transaction_per_chunk_both_families() -> None:
    items = [("10.0.0.1", "10.0.0.1 timeout 5s"), ("::1", "::1 timeout 5s"), ("10.0.0.2", "10.0.0.2")]
    assert element_scripts(LAYOUT, items, "add") == [
        "add element inet banjail s4 { 10.0.0.1 timeout 5s, 10.0.0.2 }\n"
        "add element inet banjail s6 { ::1 timeout 5s }\n"
    ]
    assert element_scripts(LAYOUT, items, "add", chunk=2) == [
        "add element inet banjail s4 { 10.0.0.1 timeout 5s }\nadd element inet banjail s6 { ::1 timeout 5s }\n",
        "add element inet banjail s4 { 10.0.0.2 }\n",
    ]


def test_delete_and_refresh_tolerate_missing_elements() -> None:
    items = [("10.0.0.1", "10.0.0.1 timeout 9s")]
    assert element_scripts(LAYOUT, items, "delete") == [
        "add element inet banjail s4 { 10.0.0.1 }\ndelete element inet banjail s4 { 10.0.0.1 }\n"
    ]
    assert element_scripts(LAYOUT, items, "add", refresh=True) == [
        "add element inet banjail s4 { 10.0.0.1 }\ndelete element inet banjail s4 { 10.0.0.1 }\n"
        "add element inet banjail s4 { 10.0.0.1 timeout 9s }\n"
    ]


def test_net_script_rewrites_the_network_sets_whole() -> None:
    layout = layout_from({}, "sshd")
    nets = {ip_network("10.9.0.0/24"): NOW + 599.2, ip_network("2001:db8::/64"): None}
    assert layout.net_script(nets, NOW) == (
        "flush set inet banjail net-set-sshd\n"
        "add element inet banjail net-set-sshd { 10.9.0.0/24 timeout 600s }\n"
        "flush set inet banjail net6-set-sshd\n"
        "add element inet banjail net6-set-sshd { 2001:db8::/64 }\n"
    )
    assert (
        layout.net_script({}, NOW)
        == "flush set inet banjail net-set-sshd\nflush set inet banjail net6-set-sshd\n"
    )


def test_ipv6_elements_are_left_out_when_ipv6_is_off() -> None:
    layout = Layout("banjail", "c", "s4", "s6", "", "reject", ipv6=False)
    assert element_scripts(layout, [("::1", "::1")], "add") == []


def test_an_address_named_twice_goes_in_once_with_its_last_timeout() -> None:
    items = [
        ("10.0.0.1", "10.0.0.1 timeout 5s"),
        ("10.0.0.2", "10.0.0.2"),
        ("10.0.0.1", "10.0.0.1 timeout 9s"),
    ]
    assert element_scripts(LAYOUT, items, "add") == [
        "add element inet banjail s4 { 10.0.0.1 timeout 9s, 10.0.0.2 }\n"
    ]
    assert element_scripts(LAYOUT, items, "delete") == [
        "add element inet banjail s4 { 10.0.0.1, 10.0.0.2 }\ndelete element inet banjail s4 { 10.0.0.1, 10.0.0.2 }\n"
    ]
