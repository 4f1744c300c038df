"""Where documents come from, without Prefect: local files and folders (files), the
polite web fetcher (fetch), feed, sitemap and archive discovery (discover), the sources
file (config) and the plan of what one run fetches (web). The flows read from here."""
