"""PortSentry's history file: 'EPOCH - MM/DD/YYYY HH:MM:SS Host: NAME/A Port: N TCP Blocked'. NAME is the
reverse-DNS name of the address (the PTR zone's owner chooses it; the resolver admits host-name characters
only)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, dns_name

NAME = Field("name", dns_name, "scanner.example.net", "PTR name of the address", names_only=True)

SERVICE = Service(
    filter="portsentry",
    daemon="portsentry",
    prefixes=(BARE,),
    templates=(
        Template("tcp", "1795596255 - 11/25/2026 08:44:15 Host: {name}/{A} Port: 1 TCP Blocked", (NAME,)),
        Template("udp", "1795596255 - 11/25/2026 08:44:15 Host: {name}/{A} Port: 137 UDP Blocked", (NAME,)),
    ),
)
