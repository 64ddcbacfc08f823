"""`python -m portal_crawler.writer`: the archive writer process (the crawl starts it)."""

from portal_crawler.writer.loop import main

main()
