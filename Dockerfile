# One image for every service; docker-compose.yml picks the service with its command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
# /data holds the stream workers' RocksDB tables, /scrape Prometheus's scrape token, owned by the
# user Prometheus runs as (volumes in docker-compose.yml, which take these owners).
RUN pip install --no-cache-dir . && useradd --system --uid 10001 retail && mkdir /data /scrape \
    && chown retail /data && chown 65534:65534 /scrape
USER retail
ENV RETAIL_ENV=production
CMD ["python", "-m", "services.complaints"]
