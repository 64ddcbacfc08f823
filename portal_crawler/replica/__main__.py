import sys

from portal_crawler.replica.serve import main

sys.exit(main())
