# syntax=docker/dockerfile:1
# The one image recipe of CLIKOPRO: any service, or the gateway, named by a build argument.
# A service's image runs its web process by default; the same image runs its worker
# (`clikopro-<service> worker`) and its migrations (`clikopro-<service> migrate`): compose and
# Kubernetes only change the command. A fix here lands in every image.
#
# Build from the repository root:
#   docker build --build-arg SERVICE=missions -t clikopro/missions .
#   docker build --build-arg SERVICE=gateway --build-arg PROJECT_DIR=gateway --build-arg PORT=8080 \
#       -t clikopro/gateway .

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: wheels of the shared packages, the project and every dependency, pinned
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
ARG PROJECT_DIR=services/${SERVICE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
RUN test -n "${SERVICE}" || (echo "build with --build-arg SERVICE=<service>" >&2 && exit 1)
COPY constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip install -c constraints.txt pip setuptools wheel
# The shared packages first: this layer is the same for every image, so it is built once.
COPY shared/contracts shared/contracts
COPY shared/chassis shared/chassis
COPY shared/textguard shared/textguard
# The chassis with its OTLP exporter: traces leave the process when OTEL_EXPORTER_OTLP_ENDPOINT is set.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip wheel --no-build-isolation --prefer-binary -c constraints.txt --wheel-dir /wheels \
        ./shared/contracts "./shared/chassis[otlp]" ./shared/textguard
COPY ${PROJECT_DIR} ${PROJECT_DIR}
# Naming the shared packages by path again makes pip take them from here, never from an index.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip wheel --no-build-isolation --prefer-binary -c constraints.txt --wheel-dir /wheels \
        --find-links /wheels ./shared/contracts "./shared/chassis[otlp]" ./shared/textguard ./${PROJECT_DIR}
# Refuse a dependency that constraints.txt does not pin: the image would get whatever is newest.
RUN python -c "import pathlib, re, sys; \
key = lambda name: re.sub(r'[-_.]+', '-', name).lower(); \
pinned = {key(re.split(r'[=<>!~;\s\[]', l.strip(), maxsplit=1)[0]) for l in open('constraints.txt') if l.strip() and not l.startswith('#')}; \
built = {key(w.name.split('-')[0]) for w in pathlib.Path('/wheels').glob('*.whl')}; \
loose = sorted(n for n in built - pinned if not n.startswith('clikopro-')); \
sys.exit(f'constraints.txt does not pin: {loose}' if loose else 0)"

# ---- runtime: the wheels installed, nothing else (no compiler, no sources, no pip cache)
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
ARG PORT=8000
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    WEB_CONCURRENCY=2 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    CLIKOPRO_SERVICE=${SERVICE} \
    CLIKOPRO_PORT=${PORT}
# gunicorn reads WEB_CONCURRENCY (its worker count). Its workers share metrics through
# PROMETHEUS_MULTIPROC_DIR; compose mounts a fresh tmpfs there so no stale file survives a restart.
RUN groupadd --system --gid 10001 clikopro \
    && useradd --system --uid 10001 --gid clikopro --create-home --home-dir /home/clikopro \
        --shell /usr/sbin/nologin clikopro \
    && install -d -o clikopro -g clikopro -m 0700 /tmp/prometheus
# Only the wheels (the project and its dependencies, at the versions of constraints.txt): no index.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=constraints.txt,target=/tmp/constraints.txt \
    python -m pip install --no-index --find-links /wheels -c /tmp/constraints.txt \
        "clikopro-${SERVICE}" "clikopro-chassis[otlp]" \
    && python -m pip check \
    && python -c "import importlib.util as u, sys; \
from clikopro_chassis.web.gunicorn_conf import app_for; \
sys.exit(u.find_spec(app_for('${SERVICE}').split(':')[0]) is None)"
WORKDIR /home/clikopro
USER 10001:10001
EXPOSE ${PORT}
# Liveness only (/health); /ready also checks the database and the broker.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$CLIKOPRO_PORT/health', timeout=4)"
# gunicorn's settings (ASGI worker, bind on CLIKOPRO_PORT, keep-alive, no access log) and the app
# (clikopro_<service>.entrypoints.web:app) are in clikopro_chassis/web/gunicorn_conf.py.
CMD ["gunicorn", "--config", "python:clikopro_chassis.web.gunicorn_conf"]
