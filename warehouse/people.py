"""The warehouse side of people: which person of a name each mention is (transforms/people.py decides)."""
from __future__ import annotations

import duckdb
import pyarrow as pa

from transforms.enrich import load_enrich_rules
from transforms.people import PeopleSettings, group_positions, split_posts
from warehouse.arrow import arrow_columns, registered
from warehouse.transaction import transaction

_PERSON = {"name": pa.string(), "position": pa.string(), "person": pa.string()}


def refresh_people(con: duckdb.DuckDBPyConnection, settings: PeopleSettings = PeopleSettings()) -> int:
    """Tell apart the people of every name that has a mention without a person yet; returns how many names."""
    rows = con.execute(
        "SELECT name, position, count(*) FROM people"
        " WHERE name IN (SELECT name FROM people WHERE person IS NULL) GROUP BY name, position ORDER BY name"
    ).fetchall()
    if not rows:
        return 0
    heads = load_enrich_rules().position_before
    by_name: dict[str, dict[str | None, int]] = {}
    for name, position, count in rows:
        by_name.setdefault(name, {})[position] = count
    labelled = []
    for name, positions in by_name.items():
        people = group_positions(positions, heads, settings)
        labels = _labels(name, positions, people, heads)
        labelled += [{"name": name, "position": position, "person": labels[people[position]]} for position in positions]
    with transaction(con), registered(con, batch_people=arrow_columns(_PERSON, labelled)):
        con.execute("UPDATE people SET person = b.person FROM batch_people b"
                    " WHERE people.name = b.name AND people.position IS NOT DISTINCT FROM b.position")
    return len(by_name)


def _labels(name: str, positions: dict[str | None, int], people: dict[str | None, int], heads) -> dict[int, str]:
    """The name alone for the one person of a name; else the name and each person's most stated post
    (one with a body before a bare one: "Thống đốc NHNN" rather than "Thống đốc")."""
    if len(set(people.values())) == 1:
        return {number: name for number in people.values()}
    best: dict[int, tuple] = {}
    for position, number in people.items():
        if position is None:
            continue
        rank = (any(post.body for post in split_posts(position, heads)), positions[position], position)
        if number not in best or rank > best[number]:
            best[number] = rank
    return {number: f"{name} ({best[number][2]})" if number in best else name for number in set(people.values())}
