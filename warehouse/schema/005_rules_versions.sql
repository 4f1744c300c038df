-- What shaped an article, so `reprocess` rebuilds exactly what is out of date.
-- raw_documents.rules_file: the site's own cleaning rules file the document was cleaned
-- with (the sources file's `rules`), NULL for the default rules; reprocess cleans it
-- again with the same file. enrich_version: the enrichment rules file's version
-- (transforms.rules.article_versions); NULL for members loaded before it was recorded,
-- which the next reprocess therefore rebuilds.
ALTER TABLE raw_documents ADD COLUMN rules_file VARCHAR;
ALTER TABLE articles ADD COLUMN enrich_version VARCHAR;
ALTER TABLE duplicates ADD COLUMN enrich_version VARCHAR;
