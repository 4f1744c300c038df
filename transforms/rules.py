"""The rules an article is made with, and the versions they stamp on it.

`Rules` is the settings object of the transforms (as trafilatura passes its `Extractor`
options): every stage that reads a rule gets it from here, passed in, never loaded as a
default inside the stage. A document fetched for a site with its own cleaning rules (the
sources file's `rules`) carries that file's path (`RawDocument.rules_file`, stored in
`raw_documents.rules_file`), so `reprocess` cleans it again with the same file.

`article_versions` is the one owner of "what shaped this article": an article is out of
date exactly when the versions stored with it differ from what this function gives now.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transforms import clean, enrich, html
from transforms.clean import CleaningRules
from transforms.enrich import EnrichRules


@dataclass(frozen=True)
class Rules:
    cleaning: CleaningRules  # boilerplate patterns and thresholds (rules/boilerplate.toml, or a site's file)
    enrichment: EnrichRules  # document references and people (rules/enrich.toml)


@dataclass(frozen=True)
class ArticleVersions:
    extractor: str  # of the HTML extractor (trafilatura); for text dumps and records, the cleaning rules'
    cleaner: str  # of the cleaning rules file
    enrichment: str  # of the enrichment rules file


def rules_for(rules_file: str | None) -> Rules:
    """The rules of a document: a site's own cleaning rules file, else the default one. RulesError if unusable."""
    cleaning = Path(rules_file) if rules_file else clean.CLEANING_RULES_PATH
    return Rules(clean.load_cleaning_rules(cleaning), enrich.load_enrich_rules(enrich.ENRICH_RULES_PATH))


def article_versions(format_: str, rules: Rules) -> ArticleVersions:
    """The versions an article of this format made with these rules carries."""
    extractor = html.EXTRACTOR_VERSION if format_ == "html" else rules.cleaning.version
    return ArticleVersions(extractor, rules.cleaning.version, rules.enrichment.version)
