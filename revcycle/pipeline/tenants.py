"""Tenants and their billing providers: who a provider client is (NPIs, tax ids, names).

An NPI belongs to one tenant in the installation (the database holds it unique), so an NPI
on an 837 or an 835 names one tenant. A tax id may be shared by several NPIs of one tenant
(a group's practices); a tax id two tenants registered is ambiguous, and a look-up says so
instead of choosing. NPIs and tax ids are provider identifiers, not patient data: messages
may name them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.codesets import npi as npi_codes
from revcycle.codesets.errors import InvalidCode
from revcycle.db.models import BillingProvider, Tenant
from revcycle.pipeline.batches import check_tenant

_NAME_CHARS = 200  # the name columns' length
_ID_CHARS = 64  # Tenant.id's


class RegistryError(ValueError):
    """A tenant or billing provider that cannot be registered as asked."""


class InvalidProvider(RegistryError):
    """An NPI, tax id or name that is not well formed."""


class NpiTaken(RegistryError):
    """An NPI another tenant has registered: an NPI is one tenant's."""

    def __init__(self, npi: str, owner: str) -> None:
        super().__init__(f"NPI {npi} is already a billing provider of tenant {owner!r};"
                         " an NPI belongs to one tenant")
        self.npi = npi
        self.owner = owner


class UnknownTenant(RegistryError, LookupError):
    """A tenant id no tenant has."""

    def __init__(self, tenant: str) -> None:
        super().__init__(f"there is no tenant {tenant!r} (add it with: revcycle tenants add"
                         f" {tenant} --name NAME)")
        self.tenant = tenant


@dataclass(frozen=True, slots=True)
class TinMatch:
    """The tenants that registered a tax id: none, one, or several (ambiguous)."""

    tin: str
    tenants: tuple[str, ...]

    @property
    def tenant(self) -> str | None:
        """The tax id's tenant when exactly one tenant has it, else None."""
        return self.tenants[0] if len(self.tenants) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.tenants) > 1


def valid_npi(value: str) -> str:
    """The NPI as stored (digits only), or :class:`InvalidProvider` saying what is wrong."""
    try:
        return npi_codes.validate(value)
    except InvalidCode as exc:
        raise InvalidProvider(f"NPI {value.strip()!r}: {exc}") from None


def valid_tin(value: str) -> str:
    """A tax id (EIN ``12-3456789`` or SSN ``123-45-6789`` shaped) as nine digits."""
    digits = value.replace("-", "").replace(" ", "")
    if len(digits) != 9 or not (digits.isascii() and digits.isdigit()):
        raise InvalidProvider("a tax id (TIN) has nine digits (an EIN or an SSN)")
    return digits


def _valid_name(value: str, what: str) -> str:
    name = value.strip()
    if not name or len(name) > _NAME_CHARS:
        raise InvalidProvider(f"a {what} name has 1 to {_NAME_CHARS} characters")
    return name


def add_tenant(session: Session, tenant: str, name: str) -> bool:
    """Make the tenant, or give an existing one (ingest makes tenants named by their id)
    this display name; True when it was made. Not committed."""
    check_tenant(tenant)
    if not tenant or len(tenant) > _ID_CHARS or "/" in tenant or tenant != tenant.strip():
        raise RegistryError(f"a tenant id has 1 to {_ID_CHARS} characters, no '/' and no"
                            " surrounding spaces")
    name = _valid_name(name, "tenant")
    row = session.get(Tenant, tenant)
    if row is not None:
        row.name = name
        return False
    session.add(Tenant(id=tenant, name=name))
    session.flush()
    return True


def add_provider(session: Session, tenant: str, npi: str, tin: str,
                 name: str) -> BillingProvider:
    """Register a billing provider of an existing tenant. The same NPI again for the same
    tenant updates its tax id and name; another tenant's NPI is :class:`NpiTaken` (also
    when another session registered it meanwhile: the unique NPI refuses it, and this
    session's transaction is rolled back). Not committed."""
    check_tenant(tenant)
    npi, tin, name = valid_npi(npi), valid_tin(tin), _valid_name(name, "provider")
    if session.get(Tenant, tenant) is None:
        raise UnknownTenant(tenant)
    row = session.scalar(select(BillingProvider).where(BillingProvider.npi == npi))
    if row is not None and row.tenant_id != tenant:
        raise NpiTaken(npi, row.tenant_id)
    if row is None:
        row = BillingProvider(tenant_id=tenant, npi=npi, tin=tin, name=name)
        session.add(row)
    else:
        row.tin, row.name = tin, name
    try:
        session.flush()
    except IntegrityError:  # another session registered the NPI since the look
        session.rollback()
        owner = session.scalar(select(BillingProvider.tenant_id)
                               .where(BillingProvider.npi == npi))
        raise NpiTaken(npi, owner or "?") from None
    return row


def register_providers(session: Session, tenant: str,
                       providers: Iterable[tuple[str, str, str]]) -> list[NpiTaken]:
    """Make the tenant if missing (named by its id) and register each (NPI, tax id, name),
    idempotently: what the demo does for its simulated tenants. An NPI another tenant has
    stays that tenant's and is returned. Not committed."""
    if session.get(Tenant, tenant) is None:
        add_tenant(session, tenant, tenant)
    taken = []
    for npi, tin, name in providers:
        try:
            add_provider(session, tenant, npi, tin, name)
        except NpiTaken as exc:
            taken.append(exc)
    return taken


def providers_of(session: Session, tenant: str) -> list[BillingProvider]:
    return list(session.scalars(select(BillingProvider).where(
        BillingProvider.tenant_id == tenant).order_by(BillingProvider.npi)))


def registered_npis(session: Session, tenant: str) -> frozenset[str]:
    """The tenant's billing provider NPIs; empty when it has registered none."""
    return frozenset(session.scalars(select(BillingProvider.npi).where(
        BillingProvider.tenant_id == tenant)))


def tenant_of_npi(session: Session, npi: str) -> str | None:
    """The tenant an NPI belongs to, or None (unregistered, or not an NPI)."""
    return session.scalar(select(BillingProvider.tenant_id).where(
        BillingProvider.npi == npi_codes.compact(npi)))


def tenant_of_tin(session: Session, tin: str) -> TinMatch:
    """The tenants that registered a tax id (several: ambiguous, never guessed)."""
    digits = tin.replace("-", "").replace(" ", "")
    owners = session.scalars(select(BillingProvider.tenant_id).where(
        BillingProvider.tin == digits).distinct().order_by(BillingProvider.tenant_id))
    return TinMatch(digits, tuple(owners))


def describe(session: Session, tenant: str | None = None) -> list[dict[str, Any]]:
    """Every tenant (or one: :class:`UnknownTenant` if missing) with its billing providers,
    as the CLI shows them."""
    query = select(Tenant).order_by(Tenant.id)
    if tenant is not None:
        query = query.where(Tenant.id == tenant)
    rows = list(session.scalars(query))
    if tenant is not None and not rows:
        raise UnknownTenant(tenant)
    return [{"tenant": t.id, "name": t.name,
             "created_at": t.created_at.isoformat(" ", "seconds"),
             "providers": [{"npi": p.npi, "tin": p.tin, "name": p.name}
                           for p in providers_of(session, t.id)]}
            for t in rows]
