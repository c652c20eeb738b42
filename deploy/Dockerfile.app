# The gateway and the action server (one image, two commands): Python 3.11 with the project.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml ./
COPY config config
COPY common common
COPY db db
COPY kb kb
COPY gateway gateway
COPY assist_api assist_api
COPY actions actions
COPY stack stack
# The runtime only: no torch, sentence-transformers or matplotlib (the `train` and `bench`
# extras); search reads the shipped embedding model with tokenizers and numpy.
RUN pip install --no-cache-dir .
ENV PYTHONPATH=/app PYTHONUNBUFFERED=1 CS_LOG_FORMAT=json
# Trains the ticket classifier into the image (var/assist), so replicas never race to do it.
RUN python -m assist_api.assist
EXPOSE 8000 5055
CMD ["python", "-m", "assist_api"]
