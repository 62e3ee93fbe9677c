"""The HTTP side of a service: connexion app factory, middleware, problems, health."""

import warnings

# connexion imports starlette's TestClient at import time, which warns about httpx on
# every process start; it is nothing a running service can act on.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
