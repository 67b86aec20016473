# avatar-mock: the mock server on 0.0.0.0:8080 with the built-in default scenario.
#   docker build -t avatar-mock .
#   docker run -p 8080:8080 -e AVATAR_MOCK_ADMIN_TOKEN=change-me avatar-mock
# Bound to 0.0.0.0, the control API (/__mock/) demands "Authorization: Bearer $AVATAR_MOCK_ADMIN_TOKEN".
# On a trusted network, open it instead: docker run ... avatar-mock avatar-mock serve --host 0.0.0.0 --admin-open
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY mockserver ./mockserver
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . && useradd --system --no-create-home mock
USER mock

ENV AVATAR_MOCK_ADMIN_TOKEN=""
EXPOSE 8080
CMD ["avatar-mock", "serve", "--host", "0.0.0.0"]
