"""The rules an article was made with stay its rules: a site's own cleaning rules survive
`reprocess`, and a changed enrichment rule makes `reprocess` rebuild what it shaped.

A real site on 127.0.0.1 (a port that is not 80: the site's rules must still be found),
real Prefect runs, a real DuckDB file.
"""
from __future__ import annotations

import duckdb
import pytest

from conftest import SEEDS, article_page, rows
from flows.ingest import ingest
from flows.reprocess import reprocess
from transforms import enrich
from transforms.clean import CLEANING_RULES_PATH

pytestmark = pytest.mark.usefixtures("prefect_server")

SPONSOR = "Nội dung được tài trợ bởi Công ty Cổ phần Thử Nghiệm An Khang."
BODY = [
    "Sáng 12/3, Ủy ban nhân dân thành phố Hà Nội tổ chức hội nghị tổng kết công tác phòng chống thiên tai năm"
    " qua và triển khai nhiệm vụ trong năm nay, với sự tham dự của lãnh đạo các sở, ngành và quận, huyện.",
    SPONSOR,
    "Theo báo cáo, trong năm qua thành phố đã chủ động ứng phó với nhiều đợt mưa lớn, bảo đảm an toàn cho người"
    " dân và hạn chế tới mức thấp nhất thiệt hại về tài sản, hạ tầng giao thông và sản xuất nông nghiệp.",
]


@pytest.fixture
def ruled_site(httpserver, tmp_path):
    """A site whose sources-file entry names a rules file that drops its sponsor line."""
    base = httpserver.url_for("").rstrip("/")
    assert not base.endswith((":80", ":443"))
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/rss.xml").respond_with_data(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Tin</title><link>{base}/</link>'
        f"<item><link>{base}/tin/mot.html</link></item></channel></rss>",
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/tin/mot.html").respond_with_data(
        article_page("Hà Nội tổng kết công tác phòng chống thiên tai", BODY), content_type="text/html; charset=utf-8")
    rules = tmp_path / "site-rules.toml"
    rules.write_text(
        CLEANING_RULES_PATH.read_text(encoding="utf-8")
        + "\n[[line]]\nkind = \"sponsor\"\npattern = '^nội dung được tài trợ bởi .*'\naction = \"drop\"\n",
        encoding="utf-8",
    )
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[site]]\nname = "thu-nghiem"\nfeeds = ["{base}/rss.xml"]\nrules = "{rules.name}"\n',
                       encoding="utf-8")
    return sources, rules


def article_rows(db) -> list[tuple]:
    return rows(db, "SELECT article_id, text, cleaner_version, enrich_version FROM articles ORDER BY source")


def test_a_site_ruled_article_survives_reprocess_unchanged(ruled_site, db):
    sources, rules = ruled_site
    ingest(sources=str(sources), db=str(db), allow_private=True, workers=1)
    [(_, text, _, _)] = before = article_rows(db)
    assert SPONSOR not in text and BODY[0] in text  # ingest cleaned it with the site's rules
    assert rows(db, "SELECT rules_file FROM raw_documents") == [(str(rules),)]

    assert reprocess(db=str(db), workers=1).read == 0  # nothing is out of date
    rebuilt = reprocess(db=str(db), all_versions=True, workers=1)
    assert (rebuilt.read, rebuilt.loaded, rebuilt.unchanged) == (1, 0, 1)
    assert article_rows(db) == before  # cleaned again with the same rules: the sponsor line stays out

    rules.write_text(rules.read_text(encoding="utf-8").replace("tài trợ bởi", "quảng cáo bởi"), encoding="utf-8")
    changed = reprocess(db=str(db), workers=1)  # the site's rules changed: its article is rebuilt with them
    assert (changed.read, changed.loaded) == (1, 1)
    [(_, text, cleaner_version, _)] = article_rows(db)
    assert SPONSOR in text and cleaner_version != before[0][2]


def test_a_stored_documents_rules_file_that_is_gone_stops_reprocess(ruled_site, db):
    sources, rules = ruled_site
    ingest(sources=str(sources), db=str(db), allow_private=True, workers=1)
    before = article_rows(db)
    rules.unlink()
    with pytest.raises(Exception, match="cannot be read now.*site-rules.toml"):
        reprocess(db=str(db), all_versions=True, workers=1)
    assert article_rows(db) == before
    assert rows(db, "SELECT status FROM runs WHERE flow = 'reprocess'") == [("failed",)]


def test_a_changed_enrichment_rule_makes_reprocess_rebuild_its_articles(db, tmp_path, monkeypatch):
    ingest(paths=[str(SEEDS)], db=str(db), workers=1)
    assert rows(db, "SELECT count(*) FROM document_refs WHERE kind = 'Chỉ thị'")[0][0] > 0
    assert reprocess(db=str(db), workers=1).read == 0
    old_version = {version for (*_, version) in article_rows(db)}

    edited = tmp_path / "enrich.toml"
    text = enrich.ENRICH_RULES_PATH.read_text(encoding="utf-8")
    directive = '[[refs.kind]]\nnames = ["Chỉ thị"]\nbare_number = "any"\nlowercase_bare = true\n'
    assert directive in text
    edited.write_text(text.replace(directive, ""), encoding="utf-8")  # directives are no longer cited documents
    monkeypatch.setattr(enrich, "ENRICH_RULES_PATH", edited)

    summary = reprocess(db=str(db), workers=1)
    assert summary.read == 5 and summary.rejected == 0
    assert rows(db, "SELECT count(*) FROM document_refs WHERE kind = 'Chỉ thị'")[0][0] == 0
    new_version = {version for (*_, version) in article_rows(db)}
    assert len(new_version) == 1 and new_version != old_version
    assert reprocess(db=str(db), workers=1).read == 0  # and now they are current


def test_reprocess_with_the_sources_file_gives_stored_pages_their_sites_rules(ruled_site, db):
    sources, rules = ruled_site
    ingest(sources=str(sources), db=str(db), allow_private=True, workers=1)
    con = duckdb.connect(str(db))
    try:  # what a warehouse loaded before rules files were recorded holds
        con.execute("UPDATE raw_documents SET rules_file = NULL")
    finally:
        con.close()
    reprocess(db=str(db), all_versions=True, workers=1)
    [(_, text, _, _)] = article_rows(db)
    assert SPONSOR in text  # without a record, the default rules

    moved = rules.rename(rules.with_name("moved-rules.toml"))  # and the site's rules file has moved since
    sources.write_text(sources.read_text(encoding="utf-8").replace(rules.name, moved.name), encoding="utf-8")
    summary = reprocess(db=str(db), sources=str(sources), workers=1)
    assert (summary.read, summary.loaded) == (1, 1)
    [(_, text, _, _)] = article_rows(db)
    assert SPONSOR not in text
    assert rows(db, "SELECT rules_file FROM raw_documents") == [(str(moved),)]
    assert reprocess(db=str(db), sources=str(sources), workers=1).read == 0


def test_site_host_and_sources_site_answer_three_questions(ruled_site, db):
    sources, _ = ruled_site
    ingest(sources=str(sources), db=str(db), allow_private=True, workers=1)
    [(site, host, sources_site)] = rows(db, "SELECT site, host, sources_site FROM articles")
    # the page names no outlet: its sources-file site does, never the address and port
    assert (site, sources_site) == ("thu-nghiem", "thu-nghiem") and host.split(":")[1].isdigit()
    assert reprocess(db=str(db), all_versions=True, site="thu-nghiem", workers=1).read == 1  # --site as in backfill
