# syntax=docker/dockerfile:1.7
#
# Every service image of the helpdesk, from one file: the build and the runtime base are the same
# for all of them (one uv workspace, one lock file, one unprivileged user), so they are written
# once. A service's image is the stage named after it; SERVICE says which workspace package the
# build stage installs. Build from the repository root, e.g.
#
#   docker build --build-arg SERVICE=sla-service --target sla-service \
#       -t helpdesk/sla-service:0.1.0 .
#
# (docker-compose.yml passes both for each image.) What differs per service -- its port, the
# HELPDESK_* defaults that make it listen in a container, its module and default command -- is in
# its own short stage at the end. The uv version below is the one the Makefile pins (UV_VERSION);
# tests/deploy checks they agree, and that each stage runs what the service's CLI accepts.

# The workspace package (services/<SERVICE>) the image is built from.
ARG SERVICE

# ---------------------------------------------------------------------------------------------
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim AS build
ARG SERVICE

COPY --from=uv /uv /uvx /bin/

# Compile bytecode at build time (the runtime root filesystem is read-only), copy instead of
# hard-linking from the cache mount, never download a Python: use the image's 3.11.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# 1. Third-party dependencies only. uv resolves the workspace from the root's member list, so
#    every member's pyproject.toml is copied (tests/deploy checks the list is complete). This layer
#    is rebuilt only when one of these files changes, not on every source edit.
COPY pyproject.toml uv.lock ./
COPY shared/events/pyproject.toml shared/events/
COPY shared/platform/pyproject.toml shared/platform/
COPY shared/conditions/pyproject.toml shared/conditions/
COPY services/ticket-service/pyproject.toml services/ticket-service/
COPY services/sla-service/pyproject.toml services/sla-service/
COPY services/assignment-service/pyproject.toml services/assignment-service/
COPY services/notification-service/pyproject.toml services/notification-service/
COPY services/api-gateway/pyproject.toml services/api-gateway/
COPY services/mail-gateway/pyproject.toml services/mail-gateway/
COPY tools/devstack/pyproject.toml tools/devstack/
RUN --mount=type=cache,target=/root/.cache/uv \
    test -n "${SERVICE}" && \
    uv sync --frozen --no-dev --no-install-workspace --package ${SERVICE}

# 2. The workspace packages the service is made of, installed as regular (non-editable) wheels so
#    that /app/.venv is self-contained and /src stays behind in this stage. uv installs only the
#    shared packages the service depends on.
COPY shared/events shared/events
COPY shared/platform shared/platform
COPY shared/conditions shared/conditions
COPY services/${SERVICE} services/${SERVICE}
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package ${SERVICE}

# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime
ARG SERVICE

# An unprivileged user with a fixed numeric id, so Kubernetes can verify runAsNonRoot. Its data
# directory is the one writable path of the image (the workers keep Faust's data there): a Docker
# named volume mounted there starts out owned by the service user (Docker copies the ownership of
# the image's directory into an empty volume); on Kubernetes an emptyDir or a claim is mounted.
RUN groupadd --system --gid 10001 helpdesk \
    && useradd --system --uid 10001 --gid helpdesk --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin helpdesk \
    && mkdir -p /var/lib/${SERVICE} \
    && chown 10001:10001 /var/lib/${SERVICE}

# Owned by root and not writable by the service user: the code cannot be changed at run time.
COPY --from=build /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app
USER 10001:10001

# ---------------------------------------------------------------------------------------------
# The services. Each stage checks at build time that the venv holds its module (a --target
# without the matching SERVICE fails here, not at run time). The HEALTHCHECK is liveness (slim
# has no curl); readiness (/readyz) is what docker-compose.yml and the Kubernetes probes check.

