# The web and worker image for docker-compose. The local stack (commerce/stack) is not used here:
# Temporal, Cassandra, Elasticsearch and PostgreSQL run as their own containers.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY commerce ./commerce
COPY cart ./cart
COPY checkout ./checkout
COPY orders ./orders
COPY fulfillment ./fulfillment
COPY inventory ./inventory
COPY identity ./identity
COPY api ./api
COPY templates ./templates
COPY manage.py ./
RUN pip install --no-cache-dir -c constraints.txt -e '.[postgres]'
RUN useradd --system --home /app shop && mkdir -p /app/.local && chown shop /app/.local
USER shop
EXPOSE 8000
CMD ["uvicorn", "commerce.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
