# Image for the workers, beat and Flower (docker-compose.yml). SQL Server's ODBC driver is added by the
# deployer (Microsoft's msodbcsql18 package needs their apt repository and EULA acceptance).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends unixodbc && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md beat_schedule.py ./
COPY integration ./integration
COPY workers ./workers
RUN pip install --no-cache-dir .
USER nobody