# serve (default): the HTTP API; relay: the outbox relay; migrate: the schema, then exits;
# sla-projector, commands: the consumers. Only `serve` has an HTTP port: docker-compose.yml
# disables this check for the others.
FROM runtime AS ticket-service
RUN ["python", "-c", "import ticket_service"]
ENV HELPDESK_HTTP_HOST=0.0.0.0 \
    HELPDESK_HTTP_PORT=8001 \
    HELPDESK_JWT_PUBLIC_KEY_FILE=/etc/helpdesk/jwt/public.pem
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HELPDESK_HTTP_PORT', '8001'), timeout=2)"]
ENTRYPOINT ["python", "-m", "ticket_service"]
CMD ["serve"]

# worker: the Faust worker timing every ticket's SLA, with its HTTP API (the policies API).
FROM runtime AS sla-service
RUN ["python", "-c", "import sla_service"]
ENV HELPDESK_SLA_HTTP_HOST=0.0.0.0 \
    HELPDESK_SLA_HTTP_PORT=8002 \
    HELPDESK_SLA_DATA_DIR=/var/lib/sla-service
EXPOSE 8002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HELPDESK_SLA_HTTP_PORT', '8002'), timeout=2)"]
ENTRYPOINT ["python", "-m", "sla_service"]
CMD ["worker"]

# worker: the Faust worker assigning tickets by their team's rules, with the /rules API.
FROM runtime AS assignment-service
RUN ["python", "-c", "import assignment_service"]
ENV HELPDESK_ASSIGNMENT_HTTP_HOST=0.0.0.0 \
    HELPDESK_ASSIGNMENT_HTTP_PORT=8003 \
    HELPDESK_ASSIGNMENT_DATA_DIR=/var/lib/assignment-service
EXPOSE 8003
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HELPDESK_ASSIGNMENT_HTTP_PORT', '8003'), timeout=2)"]
ENTRYPOINT ["python", "-m", "assignment_service"]
CMD ["worker"]

# serve: the HTTP API with the IMAP watchers, the tickets consumer and the SMTP send queue.
FROM runtime AS mail-gateway
RUN ["python", "-c", "import mail_gateway"]
ENV HELPDESK_MAIL_HTTP_HOST=0.0.0.0 \
    HELPDESK_MAIL_HTTP_PORT=8004
EXPOSE 8004
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HELPDESK_MAIL_HTTP_PORT', '8004'), timeout=2)"]
ENTRYPOINT ["python", "-m", "mail_gateway"]
CMD ["serve"]

# serve: the HTTP API (notifications, SSE, webhooks) with its consumer, sender and dispatcher;
# migrate: the schema, then exits.
FROM runtime AS notification-service
RUN ["python", "-c", "import notification_service"]
ENV HELPDESK_HTTP_HOST=0.0.0.0 \
    HELPDESK_HTTP_PORT=8005 \
    HELPDESK_JWT_PUBLIC_KEY_FILE=/etc/helpdesk/jwt/public.pem
EXPOSE 8005
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HELPDESK_HTTP_PORT', '8005'), timeout=2)"]
ENTRYPOINT ["python", "-m", "notification_service"]
CMD ["serve"]

# serve: the gateway; bootstrap-manager: migrates its schema, makes sure the first manager
# exists, exits. The built portals (web/dist) are mounted or copied to /app/web/dist.
FROM runtime AS api-gateway
RUN ["python", "-c", "import api_gateway"]
ENV HELPDESK_HTTP_HOST=0.0.0.0 \
    HELPDESK_HTTP_PORT=8080 \
    HELPDESK_JWT_PUBLIC_KEY_FILE=/etc/helpdesk/jwt/public.pem \
    HELPDESK_JWT_PRIVATE_KEY_FILE=/etc/helpdesk/jwt-signing/private.pem \
    HELPDESK_GATEWAY_WEB_DIR=/app/web/dist \
    HELPDESK_BOOTSTRAP_MANAGER_PASSWORD_FILE=/tmp/manager-password
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HELPDESK_HTTP_PORT', '8080'), timeout=2)"]
ENTRYPOINT ["python", "-m", "api_gateway"]
CMD ["serve"]
