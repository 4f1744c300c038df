"""`tinbai serve`: the sources file's schedules as Prefect deployments, run by this process.

The Prefect server keeps the schedules and creates a flow run at each tick; `prefect.serve`
polls the server and runs each flow run in a subprocess of this one. The same deployments
take runs started by hand, with other parameters:
`prefect deployment run 'ingest/ingest-sources' --param refetch=true`.

Deployments, from the sources file (see docs/sources.example.toml):
    ingest/ingest-sources        every site; on [schedules] ingest, else only when started by hand
    ingest/site-<name>           one site, on its own `schedule`
    backfill/backfill-sources    never scheduled: started by hand with since and until
    revisit/revisit-sources      on [schedules] revisit, else only when started by hand
    reprocess/reprocess-nightly  on [schedules] reprocess
"""
from __future__ import annotations

from prefect import serve as prefect_serve
from prefect.client.orchestration import get_client
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Schedule
from prefect.settings import get_current_settings

from transforms.errors import TinbaiError
from sources.config import ConfigError, SourcesConfig
from flows.ingest import backfill, ingest, revisit
from warehouse.location import resolve_path

TAGS = ["tinbai"]
NEEDS_SERVER = ("tinbai serve needs a Prefect server: run 'prefect server start' and set "
                "PREFECT_API_URL=http://127.0.0.1:4200/api")


class ServeError(TinbaiError, RuntimeError):
    """`tinbai serve` cannot start: no Prefect API keeps the schedules (ephemeral mode cannot). One line."""


def deployments(config: SourcesConfig, db: str | None, *, allow_private: bool = False) -> list[RunnerDeployment]:
    """The deployments `serve` runs, with absolute paths in their parameters.

    ingest/ingest-sources is built even without a schedule: it is the target of manual runs.
    allow_private lets the ingest runs fetch from private and loopback addresses.
    """
    sources = str(config.path.resolve())
    # Resolved now, so every run, whatever starts it, writes the warehouse shown here.
    database = str(resolve_path(db).resolve())
    fetching = {"allow_private": True} if allow_private else {}
    built = [ingest.to_deployment(
        name="ingest-sources",
        schedules=_schedules(config, "schedules: 'ingest'", config.schedules.ingest),
        parameters={"sources": sources, "db": database, **fetching},
        tags=TAGS, description=f"Every site of {sources} into {database}.",
    )]
    built.append(backfill.to_deployment(
        name="backfill-sources", parameters={"sources": sources, "db": database, **fetching}, tags=TAGS,
        description=f"What the sitemaps of {sources} list for a period (give since and until) into {database}.",
    ))
    built.append(revisit.to_deployment(
        name="revisit-sources",
        schedules=_schedules(config, "schedules: 'revisit'", config.schedules.revisit),
        parameters={"sources": sources, "db": database, **fetching}, tags=TAGS,
        description=f"Stored pages of {sources} in {database} checked again for edits and takedowns.",
    ))
    for site in config.sites:
        if site.schedule:
            built.append(ingest.to_deployment(
                name=f"site-{site.name}",
                schedules=_schedules(config, f"site '{site.name}': 'schedule'", site.schedule),
                parameters={"sources": sources, "sites": [site.name], "db": database, **fetching},
                tags=TAGS, description=f"The site '{site.name}' of {sources} into {database}.",
            ))
    if config.schedules.reprocess:
        # Only imported when scheduled: serving the ingest deployments does not need it.
        from flows.reprocess import reprocess

        built.append(reprocess.to_deployment(
            name="reprocess-nightly",
            schedules=_schedules(config, "schedules: 'reprocess'", config.schedules.reprocess),
            parameters={"db": database, "sources": sources},  # the sites' rules files, as the file names them
            tags=TAGS, description=f"The documents stored in {database} again, with the current transforms.",
        ))
    return built


def serve(config: SourcesConfig, db: str | None, limit: int | None = None, *, allow_private: bool = False) -> None:
    """Serve the deployments until interrupted; `limit` caps the flow runs at once (Prefect's default if None).

    ServeError when PREFECT_API_URL is unset or nothing answers there; ConfigError for a
    cron string Prefect refuses.
    """
    served = deployments(config, db, allow_private=allow_private)
    require_prefect_server()
    prefect_serve(*served, limit=limit)


def require_prefect_server() -> None:
    url = get_current_settings().api.url
    if not url:
        raise ServeError(NEEDS_SERVER)
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ServeError(f"no Prefect server answers at PREFECT_API_URL={url} ({problem}); {NEEDS_SERVER}")


def _schedules(config: SourcesConfig, key: str, cron: str | None) -> list[Schedule]:
    if cron is None:
        return []
    try:
        return [Cron(cron, timezone=config.schedules.timezone)]
    except ValueError as error:  # a shape the sources check lets through, e.g. "0 0 * * 5L"
        raise ConfigError(f"{config.path}: {key}: {error}") from None
