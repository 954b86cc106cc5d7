"""proposal-archive's crawler: Scrapy spiders for county disclosure sites, and their pure parsers."""
