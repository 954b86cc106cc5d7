"""Scrapy settings of the crawler: polite by default, every value overridable (`proposals crawl --set`)."""

BOT_NAME = "proposal-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Who we are, and where a webmaster can read about us or tell us to stop.
PROPOSALS_CONTACT_URL = "https://github.com/proposal-archive/proposal-archive"
USER_AGENT = f"proposal-archive/0.1 (+{PROPOSALS_CONTACT_URL}; research archive of published proposals)"

# Politeness
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
COOKIES_ENABLED = True

# Robustness: retries with exponential backoff on 5xx and timeouts, bounded downloads.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
PROPOSALS_RETRY_BACKOFF = 2.0          # seconds before the first retry, doubled for each next one
PROPOSALS_RETRY_BACKOFF_MAX = 60.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = False      # a cut body reaches us flagged, and is counted as blocked
HTTPERROR_ALLOWED_CODES = [304, 403, 412, 521]  # answers the spider reads: not modified, blocked

# Blocks and challenges (412 Ruishu, 521 JiaSuLe, 访问过于频繁 pages): the host is backed off.
PROPOSALS_BLOCK_BACKOFF = 30.0         # seconds added to the host's delay after a block
PROPOSALS_BLOCK_BACKOFF_MAX = 300.0
PROPOSALS_BLOCK_RETRIES = 1            # a blocked page is asked once more after the backoff

# Incremental crawls
PROPOSALS_PAGE_SIZE = 15               # records per JPaaS list page
PROPOSALS_LIST_OVERLAP = 5             # archived records in a row that end a list walk
PROPOSALS_REVALIDATE_DAYS = 730        # records not final are revalidated until this age
PROPOSALS_BATCH = 50                   # records per archive transaction

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.BlockMiddleware": 560,
    "crawler.middlewares.DelayMiddleware": 990,
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
# No listening ports: no telnet console, no remote control server.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
CONCURRENT_ITEMS = 16
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
