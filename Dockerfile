# One image for every service; docker-compose.yml picks the service with its command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
RUN pip install --no-cache-dir . && useradd --system --uid 10001 retail
USER retail
ENV RETAIL_ENV=production
CMD ["python", "-m", "services.complaints"]
