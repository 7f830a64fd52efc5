"""The partner API (`/api/v1/`), on django-ninja: bearer tokens of identity's tokens page, scopes,
a rate limit per token, JSON errors. It calls services only (import-linter checks)."""
