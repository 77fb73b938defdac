"""Tenants and their billing providers: an NPI is one tenant's, a tax id may be ambiguous."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from revcycle.db import MIGRATIONS, make_engine, upgrade
from revcycle.db.models import BillingProvider, Tenant
from revcycle.pipeline.batches import TenantError, ensure_batch
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.tenants import (
    InvalidProvider,
    NpiTaken,
    RegistryError,
    UnknownTenant,
    add_provider,
    add_tenant,
    describe,
    providers_of,
    register_providers,
    registered_npis,
    tenant_of_npi,
    tenant_of_tin,
)
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

NPI_A, NPI_B, NPI_C = "1234567893", "1245319599", "1003000126"
EIN = "12-3456789"


def _two_tenants(res: Resources) -> None:
    with res.sessions() as session:
        add_tenant(session, "northside", "Northside Clinic")
        add_tenant(session, "lakeview", "Lakeview Health")
        add_provider(session, "northside", NPI_A, EIN, "NORTHSIDE FAMILY MEDICINE")
        add_provider(session, "northside", NPI_B, "123456789", "NORTHSIDE HOSPITAL")
        session.commit()


def test_an_npi_finds_its_one_tenant_and_a_tin_its_tenants(res: Resources) -> None:
    _two_tenants(res)
    with res.sessions() as session:
        assert tenant_of_npi(session, NPI_A) == "northside"
        assert tenant_of_npi(session, "1234-567-893") == "northside"  # as people type it
        assert tenant_of_npi(session, NPI_C) is None
        shared = tenant_of_tin(session, EIN)  # both of northside's NPIs: one tenant
        assert (shared.tin, shared.tenants, shared.tenant, shared.ambiguous) == (
            "123456789", ("northside",), "northside", False)
        assert tenant_of_tin(session, "987654321").tenant is None
        assert registered_npis(session, "northside") == {NPI_A, NPI_B}
        assert registered_npis(session, "lakeview") == frozenset()
        assert [p.npi for p in providers_of(session, "northside")] == [NPI_A, NPI_B]


def test_a_tin_two_tenants_registered_is_ambiguous_not_guessed(res: Resources) -> None:
    _two_tenants(res)
    with res.sessions() as session:
        add_provider(session, "lakeview", NPI_C, EIN, "LAKEVIEW GROUP")
        session.commit()
        match = tenant_of_tin(session, EIN)
    assert match.tenants == ("lakeview", "northside")
    assert match.ambiguous and match.tenant is None


def test_another_tenants_npi_is_refused_naming_its_owner(res: Resources) -> None:
    _two_tenants(res)
    with res.sessions() as session, pytest.raises(NpiTaken) as caught:
        add_provider(session, "lakeview", NPI_A, "987654321", "LAKEVIEW GROUP")
    assert (caught.value.npi, caught.value.owner) == (NPI_A, "northside")
    assert "NPI 1234567893 is already a billing provider of tenant 'northside'" in str(
        caught.value)
    with res.sessions() as session:
        assert tenant_of_npi(session, NPI_A) == "northside"


def test_the_same_npi_again_updates_it_and_registering_twice_adds_nothing(
        res: Resources) -> None:
    _two_tenants(res)
    with res.sessions() as session:
        add_provider(session, "northside", NPI_A, "111-22-3333", "NORTHSIDE FM")
        assert register_providers(session, "northside",
                                  [(NPI_B, "123456789", "NORTHSIDE HOSPITAL")]) == []
        session.commit()
        rows = [(p.npi, p.tin, p.name) for p in providers_of(session, "northside")]
    assert rows == [(NPI_A, "111223333", "NORTHSIDE FM"),
                    (NPI_B, "123456789", "NORTHSIDE HOSPITAL")]


def test_registering_makes_the_tenant_and_leaves_another_tenants_npi(res: Resources) -> None:
    _two_tenants(res)
    with res.sessions() as session:
        taken = register_providers(session, "riverbend", [(NPI_C, EIN, "RIVERBEND"),
                                                          (NPI_A, EIN, "RIVERBEND TOO")])
        session.commit()
        assert [(t.npi, t.owner) for t in taken] == [(NPI_A, "northside")]
        assert session.get_one(Tenant, "riverbend").name == "riverbend"
        assert registered_npis(session, "riverbend") == {NPI_C}


@pytest.mark.parametrize(("npi", "tin", "name", "says"), [
    ("1234567894", EIN, "X", "check digit is wrong"),
    ("123456789", EIN, "X", "10 digits"),
    (NPI_A, "12345678", "X", "nine digits"),
    (NPI_A, "12-345678A", "X", "nine digits"),
    (NPI_A, EIN, "  ", "1 to 200 characters"),
])
def test_malformed_providers_are_refused_saying_why(res: Resources, npi: str, tin: str,
                                                    name: str, says: str) -> None:
    _two_tenants(res)
    with res.sessions() as session, pytest.raises(InvalidProvider, match=says):
        add_provider(session, "lakeview", npi, tin, name)


def test_tenant_ids_the_installation_cannot_use_are_refused(res: Resources) -> None:
    with res.sessions() as session:
        with pytest.raises(TenantError, match="reserved"):
            add_tenant(session, "_all", "Everyone")
        with pytest.raises(TenantError, match="reserved"):
            add_provider(session, "_all", NPI_A, EIN, "X")
        with pytest.raises(RegistryError, match="no '/'"):
            add_tenant(session, "a/b", "Slash")
        with pytest.raises(UnknownTenant, match="revcycle tenants add nobody"):
            add_provider(session, "nobody", NPI_A, EIN, "X")
        assert session.scalars(select(Tenant)).all() == []


def test_adding_a_tenant_ingest_made_gives_it_its_name(res: Resources) -> None:
    with res.sessions() as session:
        ensure_batch(session, "northside", DAY)  # as ingest makes it: named by its id
        assert add_tenant(session, "northside", "Northside Clinic") is False
        session.commit()
        (shown,) = describe(session)
        assert (shown["tenant"], shown["name"], shown["providers"]) == (
            "northside", "Northside Clinic", [])
        with pytest.raises(UnknownTenant):
            describe(session, "lakeview")


def test_the_database_holds_an_npi_unique_whatever_the_code_does(res: Resources) -> None:
    _two_tenants(res)
    with res.sessions() as session:
        session.add(BillingProvider(tenant_id="lakeview", npi=NPI_A, tin="987654321",
                                    name="LAKEVIEW"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_migration_0014_goes_down_and_up(res: Resources, tmp_path: Path) -> None:
    """Its downgrade drops the table and its upgrade makes it again (on a scratch SQLite
    file for the SQLite case; PostgreSQL's own migrated database is the fixture's)."""
    engine = res.engine if res.engine.dialect.name == "postgresql" else make_engine(
        f"sqlite:///{tmp_path / 'down.db'}")
    upgrade(engine)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    assert "billing_providers" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "billing_providers" in inspect(engine).get_table_names()
    if engine is not res.engine:
        engine.dispose()
