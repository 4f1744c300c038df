-- Three answers to "which site": `site` is the outlet's name (what the page declares, else
-- the sources file's site, else a domain name), `host` the URL's host (port kept, no
-- "www."), `sources_site` the name of the sources file's [[site]] the page was fetched for,
-- which `--site` means in backfill and reprocess alike. Members loaded before these
-- columns have them NULL until they are rebuilt.
ALTER TABLE raw_documents ADD COLUMN sources_site VARCHAR;
ALTER TABLE articles ADD COLUMN host VARCHAR;
ALTER TABLE articles ADD COLUMN sources_site VARCHAR;
ALTER TABLE duplicates ADD COLUMN host VARCHAR;
ALTER TABLE duplicates ADD COLUMN sources_site VARCHAR;
