"""What runs inside the Scrapy process: turning responses into exchanges, the hand-off, one run."""
