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
DOWNLOAD_FAIL_ON_DATALOSS = False      # a cut body reaches us flagged, and is asked again
HTTPERROR_ALLOWED_CODES = [304, 403, 412, 521]  # answers the spider reads: not modified, blocked

# Blocks and challenges (412 Ruishu, 521 JiaSuLe, 访问过于频繁 pages): a blocked page backs its host
# off once (the host's delay becomes at least the backoff, then halves back with every good
# answer) and is asked once more after the backoff. A cut body is retried like a dropped connection.
PROPOSALS_BLOCK_BACKOFF = 30.0         # seconds: the least delay of a host after one of its pages was blocked
PROPOSALS_BLOCK_BACKOFF_MAX = 300.0
PROPOSALS_BLOCK_RETRIES = 1            # a blocked page is asked once more after the backoff

# Incremental crawls (archive/crawls.py says the revalidation policy)
PROPOSALS_PAGE_SIZE = 15               # records per JPaaS list page
PROPOSALS_LIST_OVERLAP = 5             # archived records in a row that end a walk of a column walked whole before
PROPOSALS_REVALIDATE_DAYS = 730        # records not final are asked every crawl until this long without a change
PROPOSALS_REVALIDATE_CYCLE = 30        # every other archived page is asked again once in this many crawls
PROPOSALS_BATCH = 50                   # records per archive transaction
PROPOSALS_NOW = ""                     # the instant the crawl believes it starts at (ISO); empty: the clock

# Attached files (reply letters as PDF, DOCX, DOC, WPS): fetched with the pages, on the site's hosts
PROPOSALS_ATTACHMENTS = True           # False (proposals crawl --no-attachments): not fetched
PROPOSALS_ATTACHMENT_MAX_SIZE = ""     # bytes or 16MB, 500KB; empty: PROPOSALS_MAX_SIZE, else 16 MB

# Crawls shared by workers in one Redis (`proposals crawl --redis URL`, crawler/shared.py)
PROPOSALS_REDIS_KEY = "proposals"      # the crawl's key prefix: workers with the same one share a crawl
PROPOSALS_REDIS_IDLE = 60.0            # seconds the shared frontier stays empty before a worker stops
PROPOSALS_REDIS_HEARTBEAT = 15.0       # a worker silent this long is dead; its requests go back on the queue

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SiteGateMiddleware": 60,         # the site's hosts only; unreachable hosts given up
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.BlockMiddleware": 560,
    "crawler.middlewares.DelayMiddleware": 990,
}
EXTENSIONS = {"scrapy.extensions.throttle.AutoThrottle": None,
              "crawler.middlewares.SiteAutoThrottle": 0}  # AutoThrottle, with a site's own delay as its floor
SPIDER_MIDDLEWARES = {"crawler.middlewares.SpiderErrorsMiddleware": 950}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
# No listening ports: no telnet console, no remote control server.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
CONCURRENT_ITEMS = 16
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
