# Chaxin API / worker image. See docs/docker.md.
FROM python:3.11-slim

# CHAXIN_SERVICES_DIR: a writable state dir (the settings default is relative to the
# installed package, i.e. inside site-packages, which the runtime user cannot write).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHAXIN_SERVICES_DIR=/var/lib/chaxin

# curl is used by the compose healthchecks; Pango/HarfBuzz and the fonts are for the 查新报告 PDF
# (WeasyPrint: Noto Serif CJK for 宋体, Liberation Serif for Times New Roman).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl ca-certificates \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer, so source edits do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (what is copied is governed by .dockerignore); data/ stays at /app/data.
COPY . .
RUN pip install . \
    && rm -rf build *.egg-info

RUN useradd --system --uid 10001 --create-home --home-dir /home/chaxin --shell /usr/sbin/nologin chaxin \
    && mkdir -p /var/lib/chaxin/exports \
    && chown -R chaxin:chaxin /var/lib/chaxin
USER chaxin

EXPOSE 8000
CMD ["chaxin", "serve", "--host", "0.0.0.0", "--port", "8000"]
