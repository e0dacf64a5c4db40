"""python -m service [--server.port 8501 --server.address 127.0.0.1 ...]: the dashboard server."""

import sys

from service.server import main

if __name__ == "__main__":
    sys.exit(main())
