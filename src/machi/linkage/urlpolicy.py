"""Where webhooks may go: the URL policy against server-side request forgery (SSRF).

A subscription's URL is typed by a municipality administrator, and the platform sends
to it from inside the data centre. Without a policy that reaches the platform's own
services (``http://127.0.0.1:<port>/``), the cloud metadata service
(``http://169.254.169.254/``) and the department networks of every municipality.

The rules (``webhook_target``):

* the scheme is ``https``; ``http`` only with ``MACHI_WEBHOOK_ALLOW_HTTP`` (the default
  under ``MACHI_DEBUG``: demos and tests);
* the host name is resolved **once**, and every address it resolves to must be allowed
  (one bad address refuses the URL: a resolver answering with several addresses must
  not get to choose later);
* allowed are global unicast addresses, and addresses inside a network of
  ``MACHI_WEBHOOK_ALLOWED_NETWORKS`` (the department systems' networks of the
  deployment; empty by default). Loopback, link-local, private (10/8, 172.16/12,
  192.168/16, fc00::/7), shared (100.64/10), reserved, documentation and other
  special-purpose addresses are refused unless allowlisted; unspecified, multicast and
  the metadata addresses (169.254.169.254, fd00:ec2::254) are refused always;
* an IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
  ``64:ff9b::/96``, 6to4 ``2002::/16``) is judged by the IPv4 address it carries.

The request then goes to the address found here (``WebhookTarget.address``), never to
the name: a second lookup could answer differently (DNS rebinding). The Host header
and the TLS server name and certificate check stay those of the URL's host name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., list]

#: Cloud instance metadata services: credentials of the machine itself. Never reachable,
#: whatever the allowlist says.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

#: What an administrator is told when a URL's address is not allowed. The addresses
#: themselves are not named: they are the platform's internal network map.
REFUSED_ADDRESS = (
    "この送信先には送信できません（内部のアドレスまたは許可されていないアドレスです）。"
)
REFUSED_SCHEME = "送信先 URL は https:// で始めてください。"


class WebhookUrlRefused(Exception):
    """The URL may not receive webhooks. ``message`` is for the administrator;
    ``detail`` (which address, why) for the operator log only."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class WebhookHostUnresolved(Exception):
    """The host name has no address (a connection failure like any other)."""


@dataclass(frozen=True)
class WebhookTarget:
    """A URL checked against the policy, with the one address to connect to."""

    scheme: str
    host: str  # as in the URL (lower case, no brackets): Host header and TLS server name
    port: int
    path: str  # path and query
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def allowed_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(getattr(settings, "MACHI_WEBHOOK_ALLOWED_NETWORKS", ())))


def http_allowed() -> bool:
    return bool(getattr(settings, "MACHI_WEBHOOK_ALLOW_HTTP", settings.DEBUG))


def _carried_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _single_problem(address: IPAddress, networks: Iterable[IPNetwork]) -> str | None:
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if any(address.version == net.version and address in net for net in networks):
        return None
    for kind in ("loopback", "link_local", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site_local"
    if not address.is_global:  # 100.64/10 and the other special-purpose blocks
        return "not_global"
    return None


def address_problem(
    address: IPAddress | str, *, networks: Iterable[IPNetwork] | None = None
) -> str | None:
    """Why ``address`` may not receive webhooks (a short reason), or ``None``."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0])
    networks = tuple(allowed_networks() if networks is None else networks)
    carried = _carried_ipv4(address)
    if carried is None:
        return _single_problem(address, networks)
    # The packets end at the IPv4 address carried: that is the one to judge.
    if problem := _single_problem(carried, networks):
        return f"{problem} (carried {carried})"
    return None


def _resolve(host: str, port: int, resolver: Resolver) -> list[str]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [str(literal)]
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise WebhookHostUnresolved(f"{host}: {error}") from error
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise WebhookHostUnresolved(f"{host}: no address")
    return addresses


def scheme_problem(url: str) -> str | None:
    """The administrator's message when the URL's scheme is not allowed here."""
    scheme = urlsplit(url).scheme
    if scheme == "https" or (scheme == "http" and http_allowed()):
        return None
    return REFUSED_SCHEME


def webhook_target(url: str, *, resolver: Resolver | None = None) -> WebhookTarget:
    """Check ``url`` (already well-formed: ``webhooks.url_problem``) against the policy
    and resolve its host, once. Raises ``WebhookUrlRefused`` or ``WebhookHostUnresolved``.
    """
    parts = urlsplit(url)
    if message := scheme_problem(url):
        raise WebhookUrlRefused(message, f"scheme {parts.scheme}")
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port, resolver or socket.getaddrinfo)
    networks = allowed_networks()
    for address in addresses:
        if problem := address_problem(address, networks=networks):
            raise WebhookUrlRefused(REFUSED_ADDRESS, f"{host} → {address}: {problem}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return WebhookTarget(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])
