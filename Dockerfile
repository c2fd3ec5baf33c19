# One image for every service; docker-compose.yml picks the service with its command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
# /data holds the stream workers' RocksDB tables (a volume in docker-compose.yml).
RUN pip install --no-cache-dir . && useradd --system --uid 10001 retail && mkdir /data && chown retail /data
USER retail
ENV RETAIL_ENV=production
CMD ["python", "-m", "services.complaints"]
