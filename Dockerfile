# Secure Base: `securebase run` as a non-root user. Settings come from the environment (see
# .env.example); the secret key from a file named by SECUREBASE_SECRET_KEY_FILE (compose.yaml).
# Every command here is one the test suite also runs (tests/test_deploy.py).

# -- build: the package and its dependencies, in a virtual environment ------------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY practice ./practice
COPY scheduler ./scheduler
COPY storage ./storage
COPY sandbox ./sandbox
RUN python -m venv /opt/securebase
RUN /opt/securebase/bin/pip install --no-cache-dir '.[postgres]'

# -- run: the slim image, the virtual environment, nothing else -------------------------------
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /home/securebase --create-home securebase
COPY --from=build /opt/securebase /opt/securebase
ENV PATH=/opt/securebase/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    MPLCONFIGDIR=/tmp/matplotlib
USER securebase
WORKDIR /home/securebase
EXPOSE 3000
# Liveness only (/healthz answers while the process runs), so an outage of Slack or the
# database never restarts every replica; /readyz is for a load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4)"]
CMD ["securebase", "run"]
